"""Cost of each distillation method in a CycleGAN-7x training step, measured in one run:
``tools/analysis_tools/benchmark_distill_step.py`` is its command line.

For each input size, batch size and precision it times, with the same data and models,
round-robin (:func:`reko_mm.deployment.median_times`) and reports medians:

* ``teacher``: a plain CycleGAN step of the ngf-64 teacher (what training the teacher costs);
* ``student``: a plain CycleGAN step of the ngf-24 student (MMagic's train_step): no-KD;
* ``t-forward``: a forward of both ngf-64 teacher generators on the real images, no gradients;
* ``<method>``: the TeacherStudentGAN step of ``configs/reko/cyclegan_horse2zebra_7x[_<m>].py``;

with steps per second, each method's step / (student step + teacher forward) and, on CUDA, the
peak memory a step allocates above what is resident (weights, Adam state). bf16 / fp16 run the
step under autocast with :class:`~reko_mm.engine.AutocastOptimWrapper` (what ``tools/train.py
--amp --amp-dtype`` selects). Teacher weights are random (speed does not depend on them).
"""
import copy
import os.path as osp
import tempfile
from typing import Dict, List, Optional

import torch
from mmengine import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import init_default_scope
from mmengine.runner import save_checkpoint
from mmagic.registry import MODELS
from mmagic.structures import DataSample

from ..deployment.latency import median_times
from ..engine import AutocastOptimWrapper
from ..apis import student_model_cfg
from ..models.frozen_teacher import PRECISIONS
from ..utils.config import load_config
from .arms import MIN_BATCH, ROOT

SETTING = 'configs/reko/cyclegan_horse2zebra_7x'
METHODS = ['reko', 'hinton', 'at', 'gan_compression', 'srpkd', 'cat', 'vid', 'omgd', 'gcc',
           'reko_omgd', 'reko_gcc']


def optims(model, dtype=None):
    """Adam for the generators (and the distillation's learnable parts) and discriminators."""
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


def build_models(methods, device='cpu', vgg_weights=None):
    """``(student, plain teacher, {method: TeacherStudentGAN})``, all with the student's
    weights, the teacher random."""
    init_default_scope('mmagic')
    base = load_config(method_config('reko'))
    student_cfg = student_model_cfg(base.model)
    teacher_cfg = copy.deepcopy(student_cfg)
    teacher_cfg['generator']['base_channels'] = 64
    ckpt = osp.join(tempfile.mkdtemp(), 'teacher.pth')
    save_checkpoint({'state_dict': MODELS.build(teacher_cfg).state_dict()}, ckpt)
    torch.manual_seed(0)
    student = MODELS.build(student_cfg).train().to(device)
    plain_teacher = MODELS.build(teacher_cfg).train().to(device)
    models = {}
    for method in methods:
        cfg = load_config(method_config(method))
        cfg.model.teacher.ckpt = ckpt
        if vgg_weights and 'vgg' in cfg.model.distill.get('feature_nets', {}):
            cfg.model.distill.feature_nets.vgg.weights = vgg_weights
        model = MODELS.build(cfg.model).train()
        model.load_state_dict(student.state_dict())
        model.register_distill_state_saver('benchmark')
        models[method] = model.to(device)
    MessageHub.get_current_instance().update_info('iter', 0)
    return student, plain_teacher, models


def measure(size, batch, precision, repeats, student, plain_teacher, models, device='cpu',
            log=print):
    """Time every arm at one size, batch size and precision; print and return the rows."""
    dtype = PRECISIONS[precision]
    domains = student._reachable_domains
    arms = {m: model for m, model in models.items() if batch >= MIN_BATCH.get(m, 1)}
    for m in set(models) - set(arms):
        log(f'skipped {m} at batch {batch}: it needs at least {MIN_BATCH[m]} images a batch')
    data = dict(inputs={f'img_{d}': [torch.rand(3, size, size) * 255 for _ in range(batch)]
                        for d in domains},
                data_samples=[DataSample() for _ in range(batch)])
    real = student.data_preprocessor(data, True)['inputs']
    teacher = plain_teacher.generators

    def teacher_forward():
        with torch.no_grad(), torch.autocast(device.split(':')[0], dtype=dtype or torch.float32,
                                                enabled=dtype is not None):
            for target in domains:
                teacher[target](real[f'img_{student.get_other_domains(target)[0]}'])
    opts = {m: optims(model, dtype) for m, model in arms.items()}
    s_opt, t_opt = optims(student, dtype), optims(plain_teacher, dtype)
    fns = {'teacher': lambda: plain_teacher.train_step(data, t_opt),
           'student': lambda: student.train_step(data, s_opt), 't-forward': teacher_forward}
    fns.update({m: (lambda m=m: arms[m].train_step(data, opts[m])) for m in arms})
    sync = torch.cuda.synchronize if device.startswith('cuda') else None
    times = median_times(fns, warmup=1, repeats=repeats, sync=sync)
    memory = {name: step_memory(fn, device) for name, fn in fns.items()}
    base = times['student'] + times['t-forward']
    log(f'\n{size}x{size}, batch {batch}, {precision}: student step {times["student"]:.3f} s, '
          f'teacher forward {times["t-forward"]:.3f} s, sum {base:.3f} s')
    log('| arm | step s | steps/s | step / student | step / (student + teacher forward) | '
          'peak extra GiB |')
    log('|---|---|---|---|---|---|')
    rows = []
    for name, t in times.items():
        label = f'{name} ({arms[name].distill.label})' if name in arms else name
        mem = 'n/a' if memory[name] is None else f'{memory[name]:.2f}'
        ratio = f'**{t / base:.3f}**' if name in arms else '-'
        log(f'| {label} | {t:.3f} | {1 / t:.2f} | {t / times["student"]:.2f} | {ratio} | '
              f'{mem} |')
        rows.append(dict(arm=name, size=size, batch=batch, precision=precision, step_s=t,
                         steps_per_s=1 / t, over_student=t / times['student'],
                         over_student_and_teacher=t / base if name in arms else None,
                         peak_extra_gib=memory[name]))
    return rows



