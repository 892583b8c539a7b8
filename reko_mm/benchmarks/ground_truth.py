"""Rank distillation methods on a translation with a known answer (the generated 'bands' set):
the paper's Table 1 in miniature. ``tools/benchmarks/kd_benchmark.py`` is its command line.

For each model (Pix2Pix and Pix2PixHD on the paired set, CycleGAN on the unpaired one):

1. write the data: training and test sets, and a separate validation set;
2. train the teacher until its validation error on the objects stops improving (its best
   validation checkpoint is the teacher);
3. train the no-KD student at each width and keep the widest one that is at least ``min_gap`` dB
   worse than the teacher on the objects;
4. train every arm on every seed with identical budgets (:mod:`.arms`: the arms differ only in
   distillation);
5. score each run's last checkpoint against the ground truth and write ``results.md`` /
   ``results.json``: per arm mean +- std, the change against no-KD, the share of the gap closed
   and Welch's p; error curves (validation set) and a sample grid of every arm.
"""
import os.path as osp
import time
from typing import Dict, List

from .arms import (ABLATIONS, ARMS, BenchmarkError, arm_config, config_path, load_config,
                   run_name, split_arm, write_config)
from .report import arm_table, curve_of, curve_plot, sample_grid, translations, write_results
from .runner import RunQueue

# map_stride: the image side over the side of the maps ReKo distils (K keeps a quarter of them)
MODELS = {
    'pix2pix': dict(layout='paired', arch='unet', teacher='bands/pix2pix_bands_teacher.py',
                    nokd='bands/pix2pix_bands_nokd.py', widths=[4, 8], directions=['GT'],
                    map_stride=4),
    'pix2pixhd': dict(layout='paired', arch='hd', teacher='bands/pix2pixhd_bands_teacher.py',
                      nokd='bands/pix2pixhd_bands_nokd.py', widths=[4, 8], directions=['GT'],
                      map_stride=8),
    'cyclegan': dict(layout='unpaired', arch='resnet', teacher='bands/cyclegan_bands_teacher.py',
                     nokd='bands/cyclegan_bands_nokd.py', widths=[2, 4],
                     directions=['GT-flat-to-banded', 'GT-banded-to-flat'], map_stride=4),
}
METRIC = 'psnr_obj'  # what the table ranks by: the error on the crucial regions
GPU_BUDGET = dict(size=64, teacher_iters=20000, student_iters=5000, eval_interval=1000)


def write_data(work: str, layout: str, size: int) -> Dict[str, str]:
    """Training + test set (seed 0) and a validation set (seed 1); reused when present."""
    from ..datasets import generate_synthetic_dataset
    roots = {}
    for name, seed, num_train in (('data', 0, 200), ('val', 1, 1)):
        root = osp.join(work, 'data', f'bands_{layout}' + ('' if name == 'data' else '_val'))
        if not osp.isdir(root):
            generate_synthetic_dataset(root, layout, num_train=num_train, num_test=32,
                                       size=size, seed=seed, kind='bands')
        roots[name] = root
    return roots


def budget(spec: dict, arm: str, width, roots: Dict[str, str], seed: int, size: int,
           teacher_iters: int, student_iters: int, eval_interval: int) -> dict:
    """What every run of a model shares (data, schedule, its seed), as ``merge_from_dict``
    keys; the generator width of a student."""
    iters = teacher_iters if arm == 'teacher' else student_iters
    out = {'train_dataloader.dataset.data_root': roots['data'],
           'val_dataloader.dataset.data_root': roots['val'],
           'test_dataloader.dataset.data_root': roots['data'],
           'train_cfg.max_iters': iters, 'train_cfg.val_interval': eval_interval,
           'default_hooks.checkpoint.interval': eval_interval if arm == 'teacher' else iters,
           'randomness.seed': seed}
    if arm != 'teacher':
        out['model.generator.base_channels'] = width
    if spec['arch'] == 'unet':
        out['model.generator.num_down'] = size.bit_length() - 1  # down to 1x1
    return out


