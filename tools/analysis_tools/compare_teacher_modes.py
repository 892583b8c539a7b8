"""A Pix2Pix teacher in its three modes: FID/KID and where its attention falls.

    python tools/analysis_tools/compare_teacher_modes.py CONFIG CHECKPOINT [--num-images 106]
        [--batch-size 4] [--layer model.model.1.model.0] [--k 64] [--cfg-options k=v ...]

MMagic evaluates Pix2Pix with the generator in train mode (BatchNorm with the batch's own
statistics, dropout on). A distillation teacher can run that way, without dropout, or in eval
mode (running statistics). For each mode this prints the teacher's FID/KID on the first
--num-images test images (offline Inception, in batches of --batch-size, as MMagic's test loop
batches them) and, at the distilled layer, how its attention compares with MMagic's mode: the
share of the top-K regions in common and the correlation of the attention maps; and how much
its image changes between two calls on the same batch (what image-level distillation reads).
Dropout draws are seeded, so the numbers repeat.
"""
import argparse


import numpy as np
import torch

import reko_mm  # noqa: F401
from mmengine.config import DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import _DropoutNd

from reko_mm.evaluation import (frechet_distance, kernel_inception_distance,
                                load_inception)
from reko_mm.losses import attention_map
from reko_mm.apis import student_config
from reko_mm.recorders import ModuleOutputRecorder
from reko_mm.utils import load_config, load_state_strict

# name: (BatchNorm statistics, dropout), the teacher options model.teacher.norm / .dropout
MODES = {'mmagic (batch stats, dropout on)': ('batch', True),
         'batch stats, dropout off': ('batch', False),
         'running stats, dropout off': ('running', False)}


def set_mode(net: torch.nn.Module, norm: str, dropout: bool) -> None:
    net.eval()
    for m in net.modules():
        if isinstance(m, _BatchNorm) and norm == 'batch':
            m.train()
            m.track_running_stats = False  # batch statistics, running ones untouched
        elif isinstance(m, _DropoutNd) and dropout:
            m.train()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a Pix2Pix (teacher) config')
    parser.add_argument('checkpoint')
    parser.add_argument('--num-images', type=int, default=106)
    parser.add_argument('--batch-size', type=int, default=None,
                        help="default: the config's test batch size")
    parser.add_argument('--layer', default='model.model.1.model.0',
                        help="the distilled teacher layer (reko_unet.py's default)")
    parser.add_argument('--k', type=int, default=64)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg = student_config(load_config(args.config, args.cfg_options))
    init_default_scope('mmagic')
    from mmagic.registry import DATASETS, MODELS
    model = MODELS.build(cfg.model)
    load_state_strict(model, args.checkpoint, args.config)
    target = model._default_domain
    source = model.get_other_domains(target)[0]
    gen = model.generators[target]
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    n = min(args.num_images, len(dataset))
    bs = args.batch_size or cfg.test_dataloader.get('batch_size', 1)
    inception = load_inception()

    def features(images_bgr255):
        with torch.no_grad():
            return inception(images_bgr255[:, [2, 1, 0]], return_features=True).numpy()

    batches = [pseudo_collate([dataset[i] for i in range(s, min(s + bs, n))])
               for s in range(0, n, bs)]
    real_feats, inputs = [], []
    for data in batches:
        pre = model.data_preprocessor(data, False)
        inputs.append(pre['inputs'][f'img_{source}'])
        real = pre['inputs'][f'img_{target}']
        real_feats.append(features((real + 1) * 127.5))
    real_feats = np.concatenate(real_feats)
    recorder = ModuleOutputRecorder(gen, args.layer, owner='teacher generator')
    results = {}
    for name, (norm, dropout) in MODES.items():
        set_mode(gen, norm, dropout)
        torch.manual_seed(0)
        fakes, atts = [], []
        for x in inputs:
            with torch.no_grad(), recorder.recording():
                y = gen(x)
            atts.append(attention_map(recorder.get()))
            fakes.append(features(((y + 1) * 127.5).clamp(0, 255)))
        with torch.no_grad():  # two more calls on the first batch: does the image change?
            change = float((gen(inputs[0]) - gen(inputs[0])).abs().mean() * 127.5)
        fake_feats = np.concatenate(fakes)
        fid = frechet_distance(real_feats.mean(0), np.cov(real_feats, rowvar=False),
                               fake_feats.mean(0), np.cov(fake_feats, rowvar=False))[0]
        kid = kernel_inception_distance(real_feats, fake_feats)[0]
        results[name] = dict(fid=fid, kid=kid, att=torch.cat(atts).flatten(1), change=change)
    ref = results[next(iter(MODES))]['att']
    k = min(args.k, ref.shape[1])
    ref_top = ref.topk(k, dim=1).indices
    print(f'{args.checkpoint}: {n} test images, batch {bs}, attention at {args.layer} '
          f'({ref.shape[1]} positions, top-{k})')
    print('| teacher mode | FID | KID | top-K shared with MMagic\'s mode | attention '
          'correlation with MMagic\'s mode | image change between two calls (mean abs, 0-255) |')
    print('|---|---|---|---|---|---|')
    for name, r in results.items():
        top = r['att'].topk(k, dim=1).indices
        shared = np.mean([len(set(a.tolist()) & set(b.tolist())) / k
                          for a, b in zip(top, ref_top)])
        corr = np.mean([np.corrcoef(a.numpy(), b.numpy())[0, 1] for a, b in zip(r['att'], ref)])
        print(f'| {name} | {r["fid"]:.2f} | {r["kid"]:.4f} | {shared:.3f} | {corr:.3f} | '
              f'{r["change"]:.2f} |')


if __name__ == '__main__':
    main()
