"""Cost of each distillation method in a CycleGAN-7x training step, measured in one run.

    python tools/analysis_tools/benchmark_distill_step.py [--sizes 256 64] [--repeats 3]
        [--batch-size 2 [4 ...]] [--device cpu|cuda] [--precisions fp32 bf16 fp16]
        [--methods reko at ...] [--vgg-weights PATH] [--json OUT]

For each input size, batch size and precision it times, with the same data and models,
round-robin (so drift hits all alike) and reports medians:
  teacher    a plain CycleGAN step of the ngf-64 teacher (what training the teacher costs)
  student    a plain CycleGAN step of the ngf-24 student (MMagic's train_step): no-KD
  t-forward  a forward of both ngf-64 teacher generators on the real images, without gradients
  <method>   the TeacherStudentGAN step of configs/reko/cyclegan_horse2zebra_7x[_<method>].py
and prints steps per second, each method's step / (student step + teacher forward) (target:
<= 1.15 for every feature and image method) and, on CUDA, the peak memory a step allocates
above what is resident (weights, Adam state): ``torch.cuda.max_memory_allocated`` minus the
allocation before the step. bf16 / fp16 run the step under autocast with reko-mm's
``AutocastOptimWrapper`` (what ``tools/train.py --amp --amp-dtype`` selects); fp16 needs a GPU.
Teacher weights are random (speed does not depend on them); OMGD's two VGG terms run only with
--vgg-weights (a local VGG16 file). CAT needs 2 images a batch: it is skipped, with why, at 1.
"""
import argparse
import copy
import json
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

from reko_mm.engine import AutocastOptimWrapper  # noqa: E402
from reko_mm.models import student_model_cfg  # noqa: E402

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
SETTING = 'configs/reko/cyclegan_horse2zebra_7x'
METHODS = ['reko', 'hinton', 'at', 'gan_compression', 'srpkd', 'cat', 'vid', 'omgd', 'gcc',
           'reko_omgd', 'reko_gcc']


PRECISIONS = {'fp32': None, 'bf16': 'bfloat16', 'fp16': 'float16'}
MIN_BATCH = {'cat': 2}  # CAT's relation term compares the images of a batch


def optims(model, dtype=None):
    def wrap(params):
        optimizer = torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999))
        if dtype is None:
            return OptimWrapper(optimizer)
        return AutocastOptimWrapper(optimizer=optimizer, dtype=dtype)
    gen = list(model.generators.parameters())
    if hasattr(model, 'distill'):
        gen += [p for _, p in model.distill.trainable_parameters()]
    return OptimWrapperDict(generators=wrap(gen),
                            discriminators=wrap(list(model.discriminators.parameters())))


