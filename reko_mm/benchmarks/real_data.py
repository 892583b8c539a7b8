"""Teacher, no-KD and ReKo students (and the paper's Table 4 ablation) on a real dataset, scored
by FID / KID. ``tools/benchmarks/reko_results.py`` is its command line.

The shipped configs are used as they are; the budget (image size, iterations, evaluation cadence,
test-image count, a UNet depth that fits the image size) is the same for every arm, so the arms
differ only in distillation. ``full=True`` keeps the configs' own resolution and schedule (the
paper's protocol; a GPU job). Every command, log and checkpoint is kept under the work dir;
``results.md`` gets the last checkpoint's FID/KID per arm (mean +- std over seeds), the FID
curves of the in-training validations and a sample grid (teacher | no-KD | ReKo).
"""
import os.path as osp
import time
from typing import List

from .arms import (ABLATIONS, BenchmarkError, arm_config, config_path, load_config,
                   write_config)
from .report import curve_of, curve_plot, mean_std, sample_grid, translations, write_results
from .runner import RunQueue

DATASETS = {
    'facades': dict(kind='pix2pix', arch='unet', teacher='pix2pix_facades_teacher.py',
                    nokd='pix2pix_facades_4x_nokd.py',
                    metrics=[('FID-Full', 'KID-Full', 'photo', 106, 106)]),
    # Pix2PixHD (global generator + 3-scale discriminator) on the same data. Its distilled maps
    # are 1/8 of the image side; at a size below 256 a quarter of their positions is kept.
    'facades_hd': dict(kind='pix2pixhd', arch='hd', teacher='pix2pixhd_facades_teacher.py',
                       nokd='pix2pixhd_facades_28x_nokd.py', map_stride=8,
                       metrics=[('FID-Full', 'KID-Full', 'photo', 106, 106)]),
    'apple2orange': dict(
        kind='cyclegan', arch='resnet', teacher='cyclegan_apple2orange_teacher.py',
        nokd='cyclegan_apple2orange_7x_nokd.py',
        metrics=[('FID-apple-to-orange', 'KID-apple-to-orange', 'orange', 266, 248),
                 ('FID-orange-to-apple', 'KID-orange-to-apple', 'apple', 248, 266)]),
}
ARM_NAMES = {'teacher': 'teacher', 'nokd': 'student, no KD', 'reko': 'student, ReKo',
             **{a: label for a, (label, _) in ABLATIONS.items()}}


def budget(cfg, dataset: dict, data_root: str, size: int, iters: int, eval_interval: int,
           eval_images: int, seed: int, full: bool = False) -> dict:
    """The CPU budget of a run of ``cfg`` (a ``merge_from_dict`` dict): images resized to
    ``size`` (the UNet down to 1x1), batch 1, ``iters`` iterations, FID/KID on up to
    ``eval_images`` test images; with ``full`` only the data and the seed."""
    roots = {f'{k}_dataloader.dataset.data_root': data_root for k in ('train', 'val', 'test')}
    if full:
        return dict(roots, **{'randomness.seed': seed})
    keys = ['img_A', 'img_B']
    if dataset['kind'] == 'cyclegan':
        loads = [dict(type='LoadImageFromFile', key=k, color_type='color') for k in keys]
    else:
        loads = [dict(type='LoadPairedImageFromFile', key='pair', domain_a='A', domain_b='B',
                      color_type='color')]
    resize = dict(type='TransformBroadcaster', mapping={'img': keys}, auto_remap=True,
                  share_random_params=True,
                  transforms=[dict(type='Resize', scale=(size, size), keys='img',
                                   interpolation='bicubic')])
    tail = list(cfg.train_dataloader.dataset.pipeline[-2:])  # KeyMapper, PackInputs
    train = loads + [resize, dict(type='Flip', keys=keys, direction='horizontal')] + tail
    test = loads + [resize] + tail
    metrics = []
    for fid, kid, dst, n_fake, n_real in dataset['metrics']:
        for typ, prefix in (('OfflineTransFID', fid), ('OfflineTransKID', kid)):
            metrics.append(dict(type=typ, prefix=prefix, fake_nums=min(n_fake, eval_images),
                                real_nums=min(n_real, eval_images), fake_key=f'fake_{dst}',
                                real_key=f'img_{dst}'))
    loader = dict(num_workers=0, persistent_workers=False,
                  dataset=dict(data_root=data_root, pipeline=test))
    out = {
        'train_dataloader': dict(batch_size=1, num_workers=2, persistent_workers=False,
                                 dataset=dict(data_root=data_root, pipeline=train)),
        'val_dataloader': dict(loader, batch_size=4),
        'test_dataloader': dict(loader, batch_size=4),
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': eval_interval,
        'default_hooks.logger.interval': 50,
        'default_hooks.checkpoint': dict(interval=eval_interval, max_keep_ckpts=1,
                                         save_best=None),
        'custom_hooks': [dict(type='VisualizationHook', interval=iters, fixed_input=True,
                              vis_kwargs_list=[dict(type='Translation', name='trans')])],
        'env_cfg.cudnn_benchmark': False,
        'val_evaluator.metrics': metrics, 'test_evaluator.metrics': metrics,
        'randomness.seed': seed}
    if dataset['kind'] == 'pix2pix':  # a UNet goes down to 1x1
        out['model.generator.num_down'] = max(1, (size - 1).bit_length())
    return out


