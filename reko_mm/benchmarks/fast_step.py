"""What makes a teacher-target training step fast on a CPU, and what the cached translations
change in the targets, each measured in one run: ``tools/analysis_tools/benchmark_fast_step.py``
is its command line.

* :func:`fast_step_cost`: images per second of one training step of a teacher-target config
  (``as_target=True``: the teacher runs at every step, float32, today's step) against the same
  student on cached targets (``as_target='cached'``; for a config with distillation terms, with
  the teacher's features at their layers cached too), in float32 and under bf16 autocast
  (:class:`~reko_mm.engine.AutocastOptimWrapper`, fp32 master weights: ``tools/train.py
  --amp``), optionally channels-last, at each size and batch size, timed round-robin.
* :func:`crop_gap`: how far ``crop(teacher(photo))`` (what the cache trains on) is from
  ``teacher(crop(photo))`` (what the teacher-target step trains on), on held-out photos.
"""
import copy
import glob
import os.path as osp
import statistics
from typing import Dict, List, Sequence

import torch
from mmengine import MessageHub
from mmengine.registry import init_default_scope
from mmagic.registry import MODELS
from mmagic.structures import DataSample

from ..deployment.latency import median_times
from ..utils.config import load_config
from .step_cost import optims

ARMS = ('teacher-target', 'cached', 'cached bf16', 'cached bf16 channels-last')
# also timed on request: the teacher-target step under bf16 autocast (a distillation method's
# step with tools/train.py --amp)
EXTRA_ARMS = ('teacher-target bf16',)


def _step(model, opt, data, channels_last: bool):
    if channels_last:
        def to_cl(module, args, out):
            out['inputs'] = {k: v.contiguous(memory_format=torch.channels_last)
                             for k, v in out['inputs'].items()}
            return out
        model.data_preprocessor.register_forward_hook(to_cl)
    return lambda: model.train_step(copy.deepcopy(data), opt)


