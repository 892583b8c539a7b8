"""Cost of each distillation method in a CycleGAN-7x training step, measured in one run.

    python tools/analysis_tools/benchmark_distill_step.py [--sizes 256 64] [--repeats 3]
        [--methods reko at ...] [--vgg-weights PATH]

For each input size it times, with the same data and models, round-robin (so drift hits all
alike) and reports medians:
  student   a plain CycleGAN step of the ngf-24 student (MMagic's train_step)
  teacher   a forward of both ngf-64 teacher generators on the real images, without gradients
  <method>  the TeacherStudentGAN step of configs/reko/cyclegan_horse2zebra_7x[_<method>].py
and prints each method's step / (student step + teacher forward). Target: <= 1.15 for every
feature and image method. Teacher weights are random (speed does not depend on them); OMGD's
two VGG terms run only with --vgg-weights (a local VGG16 file).
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import tempfile
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import torch  # noqa: E402

import reko_mm  # noqa: E402,F401
from mmengine import MessageHub  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.optim import OptimWrapper, OptimWrapperDict  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import save_checkpoint  # noqa: E402
from mmagic.registry import MODELS  # noqa: E402
from mmagic.structures import DataSample  # noqa: E402

from reko_mm.models import student_model_cfg  # noqa: E402

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
SETTING = 'configs/reko/cyclegan_horse2zebra_7x'
METHODS = ['reko', 'hinton', 'at', 'gan_compression', 'srpkd', 'cat', 'vid', 'omgd', 'gcc',
           'reko_omgd', 'reko_gcc']


def optims(model):
    def wrap(params):
        return OptimWrapper(torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999)))
    gen = list(model.generators.parameters())
    if hasattr(model, 'distill'):
        gen += [p for _, p in model.distill.trainable_parameters()]
    return OptimWrapperDict(generators=wrap(gen),
                            discriminators=wrap(list(model.discriminators.parameters())))


def timed(fns, repeats, warmup=1):
    """Median seconds of each function, measured round-robin."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) for ts in times]


def method_config(method: str) -> str:
    return osp.join(ROOT, SETTING + ('.py' if method == 'reko' else f'_{method}.py'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[256, 64])
    parser.add_argument('--batch-size', type=int, default=2,
                        help='images per step (CAT needs >= 2; the same for every arm)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--methods', nargs='+', default=METHODS, choices=METHODS)
    parser.add_argument('--vgg-weights', help="a local VGG16 state dict for OMGD's VGG terms")
    args = parser.parse_args()
    init_default_scope('mmagic')
    base = Config.fromfile(method_config('reko'))
    student_cfg = student_model_cfg(base.model)
    teacher_cfg = copy.deepcopy(student_cfg)
    teacher_cfg['generator']['base_channels'] = 64
    ckpt = osp.join(tempfile.mkdtemp(), 'teacher.pth')
    save_checkpoint({'state_dict': MODELS.build(teacher_cfg).state_dict()}, ckpt)

    torch.manual_seed(0)
    student = MODELS.build(student_cfg).train()
    models = {}
    for method in args.methods:
        cfg = Config.fromfile(method_config(method))
        cfg.model.teacher.ckpt = ckpt
        if args.vgg_weights and 'vgg' in cfg.model.distill.get('feature_nets', {}):
            cfg.model.distill.feature_nets.vgg.weights = args.vgg_weights
        model = MODELS.build(cfg.model).train()
        model.load_state_dict(student.state_dict())
        model.register_distill_state_saver('benchmark')
        models[method] = model
    domains = student._reachable_domains
    MessageHub.get_current_instance().update_info('iter', 0)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch '
          f'{args.batch_size}, median of {args.repeats} (round-robin); student ngf 24, '
          'teacher ngf 64, CycleGAN horse2zebra 7x configs')
    for size in args.sizes:
        data = dict(inputs={f'img_{d}': [torch.rand(3, size, size) * 255
                                         for _ in range(args.batch_size)] for d in domains},
                    data_samples=[DataSample() for _ in range(args.batch_size)])
        real = student.data_preprocessor(data, True)['inputs']
        teacher = next(iter(models.values())).teacher

        def teacher_forward():
            with torch.no_grad():
                for target in domains:
                    teacher[target](real[f'img_{student.get_other_domains(target)[0]}'])
        opts = {m: optims(model) for m, model in models.items()}
        s_opt = optims(student)
        fns = [lambda: student.train_step(data, s_opt), teacher_forward]
        fns += [(lambda m=m: models[m].train_step(data, opts[m])) for m in models]
        times = timed(fns, args.repeats)
        t_student, t_teacher = times[:2]
        print(f'\n{size}x{size}: student step {t_student:.3f} s, teacher forward '
              f'{t_teacher:.3f} s, sum {t_student + t_teacher:.3f} s')
        print(f'| method | step s | step / student | step / (student + teacher) |')
        print('|---|---|---|---|')
        for method, t in zip(models, times[2:]):
            label = models[method].distill.label
            print(f'| {method} ({label}) | {t:.3f} | {t / t_student:.2f} | '
                  f'**{t / (t_student + t_teacher):.3f}** |')


if __name__ == '__main__':
    main()
