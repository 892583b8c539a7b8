"""A GPU check that fits in a few minutes: ``tools/misc/gpu_check.sh`` (which installs the
pure-Python stack from a folder of wheels) runs :func:`run` through ``tools/misc/gpu_check.py``.

1. the environment: Python, torch, CUDA, the GPU, mmcv (lite or full);
2. the test suite's CUDA-marked tests (``pytest -m cuda``);
3. vintagify's generator imported as the teacher (from the installed wheel);
4. the photos: scikit-image's bundled ones (the demo's), or a folder with ``train/`` and ``test/``;
5. the cost of a teacher-target training step (the 7x baseline) and of a ReKo step, at
   ``size`` x ``size``, per batch size and precision (fp32, and AMP: float16 and bfloat16
   autocast with fp32 master weights), as images per second;
6. the 7x student initialised from the teacher (``model.student_init``, the best measured
   recipe) trained for ``train_minutes`` (:class:`~reko_mm.engine.TimeBudgetHook`), validated
   on the held-out photos along the way;
7. its PSNR / SSIM to the teacher on the held-out photos next to the photo itself (the identity
   bar), a side-by-side picture, and its checkpoint.

Everything lands in ``out_dir``: ``gpu_check.json`` (every figure), ``gpu_check.log``, the
picture and ``student_7x.pth``. ``dry_run=True`` runs every stage on the CPU at a tiny budget.
"""
import copy
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from typing import Callable, List, Optional, Sequence

from .arms import ROOT, BenchmarkError, arm_config, config_path, write_config
from .real_teacher import DOMAIN, budget, import_teacher
from ..models.frozen_teacher import PRECISIONS, cpu_has_bf16
from .runner import RunQueue

STUDENT = 'vintagify/vintagify_7x_nokd.py'
STEP_CONFIGS = {'baseline': 'vintagify/vintagify_7x_nokd.py', 'reko': 'vintagify/vintagify_7x.py'}
INIT = dict(rule='norm_scale')


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``; elsewhere what ``platform`` says)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """What the check ran on."""
    import importlib.metadata as md

    import mmcv
    import torch

    import reko_mm  # noqa: F401  (registers the stand-in for mmcv-lite's ops)
    versions = {}
    for dist in ('mmengine', 'mmcv', 'mmcv-lite', 'mmagic', 'numpy', 'diffusers',
                 'transformers', 'opencv-python', 'opencv-python-headless'):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            pass
    cuda = torch.cuda.is_available()
    return dict(python=platform.python_version(), torch=torch.__version__,
                cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version() if cuda else None,
                gpu=torch.cuda.get_device_name(0) if cuda else None,
                cpu=cpu_name(), cpu_count=os.cpu_count(),
                mmcv_ops='stand-in (mmcv-lite)' if getattr(
                    mmcv._ext, '__reko_stand_in__', False) else 'compiled', packages=versions)


def cuda_tests(out_dir: str, log: Callable[[str], None]) -> dict:
    """``pytest -m cuda`` over the test suite; the counts of its JUnit report."""
    import xml.etree.ElementTree as ET
    report = osp.join(out_dir, 'cuda_tests.xml')
    cmd = [sys.executable, '-m', 'pytest', 'tests', '-m', 'cuda', '-q', '-p', 'no:cacheprovider',
           f'--junitxml={report}']
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    for line in proc.stdout.strip().splitlines()[-12:]:
        log('   ' + line)
    counts = dict(returncode=proc.returncode, seconds=time.time() - t0)
    if osp.exists(report):
        suite = ET.parse(report).getroot()
        suite = suite if suite.tag == 'testsuite' else suite[0]
        counts.update({k: int(suite.get(k, 0)) for k in ('tests', 'failures', 'errors',
                                                          'skipped')})
    counts['passed'] = counts.get('tests', 0) - sum(counts.get(k, 0) for k in (
        'failures', 'errors', 'skipped'))
    return counts


def _batch(cfg, batch: int):
    """``batch`` training samples of a config's dataset (random crops), collated."""
    import torch
    from mmengine.dataset import pseudo_collate

    from mmagic.registry import DATASETS
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    torch.manual_seed(0)
    return pseudo_collate([dataset[i % len(dataset)] for i in range(batch)])