def run_config(dataset: dict, arm: str, path: str, teacher_ckpt=None, **knobs) -> str:
    """Write the config of one run (the teacher, no-KD, ReKo or an ablation) to ``path``."""
    teacher_iters, student_iters = knobs.pop('teacher_iters'), knobs.pop('student_iters')
    iters = teacher_iters if arm == 'teacher' else student_iters
    size = knobs['size']
    base = load_config(config_path(dataset['teacher' if arm == 'teacher' else 'nokd']))
    plan = budget(base, dataset, iters=iters, **knobs)
    if arm == 'teacher':
        base.merge_from_dict(plan)
        return write_config(base, path)
    k = None
    if 'map_stride' in dataset and not knobs['full']:
        # the config's K is for 256x256; keep a quarter of the positions of the smaller maps
        k = max(1, (size // dataset['map_stride'])**2 // 4)
    cfg = arm_config(config_path(dataset['nokd']), arm, dataset['arch'], plan,
                     teacher_ckpt=teacher_ckpt, num_regions=k)
    return write_config(cfg, path)


def summary(name: str, runs: List[dict], budget_text: str, elapsed: float,
            commands: List[str], seeds) -> str:
    """``results.md``: the final FID/KID table, the FID curves as text, the commands."""
    keys = sorted({k for r in runs for k in r['metrics'] if k.endswith(('/fid', '/kid'))})
    lines = [f'# ReKo results: {name}', '',
             f'Budget: {budget_text}; seeds {list(seeds)}; this invocation took '
             f'{elapsed / 60:.0f} min (runs done before are reused, not repeated).', '',
             'Final FID/KID of the last checkpoint (mean +- std over seeds):', '',
             '| arm | ' + ' | '.join(keys) + ' |', '|---' * (len(keys) + 1) + '|']
    for arm in ['teacher', 'nokd', 'reko'] + list(ABLATIONS):
        arm_runs = [r for r in runs if r['arm'] == arm]
        if arm_runs:
            cells = [mean_std([r['metrics'][k] for r in arm_runs if k in r['metrics']],
                              '.4f' if k.endswith('/kid') else '.2f') for k in keys]
            lines.append(f'| {ARM_NAMES[arm]} ({len(arm_runs)} run'
                         f'{"s" * (len(arm_runs) > 1)}) | ' + ' | '.join(cells) + ' |')
    lines += ['', 'FID over training (in-training validation), per run:', '']
    for r in runs:
        if r['curve']:
            lines.append(f'- {r["arm"]} seed {r["seed"]}: ' + ', '.join(
                f'{it}: ' + '/'.join(f'{v:.1f}' for k, v in sorted(m.items())
                                     if k.endswith('/fid')) for it, m in r['curve']))
    return '\n'.join(lines + ['', 'Commands:', '', '```'] + commands + ['```', ''])


def run(dataset_name: str, data_root: str, work_dir: str, size: int = 64,
        teacher_iters: int = 2000, student_iters: int = 2000, eval_interval: int = 500,
        eval_images: int = 106, seeds=(0, 1), arms=('nokd', 'reko'), ablation: bool = False,
        full: bool = False, dry_run: bool = False, log=print) -> List[dict]:
    """The whole benchmark (see the module docstring); returns the runs."""
    if dataset_name not in DATASETS:
        raise BenchmarkError(f'unknown dataset {dataset_name!r}; datasets: {sorted(DATASETS)}')
    data_root, work_dir = osp.abspath(data_root), osp.abspath(work_dir)
    if not osp.isdir(data_root):
        raise BenchmarkError(f'dataset folder not found: {data_root}')
    dataset = DATASETS[dataset_name]
    arms = list(dict.fromkeys(list(arms) + (list(ABLATIONS) if ablation else [])))
    knobs = dict(data_root=data_root, size=size, teacher_iters=teacher_iters,
                 student_iters=student_iters, eval_interval=eval_interval,
                 eval_images=eval_images, full=full)
    queue = RunQueue(dry_run, log=log)
    t0 = time.time()

    def train_arm(arm, seed, teacher_ckpt=None):
        work = osp.join(work_dir, f'{arm}_seed{seed}')
        cfg = run_config(dataset, arm, osp.join(work, 'budget_cfg.py'), teacher_ckpt,
                         seed=seed, **knobs)
        iters = None if full else (teacher_iters if arm == 'teacher' else student_iters)
        return dict(queue.train_and_test(work, cfg, iters), arm=arm, seed=seed)

    teacher = train_arm('teacher', seeds[0])
    runs = [teacher] + queue.map(
        lambda task: train_arm(task[0], task[1], teacher['ckpt'] if task[0] != 'nokd' else None),
        [(a, s) for s in seeds for a in arms], name=lambda t: f'{t[0]} seed {t[1]}')
    if dry_run:
        return runs
    columns = []
    for arm in ('teacher', 'nokd', 'reko'):
        run_ = next((r for r in runs if r['arm'] == arm), None)
        if run_ is not None:
            x, y = translations(run_, 4)
            columns += ([x] if not columns else []) + [y]
    # the generators work in the loaded (OpenCV, BGR) channel order: MMagic's CycleGAN and
    # Pix2Pix preprocessors do not convert it, so the images are written as they are
    grid = sample_grid(columns, osp.join(work_dir, 'samples.png'))
    keys = sorted({k for r in runs for _, m in r['curve'] for k in m if k.endswith('/fid')})
    colors = dict(teacher='black', nokd='tab:blue', reko='tab:red', all_regions='tab:green',
                  l2_crucial='tab:orange')
    curves = None
    if keys:
        panels = [(k.split('/')[0], {f'{ARM_NAMES[r["arm"]]}, seed {r["seed"]}': curve_of(r, k)
                                     for r in runs}) for k in keys]
        styles = {f'{ARM_NAMES[r["arm"]]}, seed {r["seed"]}': dict(
            color=colors.get(r['arm']),
            linestyle='--' if r['arm'] == 'teacher' else ('-', ':')[r['seed'] % 2])
            for r in runs}
        curves = curve_plot(panels, 'FID (lower is better)', osp.join(work_dir, 'curves.png'),
                            styles)
    budget_text = "the configs' own protocol" if full else (
        f'{size}x{size} images, teacher {teacher_iters} / students {student_iters} iterations, '
        f'batch 1, up to {eval_images} test images per metric')
    text = summary(dataset_name, runs, budget_text, time.time() - t0, queue.commands, seeds)
    text += f'\nSample grid (input | teacher | no-KD | ReKo, seed {seeds[0]}): {grid}\n'
    if curves:
        text += f'FID curves: {curves}\n'
    write_results(work_dir, text, runs, log)
    return runs
