"""The quick start (``make demo``): distil a real trained generator, vintagify's photo -> vintage
CycleGAN generator (11.39 M parameters), into the paper's 7x student (ngf 24): a teacher-target
baseline, a ReKo student and a ReKo student initialised from the teacher's channels
(``model.student_init``), side by side, on photos that ship with scikit-image; score them
against the teacher on held-out photos, time teacher and student, export the last student.

Every stage prints a line with the elapsed time and an estimate of what is left. Finished runs
are reused, partial ones resumed (delete the work dir to train again).
"""
import json
import os
import os.path as osp
import time

from .benchmarks.arms import arm_config, config_path, write_config
from .benchmarks.real_teacher import DOMAIN, budget, import_teacher
from .benchmarks.report import sample_grid
from .benchmarks.runner import RunQueue
from .utils.progress import Stages

# scikit-image's bundled colour photos: the students train on the first, are scored on the rest
TRAIN_PHOTOS = ['astronaut.png', 'motorcycle_left.png', 'motorcycle_right.png', 'rocket.jpg',
                'hubble_deep_field.jpg', 'ihc.png']
TEST_PHOTOS = ['chelsea.png', 'coffee.png']
STUDENT = 'vintagify/vintagify_7x_nokd.py'
ARMS = {'nokd': 'teacher-target baseline', 'reko': 'ReKo',
        'reko_init': 'ReKo, initialised from the teacher'}
INIT = {'reko_init': ('reko', dict(rule='norm_scale'))}  # arm: (method, model.student_init)
EXPORTED = 'reko_init'  # the student the demo exports and points to


def write_photos(work: str, train=TRAIN_PHOTOS, test=TEST_PHOTOS) -> str:
    """``train/`` and ``test/`` folders of scikit-image's sample photos, written as plain RGB
    PNGs (some carry colour profiles that make libpng warn on every read)."""
    import skimage
    from PIL import Image
    data = osp.join(osp.dirname(skimage.__file__), 'data')
    root = osp.join(work, 'photos')
    for split, names in (('train', train), ('test', test)):
        os.makedirs(osp.join(root, split), exist_ok=True)
        for name in names:
            out = osp.join(root, split, osp.splitext(name)[0] + '.png')
            if not osp.exists(out):
                img = Image.open(osp.join(data, name)).convert('RGB')
                img.info.pop('icc_profile', None)
                img.save(out, icc_profile=None)
    return root