def step_times(teacher_ckpt: str, photos: str, size: int, batches: Sequence[int],
               precisions: Sequence[str], device: str, repeats: int,
               log: Callable[[str], None]) -> List[dict]:
    """Median seconds of a training step of each :data:`STEP_CONFIGS` config, per batch size
    and precision (round-robin over the configs), and of the teacher's forward alone."""
    import torch
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    sync = torch.cuda.synchronize if device.startswith('cuda') else None
    rows = []
    for batch in batches:
        for precision in precisions:
            try:
                rows += _step_cell(teacher_ckpt, photos, size, batch, precision, device, repeats,
                                   sync, log)
            except Exception as e:  # one cell (an out-of-memory, a dtype) is not the check
                rows.append(dict(step='all', size=size, batch=batch, precision=precision,
                                 error=f'{type(e).__name__}: {e}'))
                log(f'   | all | {size} | {batch} | {precision} | FAILED: {e} | |')
            if device.startswith('cuda'):
                torch.cuda.empty_cache()
    return rows


def _step_cell(teacher_ckpt, photos, size, batch, precision, device, repeats, sync, log):
    import torch
    from mmengine import MessageHub

    from mmagic.registry import MODELS
    from ..deployment.latency import median_times
    from ..utils.config import load_config
    from .step_cost import optims
    dtype = PRECISIONS[precision]
    models, opts, data = {}, {}, None
    for label, name in STEP_CONFIGS.items():
        path = config_path(name)
        cfg = load_config(path)
        cfg.merge_from_dict(budget(load_config(path), photos, size, 1, 1, 0, teacher_ckpt,
                                   batch))
        cfg.model.student_init = dict(INIT)
        data = data or _batch(cfg, batch)
        torch.manual_seed(0)
        model = MODELS.build(cfg.model).train().to(device)
        model.register_distill_state_saver('gpu_check')
        models[label], opts[label] = model, optims(model, dtype)
    MessageHub.get_current_instance().update_info('iter', 0)
    real = models['baseline'].data_preprocessor(copy.deepcopy(data), True)['inputs']

    def teacher_forward(model=models['baseline'], real=real):
        with torch.no_grad(), torch.autocast(device.split(':')[0], dtype=dtype or torch.float32,
                                                enabled=dtype is not None):
            model.teacher.translate(DOMAIN, real)
    fns = {label: (lambda m=m, o=opts[label]: m.train_step(copy.deepcopy(data), o))
           for label, m in models.items()}
    fns['teacher forward'] = teacher_forward
    times = median_times(fns, warmup=2, repeats=repeats, sync=sync)
    rows = []
    for label, t in times.items():
        rows.append(dict(step=label, size=size, batch=batch, precision=precision, seconds=t,
                         images_per_s=batch / t))
        log(f'   | {label} | {size} | {batch} | {precision} | {1000 * t:.1f} ms | '
            f'{batch / t:.1f} img/s |')
    return rows


def train_student(work_dir: str, teacher_ckpt: str, photos: str, size: int, minutes: float,
                  eval_interval: int, num_test: int, workers: int, log: Callable[[str], None],
                  max_iters: int = 1_000_000) -> dict:
    """The 7x student initialised from the teacher, trained for ``minutes`` by
    ``tools/train.py`` and scored by ``tools/test.py`` (:class:`RunQueue`)."""
    from ..utils.config import load_config
    student = config_path(STUDENT)
    knobs = budget(load_config(student), photos, size, max_iters, eval_interval, 0, teacher_ckpt,
                   num_test=num_test)
    knobs['test_evaluator.metrics'] = knobs['val_evaluator.metrics']  # PSNR / SSIM to teacher
    knobs['train_dataloader.num_workers'] = workers
    knobs['train_dataloader.persistent_workers'] = workers > 0
    knobs['default_hooks.checkpoint'] = dict(interval=max_iters, max_keep_ckpts=1)
    knobs['default_hooks.logger.interval'] = max(1, min(50, eval_interval))
    knobs['custom_hooks'] = [dict(type='TimeBudgetHook', minutes=minutes)]
    cfg = arm_config(student, 'nokd', 'resnet', knobs, student_init=dict(INIT))
    queue = RunQueue(jobs=1, threads=max(1, min(8, os.cpu_count() or 1)),
                     log=lambda s: log('   ' + s), progress_every=30)
    t0 = time.time()
    run = queue.train_and_test(work_dir, write_config(cfg, osp.join(work_dir, 'config.py')),
                               None)
    run['wall_s'] = time.time() - t0
    return run


