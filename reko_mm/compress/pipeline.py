"""``tools/compress.py``: one command from a trained generator file and a folder of images to a
student that is scored, exported and reported.

The steps (each printed with the elapsed time and an estimate of what is left):

1. import the generator (:func:`reko_mm.converters.import_generator`: layout detection, colour
   order, the conversion proved on a test input) as the teacher;
2. choose the student (``ratio`` or ``width``) and print its size and FLOPs beside the teacher's;
3. read the data (:mod:`.data`): the teacher's inputs, held-out images split off if needed;
4. write the run's config, an MMagic config that inherits a shipped recipe (:mod:`.plan`), and
   check it (data, UNet depth) before any training;
5. train it with ``tools/train.py`` (the fast teacher-target recipe of the released students:
   the teacher's translations computed once, the student initialised from the teacher, 4 images a
   step, the rate decayed linearly over the second half; with a distillation method, the
   teacher's features at the layers its terms read computed once as well), with a
   progress bar; a rerun of the same command resumes, Ctrl-C leaves a resumable run;
6. score the student against the teacher on the held-out images beside the unchanged image;
7. export it in the fastest runtime of this machine (verified), and time it beside the teacher;
8. write ``report.html`` and ``report.json`` (:mod:`.report`).
"""
import json
import os
import os.path as osp
import shutil
import sys
import time
from typing import Optional

from ..benchmarks.arms import ROOT
from .data import prepare_data
from .plan import (SOURCE, STEP_GUESS_S, TARGET, CompressError, check_ratio, check_record,
                   config_text, read_json, release_iters, run_overrides, student_width,
                   write_json, write_record, write_run_config)

TRAIN_TOOL = osp.join(ROOT, 'tools', 'train.py')
STEP_OVERHEAD = 1.15  # a training step of tools/train.py over the timed step (iters_in)


def default_work_dir(generator: str, ratio: Optional[str], width: Optional[int],
                     method: str) -> str:
    stem = osp.splitext(osp.basename(generator))[0]
    return osp.join('work_dirs', 'compress',
                    f"{stem}_{ratio if width is None else f'w{width}'}_{method}")


def _step_seconds(cfg_path: str, teacher: str, size: int, batch: int, precision: str) -> float:
    """Seconds of one training step of the run's config here (the median of 2 after a warm-up;
    random pixels, and random teacher features where a method reads them)."""
    from ..benchmarks.fast_step import fast_step_cost
    arm = 'cached' + (' bf16' if precision == 'bf16' else '')
    rows = fast_step_cost(cfg_path, cfg_path, teacher, sizes=[size], batches=[batch],
                          repeats=2, arms=[arm], log=lambda s: None)
    return rows[0]['step_s']