def cached_features(model, size: int, batch: int) -> Dict[str, List[torch.Tensor]]:
    """Random float16 teacher features of the shapes a cache with the layers ``model``'s
    distillation terms read holds, for ``batch`` ``size`` x ``size`` crops (as collated);
    ``{}`` for a model whose terms read no teacher layer."""
    from ..datasets.teacher_translations import feature_shapes
    (domain, ) = model.teacher
    layers = model.distill.teacher_layers(domain) if model.distill.terms else []
    if not layers:
        return {}
    shapes = feature_shapes(model.teacher[domain], layers, probe=size)
    return {n: [torch.randn(v['channels'], size // v['stride'], size // v['stride']).half()
                for _ in range(batch)] for n, v in shapes.items()}


def fast_step_cost(teacher_target_cfg: str, cached_cfg: str, teacher_ckpt: str,
                   sizes: Sequence[int] = (128, 256), batches: Sequence[int] = (1, 4),
                   repeats: int = 3, arms: Sequence[str] = ARMS, log=print) -> List[dict]:
    """Median seconds per step of each arm (random pixels: the speed does not depend on them),
    as images per second and as a ratio to the teacher-target step of the same size and batch.
    """
    from ..utils.checkpoint import file_sha256
    init_default_scope('mmagic')
    MessageHub.get_current_instance().update_info('iter', 0)
    unknown = [a for a in arms if a not in ARMS + EXTRA_ARMS]
    if unknown:
        raise ValueError(f'unknown arm(s) {unknown}: choose from {list(ARMS + EXTRA_ARMS)}')
    stamp = file_sha256(teacher_ckpt)
    cfgs = {}
    for arm in arms:
        cfg = load_config(teacher_target_cfg if arm.startswith('teacher-target') else cached_cfg)
        cfg.model.teacher.ckpt = teacher_ckpt
        cfgs[arm] = cfg
    rows = []
    for size in sizes:
        for batch in batches:
            photo = [torch.rand(3, size, size) * 255 for _ in range(batch)]
            target = [torch.rand(3, size, size) * 255 for _ in range(batch)]
            fns = {}
            for arm in arms:
                torch.manual_seed(0)
                model = MODELS.build(copy.deepcopy(cfgs[arm].model)).train()
                model.register_distill_state_saver('benchmark')
                channels_last = arm.endswith('channels-last')
                if channels_last:
                    model = model.to(memory_format=torch.channels_last)
                opt = optims(model, torch.bfloat16 if 'bf16' in arm else None)
                inputs = dict(img_photo=photo) if arm.startswith('teacher-target') else \
                    dict(img_photo=photo, img_vintage=target)
                data = dict(inputs=inputs, data_samples=[
                    DataSample(metainfo=dict(teacher_sha256=stamp)) for _ in range(batch)])
                if not arm.startswith('teacher-target'):
                    features = cached_features(model, size, batch)
                    if features:
                        data['teacher_features'] = features
                fns[arm] = _step(model, opt, data, channels_last)
            times = median_times(fns, warmup=1, repeats=repeats)
            for arm, t in times.items():
                row = dict(arm=arm, size=size, batch=batch, step_s=t, images_per_s=batch / t,
                           speedup=times['teacher-target'] / t if 'teacher-target' in times
                           else None)
                rows.append(row)
                log(f"| {arm} | {size} | {batch} | {t:.3f} | {row['images_per_s']:.2f} | "
                    + (f"{row['speedup']:.2f}x |" if row['speedup'] else '- |'))
    return rows


def _teacher_and_photos(teacher_ckpt: str, folders: Sequence[str], num: int):
    """The imported teacher (a :class:`FrozenTeacher`, eval), its domain, and ``num`` photo
    files of ``folders`` spread over them."""
    from ..models import FrozenTeacher, read_checkpoint
    state, meta = read_checkpoint(teacher_ckpt)
    domain = sorted({k.split('.')[1] for k in state if k.startswith('generators.')})[0]
    teacher = FrozenTeacher(teacher_ckpt, [domain], meta['generator_cfg'], state=state).eval()
    files = sorted(f for folder in folders for f in glob.glob(osp.join(folder, '*'))
                   if f.lower().endswith(('.jpg', '.jpeg', '.png')))
    if not files:
        raise FileNotFoundError(f'no photos in {list(folders)}')
    return teacher, domain, files[::max(1, len(files) // num)][:num]


def _resized_photo(path: str, short_side: int):
    """A photo as the cache resizes it: short side ``short_side`` (bicubic), sides cut to a
    multiple of 4; the photo half of a facades A|B pair."""
    import cv2
    img = cv2.imread(path)
    if img.shape[1] > img.shape[0] * 1.5:  # a facades A|B pair: its photo half
        img = img[:, :img.shape[1] // 2]
    h, w = img.shape[:2]
    s = short_side / min(h, w)
    img = cv2.resize(img, (int(w * s + 0.5), int(h * s + 0.5)), interpolation=cv2.INTER_CUBIC)
    return img[:img.shape[0] // 4 * 4, :img.shape[1] // 4 * 4]


def crop_gap(teacher_ckpt: str, folders: Sequence[str], size: int, load_size: int = 0,
             num: int = 200, border: int = 16, seed: int = 0) -> Dict[str, float]:
    """On ``num`` photos of ``folders`` (spread over them), resized as the cache resizes them
    (short side ``load_size``, default ``size``; bicubic; sides cut to a multiple of 4), at one
    random ``size`` x ``size`` crop each: the PSNR (8-bit) of ``crop(teacher(photo))`` to
    ``teacher(crop(photo))`` over the whole crop and without a ``border``-pixel frame, the share
    of crops that are the whole image (identical then), and the PSNR of the unchanged photo to
    the teacher (the bar a student has to pass). The teacher runs in float32."""
    import numpy as np
    from .teacher_scores import psnr8, translate_bgr
    teacher, domain, files = _teacher_and_photos(teacher_ckpt, folders, num)
    rng = np.random.default_rng(seed)

    def run(img):
        return translate_bgr(lambda x: teacher.translate(domain, x, exact=True), img)
    rows = []
    for f in files:
        img = _resized_photo(f, load_size or size)
        y = int(rng.integers(0, img.shape[0] - size + 1))
        x = int(rng.integers(0, img.shape[1] - size + 1))
        crop = img[y:y + size, x:x + size]
        cached = run(img)[y:y + size, x:x + size]
        direct = run(crop)
        inner = slice(border, size - border)
        rows.append(dict(psnr=psnr8(cached, direct),
                         psnr_inner=psnr8(cached[inner, inner], direct[inner, inner]),
                         identity_psnr=psnr8(crop.astype(np.float32), direct),
                         whole=float(crop.shape[0] * crop.shape[1] == img.shape[0] * img.shape[1])))
    out = {k: statistics.mean(r[k] for r in rows) for k in rows[0]}
    out.update(images=len(rows), size=size, load_size=load_size or size)
    return out


def flip_gap(teacher_ckpt: str, folders: Sequence[str], size: int, layers: Sequence[str],
             num: int = 100, num_regions: int = 64) -> Dict[str, object]:
    """What a flipped training sample of the cache holds, ``flip(teacher(photo))``, against what
    the teacher gives for the flipped photo, ``teacher(flip(photo))`` (its filters are not
    mirror-symmetric), on ``num`` photos resized to short side ``size``: the PSNR (8-bit) of the
    translations, and per cached ``layers``: the relative L2 distance of the features, their mean
    cosine similarity per position, and the share of ReKo's ``num_regions`` top positions
    (teacher attention) the two have in common."""
    import numpy as np
    from contextlib import ExitStack
    from ..losses.region_aware_distill_loss import attention_map
    from ..recorders import ModuleOutputRecorder
    from .teacher_scores import psnr8
    teacher, domain, files = _teacher_and_photos(teacher_ckpt, folders, num)
    net = teacher[domain]
    recs = {n: ModuleOutputRecorder(net, n, 'teacher generator') for n in layers}

    def run(img):
        x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float()
        with torch.no_grad(), ExitStack() as stack:
            for r in recs.values():
                stack.enter_context(r.recording())
            y = teacher.translate(domain, x / 127.5 - 1, exact=True)
        out = ((y[0].permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255).round()
        return out, {n: r.get()[0] for n, r in recs.items()}
    rows = {n: [] for n in layers}
    psnrs = []
    for f in files:
        img = _resized_photo(f, size)
        out, feats = run(img)
        out_f, feats_f = run(img[:, ::-1])
        psnrs.append(psnr8(out_f[:, ::-1], out))
        for n in layers:
            a, b = feats[n], feats_f[n].flip(-1)
            k = min(num_regions, a.shape[1] * a.shape[2])
            top_a = set(attention_map(a[None]).flatten().topk(k).indices.tolist())
            top_b = set(attention_map(b[None]).flatten().topk(k).indices.tolist())
            rows[n].append(dict(
                rel_l2=((a - b).norm() / a.norm()).item(),
                cosine=torch.nn.functional.cosine_similarity(a, b, dim=0).mean().item(),
                top_k_shared=len(top_a & top_b) / k))
    for r in recs.values():
        r.remove()
    return dict(images=len(files), size=size, psnr=statistics.mean(psnrs),
                layers={n: {k: statistics.mean(r[k] for r in v) for k in v[0]}
                        for n, v in rows.items()})