def release_checkpoint(ckpt: str, out: str) -> dict:
    """The student's weights alone (no optimizer state) from a training checkpoint, as an
    MMagic checkpoint (``state_dict`` and ``meta``) that ``tools/test.py`` and
    ``export_student.py`` load with the run's config."""
    import torch

    from ..utils.safe_load import safe_torch_load
    checkpoint = safe_torch_load(ckpt)
    state = {k: v for k, v in checkpoint['state_dict'].items() if k.startswith('generators.')}
    meta = {k: checkpoint.get('meta', {}).get(k) for k in ('iter', 'epoch')}
    torch.save(dict(state_dict=state, meta=meta), out)
    return dict(path=out, bytes=osp.getsize(out), iter=meta['iter'],
                params=sum(v.numel() for v in state.values()))


def run(out_dir: str, dry_run: bool = False, photos: Optional[str] = None,
        train_minutes: float = 4.0, size: int = 256, batches: Sequence[int] = (1, 8),
        precisions: Sequence[str] = tuple(PRECISIONS), repeats: int = 10,
        run_tests: bool = True, log: Callable[[str], None] = print) -> dict:
    """The check (see the module docstring); returns what ``gpu_check.json`` holds.

    Args:
        out_dir (str): where everything is written (created; a check already there is
            refused).
        dry_run (bool): on the CPU at a tiny budget (64x64, batch 2, fp32 and, where the CPU
            has bf16 units, bf16; 3 s of training): every stage, to check the script.
        photos (str, optional): a folder with ``train/`` and ``test/`` photos (default:
            scikit-image's bundled photos, as ``make demo`` uses).
        train_minutes (float): the student's training budget.
        size (int): the crop side for the timings, the training and the scores.
        batches, precisions, repeats: the step timings' grid and timed steps per cell.
        run_tests (bool): run the CUDA-marked tests.
    """
    import torch
    from mmengine.logging import MMLogger

    from ..demo import TEST_PHOTOS, identity_scores, write_photos
    from ..utils.progress import Stages
    # what the check builds in this process logs only warnings: its stages say what happens
    MMLogger.get_instance('reko_mm_gpu_check', log_level='WARNING')
    if osp.exists(osp.join(out_dir, 'gpu_check.json')):
        raise BenchmarkError(f'{out_dir} already holds a GPU check (gpu_check.json): give another '
                             'output folder, or delete it')
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if not dry_run and device != 'cuda':
        raise BenchmarkError(f'torch {torch.__version__} sees no CUDA GPU (torch.version.cuda='
                             f'{torch.version.cuda}): run on a GPU machine, or give --dry-run '
                             'for the tiny CPU run')
    if dry_run:
        size, batches, repeats, train_minutes = 64, (2,), 2, 0.05
        precisions = ('fp32',) + (('bf16',) if cpu_has_bf16() and device == 'cpu' else ())
    for p in precisions:
        if p not in PRECISIONS:
            raise BenchmarkError(f'unknown precision {p!r}: one of {list(PRECISIONS)}')
    os.makedirs(out_dir, exist_ok=True)
    work = osp.join(out_dir, 'work')
    logfile = open(osp.join(out_dir, 'gpu_check.log'), 'a')

    def say(line: str) -> None:
        log(line)
        logfile.write(line + '\n')
        logfile.flush()
    stages = Stages(dict(env=5, tests=60 if run_tests else 0, teacher=10, steps=40,
                         train=60 * train_minutes + 40, score=20), say)
    result = dict(dry_run=dry_run, device=device, size=size, failed=[])
    t0 = time.time()

    def stage(name: str, what: str, fn: Callable):
        """Run one stage; a failure is recorded (and the check goes on where it can)."""
        stages.start(name, what)
        try:
            result[name] = fn()
        except Exception as e:  # the check reports every stage it could run
            import traceback
            result[name] = dict(error=f'{type(e).__name__}: {e}',
                                traceback=traceback.format_exc())
            result['failed'].append(name)
            say(f'   FAILED: {type(e).__name__}: {e}')
        return result[name]
    env = stage('environment', 'the environment', environment)
    say('   ' + json.dumps(env))
    if run_tests:
        tests = stage('cuda_tests', 'the CUDA-marked tests (pytest -m cuda)',
                      lambda: cuda_tests(out_dir, say))
        if tests.get('returncode'):
            result['failed'].append('cuda_tests')

    def teacher_and_photos():
        teacher = import_teacher(work, log=lambda s: say('   ' + s))
        root = photos or write_photos(work)
        listed = {split: sorted(f for f in os.listdir(osp.join(root, split))
                                if not f.startswith('.')) for split in ('train', 'test')}
        return dict(ckpt=teacher, photos=root, num_train=len(listed['train']),
                    num_test=len(listed['test']) if photos else len(TEST_PHOTOS))
    data = stage('teacher', "vintagify's generator as the teacher; the photos",
                 teacher_and_photos)
    if 'error' in data:
        return finish(result, out_dir, t0, say, logfile)
    teacher = data['ckpt']

    def steps():
        say('   | step | size | batch | precision | time | images/s |')
        return step_times(teacher, data['photos'], size, batches, precisions, device, repeats,
                          say)
    rows = stage('steps', f'training-step cost at {size}x{size}, batch {list(batches)}, '
                          f'{list(precisions)} (median of {repeats})', steps)
    # the run's iterations, from the baseline step measured here (the budget ends it first)
    step_s = next((r['seconds'] for r in rows if isinstance(rows, list) and
                   r['step'] == 'baseline' and r['batch'] == 1 and r['precision'] == 'fp32'),
                  None) if isinstance(rows, list) else None
    max_iters = int(1.5 * 60 * train_minutes / step_s) + 10 if step_s else 1_000_000
    eval_interval = max(1, max_iters // 10)
    run_ = stage('train', f'the 7x student initialised from the teacher, {train_minutes:g} min '
                          f'at {size}x{size}, batch 1',
                 lambda: train_student(osp.join(work, 'student_7x'), teacher, data['photos'],
                                       size, train_minutes, eval_interval, data['num_test'],
                                       2 if dry_run else 4, say, max_iters))
    if 'error' in run_:
        return finish(result, out_dir, t0, say, logfile)

    def score():
        identity = identity_scores(run_, teacher)
        released = release_checkpoint(run_['ckpt'], osp.join(out_dir, 'student_7x.pth'))
        return dict(config=run_['cfg'], iters=released['iter'], wall_s=run_['wall_s'],
                    train_minutes=train_minutes, psnr=run_['metrics']['teacher/psnr'],
                    ssim=run_['metrics']['teacher/ssim'], identity=identity,
                    curve=run_['curve'], checkpoint=released,
                    picture=side_by_side(run_, osp.join(out_dir, 'side_by_side.png')),
                    commands=run_.get('commands', []))
    s = stage('student', 'the student against the teacher on the held-out photos, and the '
                         'photo itself', score)
    if 'error' not in s:
        say(f"\nthe 7x student trained {s['iters']} iterations in {s['wall_s'] / 60:.1f} min; "
            f"PSNR {s['psnr']:.2f} dB, SSIM {s['ssim']:.3f} to the teacher on "
            f"{data['num_test']} held-out photos (the photo itself: "
            f"{s['identity']['psnr']:.2f} dB, {s['identity']['ssim']:.3f}); "
            f"checkpoint: {s['checkpoint']['path']}")
    return finish(result, out_dir, t0, say, logfile)


def finish(result: dict, out_dir: str, t0: float, say: Callable, logfile) -> dict:
    """Write ``gpu_check.json`` and the closing line."""
    result['wall_s'] = time.time() - t0
    path = osp.join(out_dir, 'gpu_check.json')
    with open(path, 'w') as f:
        json.dump(result, f, indent=1, default=str)
    where = result.get('environment', {}).get('gpu') or 'the CPU'
    status = ('FAILED: ' + ', '.join(result['failed'])) if result['failed'] else 'passed'
    say(f"GPU check {status}, {result['wall_s'] / 60:.1f} min on {where}; every figure: {path}")
    logfile.close()
    return result


def side_by_side(run_: dict, out_png: str) -> str:
    """photo | teacher | student of the held-out photos."""
    import torch

    from ..demo import _test_batch
    from .report import sample_grid
    model, x = _test_batch(run_['cfg'], run_['ckpt'])
    with torch.no_grad():
        columns = [x, model.teacher.translate(DOMAIN, x, exact=True), model.generators[DOMAIN](x)]
    return sample_grid(columns, out_png)