def compress(generator: str, data: str, work_dir: Optional[str] = None, ratio: str = '7x',
             width: Optional[int] = None, method: str = 'none', size: int = 256,
             iters: Optional[int] = None, minutes: Optional[float] = None,
             precision: str = 'auto', layout: str = 'auto', direction: str = 'AtoB',
             holdout: Optional[int] = None, seed: int = 0, key: Optional[str] = None,
             source_channel_order: Optional[str] = None, threads: int = 0,
             argv: Optional[list] = None, log=print) -> dict:
    """Compress the generator in ``generator`` on the images of ``data``; returns the report's
    figures (also written to ``<work_dir>/report.json``). See ``tools/compress.py --help``."""
    import torch

    from ..apis import generator_complexity
    from ..benchmarks.runner import RunQueue, progress_bar
    from ..converters import import_generator
    from ..utils.checkpoint import file_sha256
    from ..benchmarks.gpu_check import cpu_name
    from ..utils.progress import Stages
    from .report import write_report

    if iters is not None and minutes is not None:
        raise CompressError('give --iters or --minutes, not both')
    if iters is not None and iters < 2:
        raise CompressError(f'--iters {iters}: train at least 2 iterations')
    if minutes is not None and minutes <= 0:
        raise CompressError(f'--minutes {minutes}: give a positive number of minutes')
    if precision == 'auto':  # bf16 where the CPU has bf16 units (AVX-512 bf16, AMX)
        from ..models.frozen_teacher import cpu_has_bf16
        precision = 'bf16' if cpu_has_bf16() else 'fp32'
    if precision not in ('bf16', 'fp32'):
        raise CompressError(f"--precision must be auto, bf16 or fp32, got {precision!r}")
    if size < 16 or size % 4:
        raise CompressError(f'--size {size}: give a multiple of 4, at least 16 (256 is the '
                            'recipe\'s)')
    if not osp.isfile(generator):
        raise CompressError(f'generator file not found: {osp.abspath(generator)}')
    check_ratio(ratio, width)
    from mmengine.logging import MMLogger
    # what this process builds logs only errors: the steps below say what happens
    MMLogger.get_instance('reko_mm_compress', log_level='ERROR')
    work_dir = osp.abspath(work_dir or default_work_dir(generator, ratio, width, method))
    threads = threads or min(os.cpu_count() or 1, 16)
    args = dict(generator=osp.abspath(generator), generator_sha256=file_sha256(generator),
                key=key, source_channel_order=source_channel_order,
                data=osp.abspath(data), layout=layout, direction=direction, holdout=holdout,
                ratio=None if width is not None else ratio, width=width, method=method,
                size=size, iters=iters, minutes=minutes, precision=precision, seed=seed)
    state = check_record(work_dir, args)
    if state == 'restart':  # another compression that never trained: start it afresh
        for sub in ('teacher', 'data', 'config', 'train'):
            shutil.rmtree(osp.join(work_dir, sub), ignore_errors=True)
    write_record(work_dir, args)

    stages = Stages(dict(teacher=10, student=5, data=10, config=30,
                         train=minutes * 60 if minutes is not None else
                         (iters or release_iters()) * STEP_GUESS_S[precision] * (size / 256)**2,
                         score=60, export=90, report=5), log)
    t0 = time.time()
    sub = lambda s: log('   ' + s)  # noqa: E731

    stages.start('teacher', f'import the generator: {generator}')
    teacher = osp.join(work_dir, 'teacher', 'teacher.pth')
    if osp.exists(teacher):
        from ..models import read_checkpoint
        meta = read_checkpoint(teacher)[1]
        sub(f'imported before: {teacher} ({meta["description"]})')
    else:
        from ..converters import GeneratorImportError
        try:
            meta = import_generator(generator, teacher, TARGET, key=key,
                                    source_channel_order=source_channel_order, log=sub)
        except GeneratorImportError as err:  # (name the file: the message may not)
            raise GeneratorImportError(f'{generator}: {err}' if generator not in str(err)
                                       else str(err)) from None
    teacher_cfg = dict(meta['generator_cfg'])

    stages.start('student', 'choose the student')
    try:
        width = student_width(teacher_cfg, None if width is not None else ratio, width)
    except CompressError as err:
        raise CompressError(f'{generator}: {err}') from None
    from ..utils.data_check import unet_side_problem
    problem = unet_side_problem(teacher_cfg, size, 'the teacher', '--size')
    if problem:
        raise CompressError(problem.replace('Crop to a multiple', 'Give --size, a multiple'))
    student_cfg = dict(teacher_cfg, base_channels=width)
    sizes = {}
    for name, cfg in (('teacher', teacher_cfg), ('student', student_cfg)):
        params, flops = generator_complexity(cfg, (size, size))
        sizes[name] = dict(params_m=params, gflops=flops, width=cfg.get('base_channels', 64))
    sizes['param_ratio'] = sizes['teacher']['params_m'] / sizes['student']['params_m']
    sizes['flop_ratio'] = sizes['teacher']['gflops'] / sizes['student']['gflops']
    for name in ('teacher', 'student'):
        s = sizes[name]
        sub(f"{name}: {teacher_cfg['type']} width {s['width']}, {s['params_m']:.2f} M parameters, "
            f"{s['gflops']:.2f} GFLOPs at {size}x{size}")
    sub(f"the student is {sizes['param_ratio']:.1f}x smaller and needs "
        f"{sizes['flop_ratio']:.1f}x fewer FLOPs")

    stages.start('data', f'read the data: {data}')
    photos = osp.join(work_dir, 'data', 'photos')
    data_info = prepare_data(data, photos, layout, direction, holdout, log=log)

    stages.start('config', "write the run's config and time a training step")
    plan = _read_plan(work_dir)
    run_iters = plan.get('iters') or iters or release_iters()
    cfg_path = _write_config(work_dir, teacher_cfg, teacher, width, method, photos, size,
                             run_iters, precision, seed, generator, argv)
    sub(f'{cfg_path}')
    from ..utils.config import load_config
    batch = load_config(cfg_path).train_dataloader.batch_size  # the recipe's
    if 'step_s' not in plan:  # time a step here: the training's length, or what fits
        plan['step_s'] = _step_seconds(cfg_path, teacher, size, batch, precision)
        if minutes is not None:
            run_iters = iters_in(minutes, plan['step_s'])
            cfg_path = _write_config(work_dir, teacher_cfg, teacher, width, method, photos,
                                     size, run_iters, precision, seed, generator, argv)
        plan['iters'] = run_iters
        _write_plan(work_dir, plan)
    step_s = plan['step_s']
    sub(f'a training step of {batch} images takes {step_s:.2f} s here: {run_iters} iterations '
        f'take about {run_iters * step_s * STEP_OVERHEAD / 60:.0f} min' +
        (f' (what fits in --minutes {minutes:g})' if minutes is not None else ''))
    stages.estimates['train'] = run_iters * step_s * STEP_OVERHEAD * 1.1
    sub(f'train it again, or after editing it: python {shown(TRAIN_TOOL)} {shown(cfg_path)} '
        f'--work-dir {shown(osp.join(work_dir, "train"))} --resume')

    stages.start('train', f'train the student: {run_iters} iterations of {batch} images at '
                          f'{size}x{size} ({precision}, method {method})')
    cfg = load_config(cfg_path)
    from ..datasets.teacher_translations import build_teacher_translations
    t = time.time()
    info = build_teacher_translations(cfg, log=lambda s: None)
    features = cfg.train_dataloader.dataset.get('features')
    sub(f"the teacher's translations of the {data_info['train']} training images"
        + (f" and its features at {', '.join(features)}" if features else '') +
        f": {info['built']} built, {info['kept']} kept ({time.time() - t:.0f} s, "
        f"{info['bytes'] / 2**20:.0f} MiB, {cfg.train_dataloader.dataset.data_root})")
    queue = RunQueue(jobs=1, threads=threads, log=sub, progress_every=20,
                     progress=lambda p: progress_bar(p, batch))
    os.makedirs(osp.join(work_dir, 'train'), exist_ok=True)
    run = queue.train_and_test(osp.join(work_dir, 'train'), cfg_path, run_iters)

    stages.start('score', f"score the student against the teacher on "
                          f"{min(data_info['test'], 200)} held-out images, beside the unchanged "
                          'image')
    from ..benchmarks.teacher_scores import scores_against_teacher
    grid = osp.join(work_dir, 'side_by_side.jpg')
    scores = scores_against_teacher(cfg_path, run['ckpt'], teacher,
                                     osp.join(photos, 'test'), sizes=[size], num=200,
                                     log=sub, grid=grid)[str(size)]
    sub(f"student {scores['psnr']:.2f} dB / SSIM {scores['ssim']:.3f} / KID "
        f"{scores['kid']:.4f} / detail {scores['detail']:.2f}; the unchanged image "
        f"{scores['identity_psnr']:.2f} dB / {scores['identity_ssim']:.3f} / "
        f"{scores['identity_kid']:.4f} / {scores['identity_detail']:.2f} (detail: the teacher's "
        'is 1)')

    stages.start('export', 'export the student in the fastest runtime here, and time it '
                           'beside the teacher')
    from ..deployment import export_student
    from ..deployment.latency import speed_up
    from ..apis import build_model_from_config
    export_dir = osp.join(work_dir, 'export')
    name = osp.splitext(osp.basename(cfg_path))[0]
    manifest = osp.join(export_dir, f'{name}_deploy.json')
    if osp.exists(manifest) and osp.getmtime(manifest) >= osp.getmtime(run['ckpt']):
        sub(f'exported before: {manifest}')
    else:  # (an export of an earlier checkpoint, or an interrupted one, is this run's: redone)
        export_student(cfg_path, run['ckpt'], export_dir, ['pth', 'fastest'],
                       num_images=min(4, data_info['test']), overwrite=True, threads=threads,
                       log=lambda s: None)
    with open(manifest) as f:
        deployed = json.load(f)[f'{SOURCE}2{TARGET}']
    model = build_model_from_config(cfg_path, run['ckpt'])
    with torch.no_grad():
        latency = speed_up(dict(teacher=model.teacher[TARGET], student=model.generators[TARGET]),
                           size)
    sub(f"{deployed['runtime']} ({deployed['graph']} graph): {deployed['median_ms']:.1f} ms; "
        f"teacher {latency['teacher_ms']:.1f} ms and student {latency['student_ms']:.1f} ms in "
        f"{latency['runtime']}: {latency['speedup']:.2f}x")

    stages.start('report', 'write the report')
    figures = dict(
        generator=args['generator'], generator_sha256=args['generator_sha256'],
        teacher=dict(file=teacher, description=meta['description'],
                     channel_order=meta.get('channel_order'),
                     source_channel_order=meta.get('source_channel_order')),
        sizes=sizes, data=data_info, method=method, precision=precision, image_size=size,
        iterations=run_iters, batch=batch, images_seen=run_iters * batch, seed=seed,
        config=cfg_path, checkpoint=run['ckpt'], curve=run['curve'],
        test_metrics=run['metrics'], scores=scores,
        beats_unchanged=bool(scores['psnr'] > scores['identity_psnr'] and
                             scores['ssim'] > scores['identity_ssim']),
        export=dict(deployed, path=osp.join(export_dir, deployed['file']),
                    plain_checkpoint=osp.join(export_dir, f'{name}.pth')),
        latency=latency, grid=grid, threads=threads, resumed=state == 'same',
        torch=torch.__version__, cpu=cpu_name(), minutes=(time.time() - t0) / 60,
        commands=dict(compress=_command(argv), train=run.get('commands') or queue.commands,
                      score=f'python tools/analysis_tools/score_against_teacher.py {cfg_path} '
                            f"{run['ckpt']} --teacher-ckpt {teacher} --photos "
                            f"{osp.join(photos, 'test')} --sizes {size} --num 200 --grid {grid}",
                      export=f"python tools/deployment/export_student.py {cfg_path} "
                             f"{run['ckpt']} --out-dir {export_dir} --formats pth fastest"))
    html, js = write_report(figures, work_dir)
    log(f'\nreport: {html}\nfigures: {js}\nstudent: {figures["export"]["path"]} '
        f"({deployed['runtime']}), plain MMagic checkpoint {figures['export']['plain_checkpoint']}")
    return figures


