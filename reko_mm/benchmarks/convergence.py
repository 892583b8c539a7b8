"""Distillation run to convergence: vintagify's teacher into the 7x and 16x students on the fast
recipe, every arm for the released students' schedule, scored at 256x256 and 512x512 against the
teacher. ``tools/benchmarks/convergence_study.py`` is its command line.

1. the teacher (imported from the vintagify wheel) and the photos (:mod:`.real_teacher`);
2. every arm on every seed, seed by seed: ``tools/train.py`` on the run's whole config
   (``budget_cfg.py``: the shipped ``vintagify_7x_fast_nokd.py`` with the arm's terms from its
   method fragment, the width, the schedule and the paths), with ``--amp`` for bf16,
   validated on held-out photos along the way (the curve). Before a run first trains, the
   cache it reads is built: the teacher's translations and features at the arm's layers of
   every training photo and of its mirror image (``TeacherTranslationDataset``; entries that
   still match are kept); the baseline loads ReKo's, unused, so that the two see the same
   samples at the same cost (``vintagify_7x_fast_nokd.py``). Finished runs are reused,
   partial ones resumed (an interrupted study loses at most one checkpoint interval of one
   run), stale ones refused;
3. each last checkpoint scored with :func:`.teacher_scores.scores_against_teacher` at every
   size: PSNR, SSIM, KID and fine detail to the teacher beside the unchanged photo's (each run
   also keeps its best validation checkpoint, ``best_teacher_psnr_iter_<step>.pth``);
4. ``results.md`` / ``results.json``: per width a table of the arms (mean +- std over seeds,
   Welch's p against the baseline), each run's peak validation, whether its curve is flat
   (less than 0.1 dB gained over its last 20 %), its detail, its training time, the curves, and
   photo | teacher | each arm.
"""
import os
import os.path as osp
import statistics
import sys
import time
from typing import Dict, List, Optional, Sequence

from .arms import (BenchmarkError, arm_config, config_path, run_name, sized_pipeline,
                   write_config)
from .real_teacher import NAMES, import_teacher, photos_path, teacher_path, write_photos
from .report import arm_table, curve_of, curve_plot, write_results
from .runner import RunQueue, progress_bar, scalars
from .teacher_scores import spread

STUDENT = 'vintagify/vintagify_7x_fast_nokd.py'  # the 7x baseline on the features cache
WIDTHS = {'7x': 24, '16x': 16}  # the students' base_channels
ARMS = {'7x': ['nokd', 'reko', 'omgd'], '16x': ['nokd', 'reko', 'omgd']}
SEEDS = {'7x': (1, 2), '16x': (1,)}
FLAT_DB, FLAT_SHARE = 0.1, 0.2  # a curve is flat: less than 0.1 dB over its last 20 %
BATCH = 4


def cache_root(work: str, arm: str, size: int) -> str:
    """The features cache an arm reads: one per method (the baseline reads ReKo's)."""
    return osp.join(work, f'cache{size}_{"reko" if arm == "nokd" else arm}')


