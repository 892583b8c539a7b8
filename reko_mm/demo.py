"""The quick start (``make demo``): the released 7x student of vintagify's photo -> vintage
CycleGAN generator (11.39 M parameters) first, beside the photo and the teacher, with its scores,
speed-up and export; then a short distillation of the same teacher into the same 7x student with
the fast recipe, on photos that ship with scikit-image, scored the same way.

Every stage prints a line with the elapsed time and an estimate of what is left. A finished short
run is reused, a partial one resumed (delete the work dir to train again).
"""
import json
import os
import os.path as osp
import time
from typing import Optional

from .benchmarks.arms import config_path
from .benchmarks.real_teacher import DOMAIN, import_teacher
from .benchmarks.report import sample_grid
from .benchmarks.runner import RunQueue
from .compress.plan import FAST as SHORT  # the short run's recipe (the released one's)
from .compress.plan import STEP_GUESS_S
from .utils.progress import Stages

# scikit-image's bundled colour photos: the short run trains on the first, all are scored on the
# rest
TRAIN_PHOTOS = ['astronaut.png', 'motorcycle_left.png', 'motorcycle_right.png', 'rocket.jpg',
                'hubble_deep_field.jpg', 'ihc.png']
TEST_PHOTOS = ['chelsea.png', 'coffee.png']
RELEASED = 'vintagify_7x_nokd_release'  # the configs/reko/metafile.yml entry the demo shows first
ROWS = {'released': 'released 7x student', 'short': 'short run, this machine'}


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


def short_run_config(work_dir: str, photos: str, teacher: str, steps: int,
                     precision: str) -> str:
    """The short run's config, ``<work_dir>/config/`` under ``SHORT``'s name (the runner dumps
    the merged config into ``<work_dir>/short/``, as it does for every run): ``SHORT`` (the
    released student's recipe) as its ``_base_``, on the demo's photos and teacher, ``steps``
    steps with one validation at the end (``compress.plan.run_overrides``, as
    ``tools/compress.py`` writes its runs). The released student is scored and exported
    through it too (same student, same photos, same metric)."""
    from .compress.plan import config_text, run_overrides, write_run_config
    from .models import read_checkpoint
    from .utils.config import load_config
    teacher_cfg = read_checkpoint(teacher)[1]['generator_cfg']
    width = load_config(config_path(SHORT)).model.generator.base_channels
    overrides = run_overrides(teacher_cfg, teacher, width, 'none', photos,
                              osp.join(work_dir, 'cache'), 256, steps, precision, seed=0,
                              validations=1)
    path = osp.join(work_dir, 'config', osp.basename(SHORT))
    header = [f'Written by tools/demo.py: the short run, {steps} steps ({precision}).']
    return write_run_config(path, config_text(overrides, 'none', osp.join(work_dir, 'short'),
                                              path, header), overrides)


# steps of the short run by default: a few minutes on 2 cores
STEPS = dict(bf16=300, fp32=80)