def run(work_dir: str = 'work_dirs/demo', iters: int = 600, size: int = 128,
        eval_size: int = 256, precision: str = 'bf16', log=print) -> dict:
    """The demo; returns what it printed as numbers and paths."""
    import torch
    from mmengine.logging import MMLogger
    # what the demo builds in this process logs only warnings: its stages say what happens
    MMLogger.get_instance('reko_mm_demo', log_level='WARNING')
    work_dir = osp.abspath(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    step = 0.45 * iters  # three students, two at a time, ~0.3 s a step each on 2 cores
    stages = Stages(dict(teacher=10, students=step + 60, score=60, speed=40, export=30), log)
    stages.start('teacher', "import vintagify's generator as the teacher")
    teacher = import_teacher(work_dir, log=lambda s: log('   ' + s))
    photos = write_photos(work_dir)
    stages.start('students', f'train the baseline, the ReKo student and the ReKo student '
                             f'initialised from the teacher ({iters} iterations at {size}x{size}, '
                             'two at a time)')
    queue = RunQueue(jobs=2, threads=1, log=lambda s: log('   ' + s), progress_every=30)
    student = config_path(STUDENT)
    from .utils.config import load_config
    base = load_config(student)

    def one(arm):
        knobs = budget(base, photos, size, iters, iters, 0, teacher, 1, precision,
                       num_test=len(TEST_PHOTOS))
        # train on size x size crops of the photos at eval_size (the scale they are scored
        # at), score at eval_size on the held-out photos (PSNR / SSIM to the teacher)
        for t in knobs['train_dataloader.dataset.pipeline']:
            if t['type'] == 'Resize':
                t['scale'] = (eval_size, -1)
        for loader in ('val_dataloader', 'test_dataloader'):
            for t in knobs[loader]['dataset']['pipeline']:
                if t['type'] == 'Resize':
                    t['scale'] = (eval_size, -1)
                elif t['type'] == 'Crop':
                    t['crop_size'] = (eval_size, eval_size)
        knobs['test_evaluator.metrics'] = knobs['val_evaluator.metrics']
        method, init = INIT.get(arm, (arm, None))
        cfg = arm_config(student, method, 'resnet', knobs, student_init=init)
        work = osp.join(work_dir, arm)
        return queue.train_and_test(work, write_config(cfg, osp.join(work, 'config.py')),
                                    iters)
    runs = dict(zip(ARMS, queue.map(one, list(ARMS), name=lambda a: ARMS[a])))
    stages.start('score', 'score the students against the teacher, and what returning the photo '
                          'scores')
    identity = identity_scores(runs['nokd'], teacher)
    grid = side_by_side(runs, teacher, osp.join(work_dir, 'side_by_side.png'), eval_size)
    stages.start('speed', f'time teacher and student ({eval_size}x{eval_size}, OpenVINO)')
    speed = speed_up(runs[EXPORTED]['cfg'], eval_size)
    stages.start('export', f'export the student ({ARMS[EXPORTED]}) in the fastest form on this '
                           'machine')
    from .deployment import export_student
    export_dir = osp.join(work_dir, 'export')
    deploy = osp.join(export_dir, 'config_deploy.json')
    if not osp.exists(deploy):
        export_student(runs[EXPORTED]['cfg'], runs[EXPORTED]['ckpt'], export_dir,
                       ['pth', 'fastest'], num_images=len(TEST_PHOTOS), log=lambda s: None)
    exported = json.load(open(deploy))[f'photo2{DOMAIN}']
    params = {k: sum(p.numel() for p in net.parameters()) / 1e6 for k, net in
              _nets(runs[EXPORTED]['cfg']).items()}
    summary = dict(runs={a: dict(psnr=r['metrics']['teacher/psnr'],
                                 ssim=r['metrics']['teacher/ssim'], ckpt=r['ckpt'])
                         for a, r in runs.items()},
                   identity=identity, params=params, speed=speed, grid=grid,
                   export=osp.join(export_dir, exported['file']), export_runtime=exported,
                   minutes=(time.time() - stages.t0) / 60, torch=torch.__version__)
    log(text(summary, size, eval_size, iters, work_dir))
    with open(osp.join(work_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1, default=str)
    return summary


def _nets(cfg_path: str) -> dict:
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope

    from .apis import teacher_and_student_generators
    from .utils.config import load_config
    init_default_scope('mmagic')
    gens = teacher_and_student_generators(load_config(cfg_path))
    return {n: MODELS.build(gens[n]).eval() for n in ('teacher', 'student')}


def _test_batch(cfg_path: str, ckpt: str):
    """(the model with its teacher, the held-out photos preprocessed)."""
    from .deployment import real_inputs
    from .apis import evaluation_config
    from .utils import load_state_strict
    from .utils.config import load_config
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    cfg = evaluation_config(load_config(cfg_path))
    model = MODELS.build(cfg.model)
    load_state_strict(model, ckpt, cfg_path)
    return model.eval(), real_inputs(cfg, model, 'photo', len(TEST_PHOTOS))


def identity_scores(run_: dict, teacher_ckpt: str) -> dict:
    """PSNR / SSIM of the photos themselves against the teacher's translations of them."""
    from .evaluation import GroundTruthError
    import torch
    model, x = _test_batch(run_['cfg'], run_['ckpt'])
    with torch.no_grad():
        y = model.teacher.translate(DOMAIN, x, exact=True)
    metric = GroundTruthError(fake_key='photo', gt_key='teacher', mask_key=None,
                              prefix='identity')
    metric.process({}, [dict(photo=(a + 1) * 127.5, teacher=((b + 1) * 127.5).clamp(0, 255))
                        for a, b in zip(x, y)])
    out = metric.compute_metrics(metric.results)
    return dict(psnr=out['psnr'], ssim=out['ssim'])


def side_by_side(runs: dict, teacher_ckpt: str, out_png: str, size: int) -> str:
    """photo | teacher | each student (``ARMS``) of the held-out photos, ``size`` x ``size``."""
    import torch
    columns = []
    for arm in ARMS:
        model, x = _test_batch(runs[arm]['cfg'], runs[arm]['ckpt'])
        with torch.no_grad():
            if not columns:
                columns = [x, model.teacher.translate(DOMAIN, x, exact=True)]
            columns.append(model.generators[DOMAIN](x))
    return sample_grid(columns, out_png)


def speed_up(cfg_path: str, size: int) -> dict:
    """Teacher and student in the fastest exact CPU runtime here (OpenVINO where installed),
    2 threads, on the split-narrow graph."""
    import tempfile

    import torch

    from .deployment import TOLERANCE, runtime_available, split_narrow_convs
    from .deployment.latency import compare_latency
    nets = _nets(cfg_path)
    runtime = 'openvino' if runtime_available('openvino') is None else 'pytorch'
    graphs = {'split-narrow': {n: split_narrow_convs(m)[0] for n, m in nets.items()}}
    x = torch.rand(1, 3, size, size) * 2 - 1
    with torch.no_grad(), tempfile.TemporaryDirectory() as tmp:
        rows, _, _ = compare_latency(graphs, x, [runtime], [2], 3, 10, TOLERANCE,
                                     nets['student'](x).numpy(), tmp, log=lambda r: None)
    r = rows[0]
    return dict(runtime=runtime, teacher_ms=r['teacher_ms'], student_ms=r['student_ms'],
                speedup=r['speedup'])


def text(s: dict, size: int, eval_size: int, iters: int, work_dir: str) -> str:
    """The closing summary the demo prints."""
    sp, p = s['speed'], s['params']
    rows = [f'| {ARMS[a]} | {r["psnr"]:.2f} | {r["ssim"]:.3f} |' for a, r in s['runs'].items()]
    return '\n'.join([
        '',
        f"Quick start finished in {s['minutes']:.1f} min.",
        f"teacher: {p['teacher']:.2f} M parameters, {sp['teacher_ms']:.1f} ms per "
        f"{eval_size}x{eval_size} photo ({sp['runtime']}, 2 threads)",
        f"student: {p['student']:.2f} M parameters ({p['teacher'] / p['student']:.1f}x fewer), "
        f"{sp['student_ms']:.1f} ms: {sp['speedup']:.2f}x faster",
        '',
        f'Held-out photos ({len(TEST_PHOTOS)}, {eval_size}x{eval_size}) against the teacher\'s '
        f'translations, after {iters} training iterations at {size}x{size}:',
        '| student | PSNR (dB) | SSIM |', '|---|---|---|', *rows,
        f"| (the photo itself, unchanged) | {s['identity']['psnr']:.2f} | "
        f"{s['identity']['ssim']:.3f} |",
        'One seed and a few minutes rank nothing, and a student below the photo-itself row '
        'has not learnt the filter yet: the real-teacher benchmark (docs/results.md) trains '
        '8 seeds per method.',
        f"  side by side      : {s['grid']} (photo | teacher | " + ' | '.join(ARMS.values())
        + ')',
        f"  student checkpoint: {s['runs'][EXPORTED]['ckpt']} ({ARMS[EXPORTED]})",
        '                      (a plain MMagic Pix2Pix checkpoint: it loads strictly into '
        f'configs/reko/{STUDENT} with model.type=Pix2Pix)',
        f"  exported student  : {s['export']} ({s['export_runtime']['runtime']}, "
        f"{s['export_runtime']['median_ms']:.1f} ms at {s['export_runtime']['input_shape'][-1]}"
        ' px)',
        f'  everything        : {work_dir}',
    ])