def study_config(width: str, arm: str, seed: int, work: str, size: int = 256,
                 iters: int = 6000, eval_interval: int = 600, val_num: int = 100,
                 num_test: int = 200, precision: str = 'bf16', options: Optional[dict] = None):
    """The whole config of one run: the fast baseline with ``arm``'s terms, at ``width``,
    trained for ``iters`` steps of 4 crops of ``size`` (the rate constant for the first half,
    then linearly to 0; ``precision`` 'bf16': bf16 autocast, float32 master weights),
    validated every ``eval_interval`` steps on ``val_num`` of the ``num_test`` held-out photos;
    ``options`` (a ``merge_from_dict`` dict) last."""
    from ..engine import enable_amp
    from ..models.distillers.distill_config import teacher_layers
    work = osp.abspath(work)
    cfg = arm_config(config_path(STUDENT), arm, 'resnet')
    features = sorted(teacher_layers(cfg.model.distill), key=_layer_order) if arm != 'nokd' \
        else list(cfg.train_dataloader.dataset.features)
    photos, teacher = photos_path(work), teacher_path(work)
    val = dict(data_root=photos, indices=spread(num_test, val_num))
    budget = {
        'model.generator.base_channels': WIDTHS[width],
        'model.teacher.ckpt': teacher,
        'train_dataloader.dataset.photo_root': photos,
        'train_dataloader.dataset.data_root': cache_root(work, arm, size),
        'train_dataloader.dataset.teacher_ckpt': teacher,
        'train_dataloader.dataset.features': features,
        'train_dataloader.dataset.size': size,
        'val_dataloader.dataset': val, 'test_dataloader.dataset': val,
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': eval_interval,
        'param_scheduler.begin': iters // 2, 'param_scheduler.end': iters,
        'default_hooks.checkpoint.interval': eval_interval,
        'default_hooks.checkpoint.max_keep_ckpts': 2,
        # the validation peak is kept too (best_teacher_psnr_iter_<N>.pth); runs are scored at
        # their last step, on equal terms
        'default_hooks.checkpoint.save_best': 'teacher/psnr',
        'default_hooks.checkpoint.rule': 'greater',
        'randomness.seed': seed}
    if size != cfg.size:
        budget['train_dataloader.dataset.pipeline'] = sized_pipeline(
            cfg.train_dataloader.dataset.pipeline, size, crop_keys=('CropFlipWithFeatures',))
        for key in ('val_dataloader', 'test_dataloader'):
            budget[f'{key}.dataset.pipeline'] = sized_pipeline(cfg[key].dataset.pipeline, size)
    cfg.merge_from_dict(dict(budget, **(options or {})))
    if precision == 'bf16':
        enable_amp(cfg, 'bfloat16')
    return cfg


def _layer_order(name: str) -> list:  # model.2 before model.11
    return [(0, int(p), '') if p.isdigit() else (1, 0, p) for p in name.split('.')]


def last_share_gain(curve: Sequence[tuple], iters: int, share: float = FLAT_SHARE):
    """``(gain, since)``: what the curve ``[(iteration, value)]`` of a run of ``iters`` gained
    from its last validation at or before ``(1 - share) * iters`` (iteration ``since``) to its
    end. None when the curve does not reach both points."""
    points = sorted(curve)
    if not points or points[-1][0] < iters:
        return None
    before = [(it, v) for it, v in points if it <= (1 - share) * iters]
    return (points[-1][1] - before[-1][1], before[-1][0]) if before else None


def trend(gain: float) -> str:
    """'flat' within :data:`FLAT_DB` either way, else 'rising' or 'falling'."""
    return 'flat' if abs(gain) < FLAT_DB else ('rising' if gain > 0 else 'falling')


def train_seconds(work: str) -> Optional[float]:
    """The training time of a run (validation excluded): its mean logged step time times its
    steps, from mmengine's ``scalars.json`` (every session of a resumed run)."""
    logged = [r for r in scalars(work) if 'time' in r and 'iter' in r]
    if not logged:
        return None
    return statistics.mean(r['time'] for r in logged) * max(r['iter'] for r in logged)


def _score_command(cfg_path: str, teacher: str, photos: str, num: int, sizes: Sequence[int],
                   grid: str):
    def cmd(ckpt, out):
        return [sys.executable, 'tools/analysis_tools/score_against_teacher.py', cfg_path, ckpt,
                '--teacher-ckpt', teacher, '--photos', osp.join(photos, 'test'), '--num',
                str(num), '--sizes'] + [str(s) for s in sizes] + [
                    '--json', out, '--grid', grid,
                    # every run is scored against the same teacher on the same photos
                    '--teacher-cache', osp.join(osp.dirname(teacher), 'translations')]
    return cmd