def run_config(spec: dict, arm: str, width, roots, seed: int, path: str, teacher_ckpt=None,
               init_rule: str = 'norm_scale', **sizes) -> str:
    """Write the config of one run (teacher, ``width<N>`` sweep, or an arm; an arm ending in
    ``+init`` starts from the teacher's channels by ``init_rule``) to ``path``."""
    size = sizes['size']
    knobs = budget(spec, arm, width, roots, seed, **sizes)
    if arm == 'teacher':
        cfg = load_config(config_path(spec['teacher']))
        cfg.merge_from_dict(knobs)
    else:
        base, init = split_arm(arm)
        distilled = base if base in ARMS or base in ABLATIONS else 'nokd'
        cfg = arm_config(config_path(spec['nokd']), distilled, spec['arch'], knobs,
                         teacher_ckpt=teacher_ckpt,
                         num_regions=max(1, (size // spec['map_stride'])**2 // 4),
                         probe_size=size, student_init=dict(rule=init_rule) if init else None)
    return write_config(cfg, path)


def value(run: dict, spec: dict, key: str = METRIC) -> float:
    """The mean over the model's directions of ``<direction>/<key>``."""
    vals = [run['metrics'][f'{d}/{key}'] for d in spec['directions']]
    return sum(vals) / len(vals)


def model_report(model: str, spec: dict, teacher: dict, width, gap: float,
                 arms_runs: Dict[str, List[dict]]) -> str:
    """The markdown section of one model: its teacher and the table of its arms."""
    t_val = value(teacher, spec)
    lines = [f'### {model}: student ngf {width} (no-KD gap to the teacher {gap:.2f} dB)', '',
             f'Teacher: object PSNR {t_val:.2f} dB, whole image '
             f'{value(teacher, spec, "psnr"):.2f} dB, background '
             f'{value(teacher, spec, "psnr_bg"):.2f} dB.', '']
    table = arm_table(arms_runs, lambda r: value(r, spec), 'object PSNR (dB)',
                      extra=[('whole image', lambda r: value(r, spec, 'psnr')),
                             ('background', lambda r: value(r, spec, 'psnr_bg'))],
                      reference=t_val)
    return '\n'.join(lines) + table


def run(work_dir: str, models=('pix2pix', ), seeds=tuple(range(8)), arms=ARMS,
        ablation: bool = False, widths=None, min_gap: float = 1.0, size: int = 32,
        teacher_iters: int = 4000, student_iters: int = 1000, eval_interval: int = 250,
        jobs: int = 2, threads: int = 1, dry_run: bool = False, log=print,
        init_rule: str = 'norm_scale') -> dict:
    """The whole benchmark (see the module docstring); returns ``results.json``'s content.
    An arm ending in ``+init`` (e.g. ``'nokd+init'``) is that arm with its student initialised
    from the teacher by ``init_rule`` (``model.student_init``)."""
    work_dir = osp.abspath(work_dir)
    for arm in arms:
        if split_arm(arm)[0] not in ARMS:
            raise BenchmarkError(f'unknown arm {arm!r}; arms: {ARMS}, each also with +init')
    t0 = time.time()
    queue = RunQueue(dry_run, jobs, threads, log)
    arm_names = [a for a in arms if a != 'nokd'] + (list(ABLATIONS) if ablation else [])
    sizes = dict(size=size, teacher_iters=teacher_iters, student_iters=student_iters,
                 eval_interval=eval_interval)
    report = ['# Distillation methods on the bands set (ground truth)', '']
    results = {}
    for model in models:
        if model not in MODELS:
            raise BenchmarkError(f'unknown model {model!r}; models: {sorted(MODELS)}')
        spec = MODELS[model]
        work = osp.join(work_dir, model)
        roots = write_data(work, spec['layout'], size)

        def run_arm(arm, seed, width, teacher_ckpt=None):
            run_dir = osp.join(work, run_name(arm, seed))
            cfg = run_config(spec, arm, width, roots, seed, osp.join(run_dir, 'budget_cfg.py'),
                             teacher_ckpt, init_rule, **sizes)
            # the teacher trains alone: it gets the threads of all jobs
            result = queue.train_and_test(run_dir, cfg, student_iters,
                                          best=arm == 'teacher',
                                          threads=threads * jobs if arm == 'teacher' else None)
            return dict(result, arm=arm, seed=seed, width=width)

        teacher = run_arm('teacher', 0, None)
        model_widths = list(widths or spec['widths'])
        sweep = queue.map(lambda w: run_arm(f'width{w}', 0, w), model_widths,
                          name=lambda w: f'{model} no-KD ngf {w}')
        if dry_run:
            width, gap = model_widths[-1], float('nan')
        else:
            t_val = value(teacher, spec)
            gaps = {r['width']: t_val - value(r, spec) for r in sweep}
            clear = [w for w in model_widths if gaps[w] >= min_gap]
            width = max(clear) if clear else min(model_widths)
            gap = gaps[width]
            if not clear:
                log(f'WARNING: no width in {model_widths} is {min_gap} dB worse than the '
                    f'teacher ({gaps}); using the narrowest')
        tasks = [(a, s) for a in ['nokd'] + arm_names for s in seeds]

        def one(task):
            arm, seed = task
            if arm == 'nokd' and seed == 0:  # the sweep's run of this width
                return dict(sweep[model_widths.index(width)], arm='nokd')
            return run_arm(arm, seed, width, teacher['ckpt'] if arm != 'nokd' else None)
        done = queue.map(one, tasks, name=lambda t: f'{model} {t[0]} seed {t[1]}')
        if dry_run:
            continue
        arms_runs: Dict[str, List[dict]] = {}
        for r in done:
            arms_runs.setdefault(r['arm'], []).append(r)
        results[model] = dict(teacher=teacher, width=width, gap=gap,
                              sweep={r['width']: value(r, spec) for r in sweep},
                              arms=arms_runs)
        report.append(model_report(model, spec, teacher, width, gap, arms_runs))
        report.append('Width sweep (no-KD, seed 0, object PSNR): ' + ', '.join(
            f'ngf {w}: {v:.2f} dB' for w, v in results[model]['sweep'].items()) + '\n')
        key = f'{spec["directions"][0]}/{METRIC}'
        curves = curve_plot(
            [(f'{model}: teacher (validation set)', {'teacher': curve_of(teacher, key)}),
             (f'{model}: students, seed 0 (validation set)',
              {a: curve_of(rs[0], key) for a, rs in arms_runs.items()})],
            'object PSNR (dB)', osp.join(work_dir, f'{model}_curves.png'))
        columns, labels = [], []
        for arm, r in [('teacher', teacher)] + [(a, rs[0]) for a, rs in arms_runs.items()]:
            if not columns:
                x, y, truth = translations(r, 4, with_target=True)
                columns, labels = [x, truth], ['input', 'truth']
            else:
                y = translations(r, 4)[1]
            columns.append(y)
            labels.append(arm)
        grid = sample_grid(columns, osp.join(work_dir, f'{model}_samples.png'), scale=3)
        report += [f'Curves: {curves}', f'Samples ({" | ".join(labels)}): {grid}', '']
    if dry_run:
        return {}
    report += [f'This invocation took {(time.time() - t0) / 60:.0f} min (runs done before are '
               'reused).', '', 'Commands:', '', '```'] + queue.commands + ['```', '']
    text = '\n'.join(report)
    write_results(work_dir, text, results, log)
    return results