def shown(path: str) -> str:
    """``path`` relative to the current folder when it is inside it, else absolute."""
    rel = osp.relpath(path)
    return path if rel.startswith('..') else rel


def _command(argv: Optional[list]) -> str:
    import shlex
    argv = argv if argv is not None else sys.argv
    return 'python tools/compress.py ' + ' '.join(shlex.quote(a) for a in argv[1:])


def iters_in(minutes: float, step_s: float) -> int:
    """The iterations of ``step_s`` seconds (a step timed on random pixels) that fit in
    ``minutes`` of training: a tenth of it and 20 s left for validation and checkpoints, and a
    training step counted 15 % slower than the timed one (data loading and logging: 0.74 s
    against 0.65 s timed, 4 images at 256x256 on 2 cores with AMX). At least 2."""
    return max(2, int((minutes * 60 * 0.9 - 20) / (step_s * STEP_OVERHEAD)))


def _read_plan(work_dir: str) -> dict:
    path = osp.join(work_dir, 'config', 'plan.json')
    return read_json(path, 'the timed step and the iterations') if osp.exists(path) else {}


def _write_plan(work_dir: str, plan: dict) -> None:
    write_json(osp.join(work_dir, 'config', 'plan.json'), plan)


def _write_config(work_dir, teacher_cfg, teacher, width, method, photos, size, iters, precision,
                  seed, generator, argv):
    overrides = run_overrides(teacher_cfg, teacher, width, method, photos,
                              osp.join(work_dir, 'data', 'cache'), size, iters, precision, seed)
    path = osp.join(work_dir, 'config', f'student_w{width}_{method}.py')
    header = [f'Written by tools/compress.py: the student of {osp.abspath(generator)}',
              f'(width {width}, method {method}), {iters} iterations at {size}x{size} '
              f'({precision}).',
              f'Its domain names are the recipe\'s: {SOURCE!r} = your input images, {TARGET!r} = '
              "the generator's output.", f'  {_command(argv)}']
    text = config_text(overrides, method, shown(osp.join(work_dir, 'train')), shown(path),
                       header, shown(TRAIN_TOOL))
    return write_run_config(path, text, overrides)