def run(work_dir: str = 'work_dirs/demo', steps: Optional[int] = None,
        precision: str = 'auto', log=print) -> dict:
    """The demo; returns what it printed as numbers and paths. ``precision``: the short run's,
    ``'bf16'`` (autocast, float32 master weights), ``'fp32'``, or ``'auto'`` (bf16 where the
    CPU has bf16 units); ``steps``: its length (default ``STEPS[precision]``)."""
    import torch
    from mmengine.logging import MMLogger

    from .apis import released_student
    from .datasets.teacher_translations import build_teacher_translations
    from .deployment import export_student
    from .deployment.latency import speed_up
    from .utils.config import load_config
    # what the demo builds in this process logs only warnings: its stages say what happens
    MMLogger.get_instance('reko_mm_demo', log_level='WARNING')
    from .models.frozen_teacher import cpu_has_bf16
    if precision == 'auto':
        precision = 'bf16' if cpu_has_bf16() else 'fp32'
    if precision not in STEPS:
        raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', got {precision!r}")
    steps = steps or STEPS[precision]
    work_dir = osp.abspath(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    step_s = STEP_GUESS_S[precision]
    stages = Stages(dict(teacher=10, released=20, speed=40, export=60,
                         short=steps * step_s + 40, score=20), log)
    stages.start('teacher', "import vintagify's generator as the teacher")
    teacher = import_teacher(work_dir, log=lambda s: log('   ' + s))
    photos = write_photos(work_dir)
    cfg_path = short_run_config(work_dir, photos, teacher, steps, precision)
    cfg = load_config(cfg_path)
    size = cfg.size

    release = released_student(RELEASED)
    stages.start('released', f'score the released 7x student ({RELEASED}, '
                             f'{osp.relpath(release["weights"])}) against the teacher on the '
                             f'held-out photos, and what returning the photo scores')
    model, x = _test_batch(cfg_path, release['weights'])
    with torch.no_grad():
        columns = [x, model.teacher.translate(DOMAIN, x, exact=True),
                   model.generators[DOMAIN](x)]
    identity, released = _scores(columns[0], columns[1]), _scores(columns[2], columns[1])

    stages.start('speed', f'time the teacher and the released student ({size}x{size}, '
                          'OpenVINO where installed)')
    speed = speed_up(dict(teacher=model.teacher[DOMAIN], student=model.generators[DOMAIN]),
                     size)
    stages.start('export', 'export the released student in the fastest form on this machine')
    export_dir = osp.join(work_dir, f'export_{release["sha256"][:8]}')
    deploy = osp.join(export_dir, osp.splitext(osp.basename(cfg_path))[0] + '_deploy.json')
    if not osp.exists(deploy):  # (what an interrupted export left is the demo's own: redone)
        export_student(cfg_path, release['weights'], export_dir, ['pth', 'fastest'],
                       num_images=len(TEST_PHOTOS), log=lambda s: None, overwrite=True)
    exported = json.load(open(deploy))[f'photo2{DOMAIN}']

    stages.start('short', f'distil the teacher into a new 7x student with the same recipe, '
                          f'briefly: {steps} steps of 4 of the {len(TRAIN_PHOTOS)} training '
                          f'photos at {size}x{size} ({precision})')
    info = build_teacher_translations(cfg, log=lambda s: None)
    log(f"   the teacher's translations of the training photos: {info['built']} built, "
        f"{info['kept']} kept ({cfg.train_dataloader.dataset.data_root})")
    queue = RunQueue(jobs=1, threads=2, log=lambda s: log('   ' + s), progress_every=30)
    short = queue.train_and_test(osp.join(work_dir, 'short'), cfg_path, steps)
    stages.start('score', 'score the short run the same way; the side-by-side picture')
    model, _ = _test_batch(cfg_path, short['ckpt'])
    with torch.no_grad():
        columns.append(model.generators[DOMAIN](x))
    short_scores = _scores(columns[3], columns[1])
    grid = sample_grid(columns, osp.join(work_dir, 'side_by_side.png'))
    params = {k: sum(p.numel() for p in net.parameters()) / 1e6 for k, net in
              (('teacher', model.teacher[DOMAIN]), ('student', model.generators[DOMAIN]))}
    summary = dict(released=dict(**released, name=RELEASED, weights=release['weights'],
                                 sha256=release['sha256']),
                   released_meta=release['entry']['Metadata'],
                   short=dict(**short_scores, ckpt=short['ckpt'], steps=steps,
                              images=steps * cfg.train_dataloader.batch_size,
                              precision=precision),
                   identity=identity, params=params, speed=speed, grid=grid, size=size,
                   export=osp.join(export_dir, exported['file']), export_runtime=exported,
                   minutes=(time.time() - stages.t0) / 60, torch=torch.__version__)
    log(text(summary, work_dir))
    with open(osp.join(work_dir, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1, default=str)
    return summary


def identity_scores(run_: dict, teacher_ckpt: str) -> dict:
    """PSNR / SSIM of the held-out photos themselves against the teacher's translations of them
    (``run_``: a run's ``cfg`` and ``ckpt``, whose config names the teacher)."""
    import torch
    model, x = _test_batch(run_['cfg'], run_['ckpt'])
    with torch.no_grad():
        return _scores(x, model.teacher.translate(DOMAIN, x, exact=True))


def _scores(fake, teacher) -> dict:
    """PSNR / SSIM of ``fake`` against the teacher's translations (both in [-1, 1], 8-bit
    rounded as the test metric reads them)."""
    from .evaluation import GroundTruthError
    metric = GroundTruthError(fake_key='fake', gt_key='teacher', mask_key=None, prefix='demo')
    metric.process({}, [dict(fake=((a + 1) * 127.5).clamp(0, 255),
                             teacher=((b + 1) * 127.5).clamp(0, 255))
                        for a, b in zip(fake, teacher)])
    out = metric.compute_metrics(metric.results)
    return dict(psnr=out['psnr'], ssim=out['ssim'])


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


def verdict(s: dict) -> str:
    """Whether the short run beats returning the photo unchanged, and if not, why."""
    short, ident, meta = s['short'], s['identity'], s['released_meta']
    trained = (f"{short['images']} images ({short['steps']} steps) of {len(TRAIN_PHOTOS)} "
               'photos')
    if short['psnr'] > ident['psnr'] and short['ssim'] > ident['ssim']:
        return f'The short run beats the unchanged photo on PSNR and SSIM after {trained}.'
    return (f'The short run does NOT beat the unchanged photo: {trained} are far too little '
            'training for a 7x student to learn the filter. The released student above was '
            f"trained the same way on {meta['Training Images']} images of "
            f"{meta['Training Photos']} photos (configs/reko/vintagify/README.md); train "
            'longer with STEPS=N make demo, or on your own photos (docs/distill_your_model.md).')


def text(s: dict, work_dir: str) -> str:
    """The closing summary the demo prints."""
    sp, p, size = s['speed'], s['params'], s['size']
    rows = [f"| {ROWS[k]} | {s[k]['psnr']:.2f} | {s[k]['ssim']:.3f} |" for k in ROWS]
    return '\n'.join([
        '',
        f"Quick start finished in {s['minutes']:.1f} min.",
        f"teacher: {p['teacher']:.2f} M parameters, {sp['teacher_ms']:.1f} ms per "
        f"{size}x{size} photo ({sp['runtime']}, 2 threads)",
        f"student: {p['student']:.2f} M parameters ({p['teacher'] / p['student']:.1f}x fewer), "
        f"{sp['student_ms']:.1f} ms: {sp['speedup']:.2f}x faster",
        '',
        f"Held-out photos ({len(TEST_PHOTOS)}, {size}x{size}) against the teacher's "
        'translations:',
        '| student | PSNR (dB) | SSIM |', '|---|---|---|', *rows,
        f"| (the photo itself, unchanged) | {s['identity']['psnr']:.2f} | "
        f"{s['identity']['ssim']:.3f} |",
        verdict(s),
        f"  side by side      : {s['grid']} (photo | teacher | "
        + ' | '.join(ROWS.values()) + ')',
        f"  released student  : {s['released']['weights']} (sha256 "
        f"{s['released']['sha256'][:16]}..., its model card: configs/reko/vintagify/README.md)",
        f"  short-run student : {s['short']['ckpt']}",
        '                      (a plain MMagic Pix2Pix checkpoint: it loads strictly into '
        f'configs/reko/{SHORT} with model.type=Pix2Pix)',
        f"  exported student  : {s['export']} (the released one; "
        f"{s['export_runtime']['runtime']}, {s['export_runtime']['median_ms']:.1f} ms at "
        f"{s['export_runtime']['input_shape'][-1]} px)",
        f'  everything        : {work_dir}',
    ])