def run(work_dir: str, apple2orange: str, facades: str, size: int = 256, iters: int = 6000,
        eval_interval: int = 600, widths: Sequence[str] = ('7x', '16x'),
        arms: Optional[Dict[str, Sequence[str]]] = None,
        seeds: Optional[Dict[str, Sequence[int]]] = None, num_train: int = 1000,
        num_test: int = 200, val_num: int = 100, score_sizes: Sequence[int] = (256, 512),
        precision: str = 'bf16', options: Optional[dict] = None, dry_run: bool = False,
        report_only: bool = False, queue: Optional[RunQueue] = None, log=print) -> dict:
    """The study (see the module docstring); returns ``results.json``'s content, or, with
    ``dry_run``, ``{'planned': {run dir: its config}}`` (nothing written). ``report_only``:
    train and score nothing; report the runs finished so far and say where the others stand.
    ``arms`` and ``seeds`` (per width) replace the defaults :data:`ARMS` and :data:`SEEDS` of
    the widths they name; ``options``: more settings for every run's config (a
    ``merge_from_dict`` dict)."""
    arms, seeds = dict(ARMS, **(arms or {})), dict(SEEDS, **(seeds or {}))
    for w in widths:
        if w not in WIDTHS:
            raise BenchmarkError(f'unknown width {w!r}; widths: {sorted(WIDTHS)}')
        for arm in arms[w]:
            if arm not in NAMES:
                raise BenchmarkError(f'unknown arm {arm!r}; arms: {sorted(NAMES)}')
    if precision not in ('bf16', 'fp32'):
        raise BenchmarkError(f"precision must be 'bf16' or 'fp32', got {precision!r}")
    work_dir = osp.abspath(work_dir)
    t0 = time.time()
    # seed by seed, so that a study stopped half-way has every arm on its first seed
    tasks = [(w, arm, s) for w in widths for s in seeds[w] for arm in arms[w]]
    planned = {osp.join(work_dir, f'{w}_{run_name(arm, s)}'): study_config(
        w, arm, s, work_dir, size, iters, eval_interval, val_num, num_test, precision, options)
        for w, arm, s in tasks}
    if dry_run:
        return dict(planned={osp.basename(k): v for k, v in planned.items()})
    queue = queue or RunQueue(log=log, threads=2, progress_every=300,
                              progress=lambda p: progress_bar(p, BATCH))
    if report_only:
        return _report(tasks, _finished(planned, queue, iters, teacher_path(work_dir),
                                        photos_path(work_dir), num_test, score_sizes, log),
                       work_dir, size, iters, precision, score_sizes, queue, t0, log)
    os.makedirs(work_dir, exist_ok=True)
    log('[1/3] the teacher and the photos')
    teacher = import_teacher(work_dir, log)
    photos = write_photos(work_dir, apple2orange, facades, num_train, num_test)
    log(f'[2/3] {len(tasks)} runs, one at a time')
    built = set()

    def cache(cfg):  # built before the first run that trains on it; kept entries are not redone
        from ..datasets.teacher_translations import build_teacher_translations
        root = cfg.train_dataloader.dataset.data_root
        if root in built:
            return
        layers = list(cfg.train_dataloader.dataset.features)
        log(f'  the teacher\'s translations and features {layers} of the training photos and '
            f'their mirror images: {root}')
        info = build_teacher_translations(cfg, log=log)
        log(f'  {info["built"]} built, {info["kept"]} kept, {info["seconds"]:.0f} s, '
            f'{info["bytes"] / 2**30:.1f} GiB')
        built.add(root)

    def one(item):
        work, cfg = item
        path = write_config(cfg, osp.join(work, 'budget_cfg.py'))
        score = _score_command(path, teacher, photos, num_test, score_sizes,
                               osp.join(work, 'samples.png'))
        return queue.train_and_test(work, path, iters, score=score, prepare=lambda: cache(cfg))
    done = queue.map(one, list(planned.items()), name=lambda i: osp.basename(i[0]))
    log('[3/3] the report')
    return _report(tasks, done, work_dir, size, iters, precision, score_sizes, queue, t0, log)