def timed(fns, repeats, warmup=1, sync=lambda: None):
    """Median seconds of each function, measured round-robin."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    sync()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            sync()
            ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) for ts in times]


def step_memory(fn, device):
    """GiB a call allocates above what is resident before it (CUDA only; None elsewhere)."""
    if not device.startswith('cuda'):
        return None
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return (torch.cuda.max_memory_allocated() - before) / 2**30


def method_config(method: str) -> str:
    return osp.join(ROOT, SETTING + ('.py' if method == 'reko' else f'_{method}.py'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[256, 64])
    parser.add_argument('--batch-size', type=int, nargs='+', default=[2],
                        help='images per step, one run per value (the same for every arm)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (or 'cuda:N')")
    parser.add_argument('--precisions', nargs='+', default=['fp32'], choices=list(PRECISIONS),
                        help='fp32, and autocast bf16 / fp16 (fp16: GPU only)')
    parser.add_argument('--methods', nargs='+', default=METHODS, choices=METHODS)
    parser.add_argument('--vgg-weights', help="a local VGG16 state dict for OMGD's VGG terms")
    parser.add_argument('--json', help='also write the rows to this JSON file')
    args = parser.parse_args()
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        sys.exit(f'--device {args.device}: torch {torch.__version__} sees no CUDA GPU '
                 f'(torch.version.cuda={torch.version.cuda}); run on a GPU machine or use '
                 '--device cpu')
    if 'fp16' in args.precisions and not args.device.startswith('cuda'):
        sys.exit('--precisions fp16: float16 autocast needs a GPU (reko-mm runs bfloat16 on a '
                 'CPU); use --device cuda, or bf16')
    init_default_scope('mmagic')
    base = Config.fromfile(method_config('reko'))
    student_cfg = student_model_cfg(base.model)
    teacher_cfg = copy.deepcopy(student_cfg)
    teacher_cfg['generator']['base_channels'] = 64
    ckpt = osp.join(tempfile.mkdtemp(), 'teacher.pth')
    save_checkpoint({'state_dict': MODELS.build(teacher_cfg).state_dict()}, ckpt)

    torch.manual_seed(0)
    device = args.device
    student = MODELS.build(student_cfg).train().to(device)
    plain_teacher = MODELS.build(teacher_cfg).train().to(device)
    models = {}
    for method in args.methods:
        cfg = Config.fromfile(method_config(method))
        cfg.model.teacher.ckpt = ckpt
        if args.vgg_weights and 'vgg' in cfg.model.distill.get('feature_nets', {}):
            cfg.model.distill.feature_nets.vgg.weights = args.vgg_weights
        model = MODELS.build(cfg.model).train()
        model.load_state_dict(student.state_dict())
        model.register_distill_state_saver('benchmark')
        models[method] = model.to(device)
    domains = student._reachable_domains
    MessageHub.get_current_instance().update_info('iter', 0)
    sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
    where = torch.cuda.get_device_name(device) if device.startswith('cuda') else \
        f'CPU, {torch.get_num_threads()} threads'
    print(f'torch {torch.__version__}, {where}, median of {args.repeats} (round-robin); '
          'student ngf 24, teacher ngf 64, CycleGAN horse2zebra 7x configs')
    rows = []
    for size in args.sizes:
        for batch in args.batch_size:
            for precision in args.precisions:
                rows += measure(size, batch, precision, args, student, plain_teacher, models,
                                domains, device, sync)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(device=where, torch=torch.__version__, rows=rows), f, indent=1)


def measure(size, batch, precision, args, student, plain_teacher, models, domains, device,
            sync):
    """Time every arm at one size, batch size and precision; print and return the rows."""
    dtype = PRECISIONS[precision]
    arms = {m: model for m, model in models.items() if batch >= MIN_BATCH.get(m, 1)}
    for m in set(models) - set(arms):
        print(f'skipped {m} at batch {batch}: it needs at least {MIN_BATCH[m]} images a batch')
    data = dict(inputs={f'img_{d}': [torch.rand(3, size, size) * 255 for _ in range(batch)]
                        for d in domains},
                data_samples=[DataSample() for _ in range(batch)])
    real = student.data_preprocessor(data, True)['inputs']
    teacher = plain_teacher.generators

    def teacher_forward():
        with torch.no_grad(), torch.autocast(device.split(':')[0], dtype=getattr(
                torch, dtype or 'float32'), enabled=dtype is not None):
            for target in domains:
                teacher[target](real[f'img_{student.get_other_domains(target)[0]}'])
    opts = {m: optims(model, dtype) for m, model in arms.items()}
    s_opt, t_opt = optims(student, dtype), optims(plain_teacher, dtype)
    fns = {'teacher': lambda: plain_teacher.train_step(data, t_opt),
           'student': lambda: student.train_step(data, s_opt), 't-forward': teacher_forward}
    fns.update({m: (lambda m=m: arms[m].train_step(data, opts[m])) for m in arms})
    times = dict(zip(fns, timed(list(fns.values()), args.repeats, sync=sync)))
    memory = {name: step_memory(fn, device) for name, fn in fns.items()}
    base = times['student'] + times['t-forward']
    print(f'\n{size}x{size}, batch {batch}, {precision}: student step {times["student"]:.3f} s, '
          f'teacher forward {times["t-forward"]:.3f} s, sum {base:.3f} s')
    print('| arm | step s | steps/s | step / student | step / (student + teacher forward) | '
          'peak extra GiB |')
    print('|---|---|---|---|---|---|')
    rows = []
    for name, t in times.items():
        label = f'{name} ({arms[name].distill.label})' if name in arms else name
        mem = 'n/a' if memory[name] is None else f'{memory[name]:.2f}'
        ratio = f'**{t / base:.3f}**' if name in arms else '-'
        print(f'| {label} | {t:.3f} | {1 / t:.2f} | {t / times["student"]:.2f} | {ratio} | '
              f'{mem} |')
        rows.append(dict(arm=name, size=size, batch=batch, precision=precision, step_s=t,
                         steps_per_s=1 / t, over_student=t / times['student'],
                         over_student_and_teacher=t / base if name in arms else None,
                         peak_extra_gib=memory[name]))
    return rows


if __name__ == '__main__':
    main()