def teacher_target_cost(configs: Dict[str, str], teacher_ckpt: str, photos: str,
                        size: int = 128, repeats: int = 5, precisions=('fp32', 'bf16'),
                        log=print, overrides: Optional[dict] = None) -> List[dict]:
    """What a teacher-target step costs, and what the teacher's precision changes.

    For each config (``{'baseline': path, 'reko': path}``, e.g. ``configs/reko/vintagify/``) and
    teacher precision, on one batch of ``size`` x ``size`` crops of ``photos/train``: the median
    seconds of a training step and of the teacher's forward alone (round-robin), and, against
    the fp32 teacher, the mean absolute difference of the targets and the relative change of
    each distillation loss of the first step.

    Args:
        configs (dict): label -> config path.
        teacher_ckpt (str): the imported teacher.
        photos (str): a folder with ``train/``.
        size (int): crop side.
        repeats (int): timed steps per arm.
        precisions: teacher precisions to compare (``'bf16'`` needs bf16 units).
        log (callable): where the table goes.
        overrides (dict, optional): more ``merge_from_dict`` keys (e.g. smaller widths).

    Returns:
        list[dict]: one row per config and precision.
    """
    from mmengine.dataset import pseudo_collate

    from mmagic.registry import DATASETS
    from .real_teacher import budget
    init_default_scope('mmagic')
    rows = []
    for label, path in configs.items():
        base = load_config(path)
        cfg = load_config(path)
        cfg.merge_from_dict(budget(base, photos, size, 1, 1, 0, teacher_ckpt))
        cfg.merge_from_dict(overrides or {})
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
        torch.manual_seed(0)
        data = pseudo_collate([dataset[0]])
        ref = None
        for precision in precisions:
            cfg.model.teacher.precision = precision
            torch.manual_seed(0)
            model = MODELS.build(cfg.model).train()
            model.register_distill_state_saver('benchmark')
            opt = optims(model)
            MessageHub.get_current_instance().update_info('iter', 0)
            real = model.data_preprocessor(copy.deepcopy(data), True)['inputs']
            with torch.no_grad():
                target = model.teacher.translate('vintage', real)
            losses = {k: float(v) for k, v in model.train_step(copy.deepcopy(data), opt).items()
                      if k == 'loss_pixel' or (k.startswith('loss_') and k.endswith('_vintage'))}

            def teacher_forward(model=model, real=real):
                with torch.no_grad():
                    model.teacher.translate('vintage', real)
            times = median_times(
                {'step': lambda model=model, opt=opt: model.train_step(copy.deepcopy(data), opt),
                 'teacher': teacher_forward}, warmup=1, repeats=repeats)
            row = dict(config=label, precision=precision, size=size, step_s=times['step'],
                       teacher_s=times['teacher'], teacher_share=times['teacher'] / times['step'],
                       losses=losses)
            if ref is None:
                ref = dict(target=target, losses=losses)
            else:
                row['target_mean_abs_diff'] = float((target - ref['target']).abs().mean())
                row['loss_rel_change'] = {k: abs(v - ref['losses'][k]) / max(abs(
                    ref['losses'][k]), 1e-12) for k, v in losses.items()}
            rows.append(row)
            log(f"| {label} | {precision} | {size} | {row['step_s']:.3f} | "
                f"{row['teacher_s']:.3f} ({100 * row['teacher_share']:.0f} %) | "
                + (f"{row['target_mean_abs_diff']:.2e} | " + ', '.join(
                    f'{k[5:]} {100 * v:.2f} %' for k, v in row['loss_rel_change'].items())
                   if 'loss_rel_change' in row else '- | -') + ' |')
    return rows