def _finished(planned: dict, queue: RunQueue, iters: int, teacher: str, photos: str,
              num_test: int, score_sizes: Sequence[int], log) -> List[Optional[dict]]:
    """The result of each planned run that is finished and scored (None for the others, with a
    line on where each stands)."""
    out = []
    for work, cfg in planned.items():
        path = osp.join(work, 'budget_cfg.py')
        result = None
        if osp.exists(path):
            score = _score_command(path, teacher, photos, num_test, score_sizes,
                                   osp.join(work, 'samples.png'))
            state, ckpt, result = queue.status(work, path, iters, score=score)
            if result is None:
                log(f'  {osp.basename(work)}: {state}' + (
                    f', last checkpoint {osp.basename(ckpt)}' if ckpt else '') +
                    (', not scored yet' if state == 'done' else ''))
        else:
            log(f'  {osp.basename(work)}: not started')
        out.append(result)
    return out


def _report(tasks, done, work_dir, size, iters, precision, score_sizes, queue, t0, log) -> dict:
    runs = []
    for (w, arm, s), result in zip(tasks, done):
        if result is None:
            continue
        flat = last_share_gain(curve_of(result, 'teacher/psnr'), iters)
        runs.append(dict(result, width=w, arm=arm, seed=s,
                         train_seconds=train_seconds(result['work']),
                         last_share_gain=flat and flat[0], gain_since=flat and flat[1]))
    results = dict(size=size, iters=iters, batch=BATCH, precision=precision,
                   score_sizes=list(score_sizes), runs=runs, planned=len(tasks),
                   minutes=(time.time() - t0) / 60)
    text = report(results, work_dir, queue.commands)
    write_results(work_dir, text, results, log)
    return results


def _score(size, key, scale=1.0):
    return lambda r: r['metrics'][str(size)][key] * scale


def report(results: dict, work_dir: str, commands: List[str]) -> str:
    """``results.md``: per width the arms' scores at every size, the flatness and training
    time of each run, the curves and the samples."""
    sizes, iters = results['score_sizes'], results['iters']
    first = results['runs'][0]['metrics'] if results['runs'] else {}
    images = first.get(str(sizes[0]), {}).get('images', '?')
    scored = f', scored against the teacher on {images} held-out photos' if results['runs'] \
        else ''
    lines = ['# vintagify distilled to convergence', '',
             f'Students trained at {results["size"]}x{results["size"]} for {iters} steps of '
             f'{results["batch"]} crops ({results["precision"]}){scored}. PSNR: mean +- std over '
             f'seeds; the other columns: means; KID x 1000. Runs finished: '
             f'{len(results["runs"])} of {results.get("planned", len(results["runs"]))}.', '']
    for s in sizes:
        m = first.get(str(s))
        if m:
            lines.append(f'- The unchanged photo at {s}x{s}: PSNR {m["identity_psnr"]:.2f} dB, '
                         f'SSIM {m["identity_ssim"]:.3f}, KID x 1000 '
                         f'{1000 * m["identity_kid"]:.2f}.')
    if 'teacher_across_sizes' in first:
        a = first['teacher_across_sizes']
        lines.append(f'- The teacher at {a["sizes"][0]} against its {a["sizes"][1]} output '
                     f'downscaled: PSNR {a["psnr"]:.2f} dB, SSIM {a["ssim"]:.3f}.')
    lines.append('')
    by_width: Dict[str, Dict[str, List[dict]]] = {}
    for r in results['runs']:
        by_width.setdefault(r['width'], {}).setdefault(r['arm'], []).append(r)
    for width, arms in by_width.items():
        s0 = sizes[0]
        extra = [(f'SSIM {s0}', _score(s0, 'ssim')), (f'KID {s0}', _score(s0, 'kid', 1000))]
        for s in sizes[1:]:
            extra += [(f'PSNR {s}', _score(s, 'psnr')), (f'SSIM {s}', _score(s, 'ssim')),
                      (f'KID {s}', _score(s, 'kid', 1000))]
        lines += [f'## {width} student', '',
                  arm_table(arms, _score(s0, 'psnr'), f'PSNR {s0} (dB)', extra=extra,
                            names={a: NAMES.get(a, a) for a in arms}, fmt='.3f'),
                  '| run | last validation PSNR (dB) | peak (step) | gained since (step) | trend | '
                  f'detail {s0} | training time (min) |', '|---|---|---|---|---|---|---|']
        for arm, rs in arms.items():
            for r in rs:
                curve = curve_of(r, 'teacher/psnr')
                gain, secs = r['last_share_gain'], r.get('train_seconds')
                peak = max(curve, key=lambda p: p[1]) if curve else None
                # a run trained (or partly trained) without save_best may not have it
                kept = peak and osp.exists(osp.join(r['work'],
                                                    f'best_teacher_psnr_iter_{peak[0]}.pth'))
                lines.append(' | '.join([
                    f'| {arm} seed {r["seed"]}', f'{curve[-1][1]:.2f}' if curve else '-',
                    f'{peak[1]:.2f} ({peak[0]}{"" if kept else ", not kept"})' if peak else '-',
                    '-' if gain is None else f'{gain:+.2f} ({r["gain_since"]})',
                    '-' if gain is None else trend(gain),
                    # scored before the detail was measured: '-'
                    f'{r["metrics"][str(s0)]["detail"]:.2f}' if 'detail' in
                    r['metrics'][str(s0)] else '-',
                    f'{secs / 60:.1f} |' if secs else '- |']))
        panels = [(f'{width}: validation PSNR to the teacher, per seed',
                   {f'{NAMES.get(a, a)} seed {r["seed"]}': curve_of(r, 'teacher/psnr')
                    for a, rs in arms.items() for r in rs})]
        curves = curve_plot(panels, 'PSNR (dB)', osp.join(work_dir, f'curves_{width}.png'))
        lines += ['', f'Trend: the gain from the last validation at or before '
                  f'{100 - 100 * FLAT_SHARE:.0f} % of the run to its end; flat under '
                  f'{FLAT_DB} dB either way. Peak: the best validation; its checkpoint is '
                  'kept as best_teacher_psnr_iter_<step>.pth unless the cell says "not kept" '
                  '(a run trained, or partly trained, before runs kept it). Detail: the fine '
                  f'detail of any kind (edges, texture, grain, artefacts) of the last '
                  f'checkpoint\'s images over the teacher\'s at {s0}x{s0} (mean absolute '
                  'Laplacian; under 1 smoother than the teacher, over 1 more detailed).', '',
                  f'Curves: {curves}', '']
        grid = samples(arms, osp.join(work_dir, f'samples_{width}.png'))
        if grid:
            lines += [f'photo | teacher | {" | ".join(NAMES.get(a, a) for a in arms)} '
                      f'(the first seed of each): {grid}', '']
    lines += [f'This invocation took {results["minutes"]:.0f} min (runs done before are '
              'reused).', '', 'Commands:', '', '```'] + commands + ['```', '']
    return '\n'.join(lines)


def samples(arms: Dict[str, List[dict]], out: str) -> Optional[str]:
    """photo | teacher | each arm's student (its first run), from the side-by-side pictures
    the scoring wrote (photo | teacher | student, the same photos for every run)."""
    import cv2
    import numpy as np
    columns = []
    for rs in arms.values():
        path = osp.join(rs[0]['work'], 'samples.png')
        img = cv2.imread(path) if osp.exists(path) else None
        if img is None:
            return None
        third = img.shape[1] // 3
        columns += [img[:, :2 * third]] if not columns else []
        columns.append(img[:, 2 * third:])
    cv2.imwrite(out, np.concatenate(columns, axis=1))
    return out
