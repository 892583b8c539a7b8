"""Train and evaluate teacher, no-KD student and ReKo student on a real dataset; write a table.

    python tools/benchmarks/reko_results.py facades --data-root ../shared/data/facades \
        --work-dir work_dirs/results/facades [--size 64] [--teacher-iters 2000] \
        [--student-iters 2000] [--seeds 0 1] [--eval-interval 500] [--eval-images 106] \
        [--arms nokd reko] [--ablation] [--full] [--dry-run]

The shipped configs are used as they are; the budget is a generated child config (image size,
iterations, evaluation cadence, test-image count, a smaller U-Net depth for small images) that
is the same for every arm, so the arms differ only in distillation. ``--full`` keeps the
configs' own resolution and schedule (the paper's protocol; a GPU job). ``--ablation`` adds the
paper's Table 4 arms: contrastive on all regions, L2 on the crucial regions.

Every command, log and checkpoint is kept under --work-dir; ``results.md`` gets the final
(last-checkpoint) FID/KID per arm as mean and std over seeds, the FID curves from the
in-training validations (table and ``curves.png``), and a sample grid (teacher / no-KD / ReKo
on the same test images).
A finished run is not repeated: rerunning the script picks up its results.
"""
import argparse
import glob
import json
import os
import os.path as osp
import shlex
import statistics
import subprocess
import sys
import time

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))

DATASETS = {
    'facades': dict(
        kind='pix2pix', configs=dict(teacher='pix2pix_facades_teacher.py',
                                     nokd='pix2pix_facades_4x_nokd.py',
                                     reko='pix2pix_facades_4x.py'),
        metrics=[('FID-Full', 'KID-Full', 'photo', 106, 106)]),
    # Pix2PixHD (global generator + 3-scale discriminator) on the same data. Its distilled maps
    # are 1/8 of the image side; at a --size below 256 a quarter of their positions is kept.
    'facades_hd': dict(
        kind='pix2pixhd', configs=dict(teacher='pix2pixhd_facades_teacher.py',
                                       nokd='pix2pixhd_facades_28x_nokd.py',
                                       reko='pix2pixhd_facades_28x.py'),
        metrics=[('FID-Full', 'KID-Full', 'photo', 106, 106)], map_stride=8),
    'apple2orange': dict(
        kind='cyclegan', configs=dict(teacher='cyclegan_apple2orange_teacher.py',
                                      nokd='cyclegan_apple2orange_7x_nokd.py',
                                      reko='cyclegan_apple2orange_7x.py'),
        metrics=[('FID-apple-to-orange', 'KID-apple-to-orange', 'orange', 266, 248),
                 ('FID-orange-to-apple', 'KID-orange-to-apple', 'apple', 248, 266)]),
}
# Table 4 of the paper: what each ablation arm changes in the ReKo config.
ABLATIONS = {
    'all_regions': ('contrastive on all regions (L_RegionDis)',
                    "model.distill.losses.reko.loss.region_selector='all'"),
    'l2_crucial': ('L2 on the crucial regions', 'model.distill.losses.reko.loss.contrastive=False'),
}
ARM_NAMES = {'teacher': 'teacher', 'nokd': 'student, no KD', 'reko': 'student, ReKo'}


def budget_config(args, dataset: dict, base: str, path: str) -> str:
    """A child config of ``base`` with the CPU budget; identical for every arm."""
    s = args.size
    lines = [f'_base_ = {osp.join(ROOT, "configs", "reko", base)!r}',
             '# budget written by tools/benchmarks/reko_results.py; same for every arm']
    if not args.full:
        kind = dataset['kind']
        if kind in ('pix2pix', 'pix2pixhd'):
            load = "dict(type='LoadPairedImageFromFile', key='pair', domain_a='A', " \
                   "domain_b='B', color_type='color')"
            loads = [load]
        if kind == 'pix2pix':  # a UNet goes down to 1x1
            num_down = max(1, (s - 1).bit_length())
            lines.append(f'model = dict(generator=dict(num_down={num_down}))')
        elif kind == 'cyclegan':
            loads = ["dict(type='LoadImageFromFile', key='img_A', color_type='color')",
                     "dict(type='LoadImageFromFile', key='img_B', color_type='color')"]
        keys = "['img_A', 'img_B']"
        tail = '_base_.train_dataloader.dataset.pipeline[-2:]'  # KeyMapper, PackInputs
        resize = (f"dict(type='TransformBroadcaster', mapping={{'img': {keys}}}, "
                  f"auto_remap=True, share_random_params=True, transforms=[dict(type='Resize', "
                  f"scale=({s}, {s}), keys='img', interpolation='bicubic')])")
        flip = f"dict(type='Flip', keys={keys}, direction='horizontal')"
        train = loads + [resize, flip]
        test = loads + [resize]
        iters = args.student_iters
        lines += [
            f'train_pipeline = [{", ".join(train)}] + {tail}',
            f'test_pipeline = [{", ".join(test)}] + {tail}',
            'train_dataloader = dict(batch_size=1, num_workers=2, persistent_workers=False, '
            'dataset=dict(data_root=%r, pipeline=train_pipeline))' % args.data_root,
            'val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, '
            'dataset=dict(data_root=%r, pipeline=test_pipeline))' % args.data_root,
            'test_dataloader = val_dataloader',
            f'train_cfg = dict(max_iters={iters}, val_interval={args.eval_interval})',
            'default_hooks = dict(logger=dict(interval=50), checkpoint=dict('
            f'interval={args.eval_interval}, max_keep_ckpts=1, save_best=None))',
            "custom_hooks = [dict(type='VisualizationHook', interval=%d, fixed_input=True, "
            "vis_kwargs_list=[dict(type='Translation', name='trans')])]" % iters,
            'env_cfg = dict(cudnn_benchmark=False)',
        ]
        metrics = []
        for fid, kid, dst, n_fake, n_real in dataset['metrics']:
            n_fake, n_real = min(n_fake, args.eval_images), min(n_real, args.eval_images)
            for typ, prefix in (('OfflineTransFID', fid), ('OfflineTransKID', kid)):
                metrics.append(f"dict(type='{typ}', prefix='{prefix}', fake_nums={n_fake}, "
                               f"real_nums={n_real}, fake_key='fake_{dst}', "
                               f"real_key='img_{dst}')")
        lines += ['metrics = [' + ', '.join(metrics) + ']',
                  'val_evaluator = dict(metrics=metrics)',
                  'test_evaluator = dict(metrics=metrics)']
    else:
        lines += [f"train_dataloader = dict(dataset=dict(data_root={args.data_root!r}))",
                  f"val_dataloader = dict(dataset=dict(data_root={args.data_root!r}))",
                  f"test_dataloader = dict(dataset=dict(data_root={args.data_root!r}))"]
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def run(cmd, log_path, dry_run, done=False):
    """Run ``cmd`` (list) with its output in ``log_path``, unless ``done`` before.

    Returns the command line, so that every run's command is listed in the results.
    """
    line = ' '.join(shlex.quote(c) for c in cmd)
    if done:
        print(f'done before, not repeated: {line}\n  log: {log_path}', flush=True)
        return line
    print(f'$ {line}', flush=True)
    if dry_run:
        return line
    with open(log_path, 'w') as log:
        t0 = time.time()
        proc = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode:
        sys.exit(f'failed ({proc.returncode}) after {time.time() - t0:.0f} s; log: {log_path}')
    print(f'  done in {time.time() - t0:.0f} s; log: {log_path}', flush=True)
    return line


def run_state(work, cfg_path, opts, iters):
    """See :func:`reko_mm.utils.run_state`; a stale run stops the script with its message."""
    sys.path.insert(0, ROOT)
    from reko_mm.utils import StaleRunError
    from reko_mm.utils import run_state as _run_state
    try:
        return _run_state(work, cfg_path, opts, iters)
    except StaleRunError as err:
        sys.exit(str(err))


def last_ckpt(work_dir):
    sys.path.insert(0, ROOT)
    from reko_mm.utils import last_ckpt as _last_ckpt
    return _last_ckpt(work_dir)


def val_curve(work_dir):
    """[(iter, {metric: value})] from the in-training validations in mmengine's scalars.json."""
    curve = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        for line in open(path):
            rec = json.loads(line)
            vals = {k: v for k, v in rec.items() if k.endswith(('/fid', '/kid'))}
            if vals:
                curve.append((rec['step'], vals))
    return curve


def train_arm(args, dataset, arm, seed, teacher_ckpt, py, commands):
    base = dataset['configs']['reko' if arm in ABLATIONS else arm]
    work = osp.join(args.work_dir, f'{arm}_seed{seed}')
    cfg = budget_config(args, dataset, base, osp.join(work, 'budget_cfg.py'))
    iters = args.teacher_iters if arm == 'teacher' else args.student_iters
    opts = [f'randomness.seed={seed}']
    if not args.full:
        opts.append(f'train_cfg.max_iters={iters}')
    if arm != 'teacher' and arm != 'nokd':
        opts.append(f'model.teacher.ckpt={teacher_ckpt}')
    if arm in ABLATIONS:
        opts.append(ABLATIONS[arm][1])
    if 'map_stride' in dataset and arm not in ('teacher', 'nokd') and not args.full:
        # the config's K is for 256x256; keep a quarter of the positions of the smaller maps
        side = args.size // dataset['map_stride']
        opts.append(f'model.distill.losses.reko.loss.num_regions={max(1, side * side // 4)}')
    state, ckpt = run_state(work, cfg, opts, None if args.full else iters)
    resume = ['--resume'] if state == 'partial' else []
    commands.append(run([py, 'tools/train.py', cfg, '--work-dir', work] + resume +
                        ['--cfg-options'] + opts, osp.join(work, 'train.log'), args.dry_run,
                        done=state == 'done'))
    if state != 'done':
        ckpt = osp.join(work, f'iter_{iters}.pth') if not args.full else last_ckpt(work)
    out = osp.join(work, 'test_metrics.json')
    # metrics are reused only if they were computed after the checkpoint was written
    scored = osp.exists(out) and ckpt is not None and osp.exists(ckpt) and \
        osp.getmtime(out) >= osp.getmtime(ckpt)
    commands.append(run([py, 'tools/test.py', cfg, ckpt or '<last checkpoint>', '--work-dir',
                         osp.join(work, 'test'), '--out', out, '--cfg-options'] + opts,
                        osp.join(work, 'test.log'), args.dry_run, done=scored))
    metrics = {} if args.dry_run else json.load(open(out))
    return dict(arm=arm, seed=seed, ckpt=ckpt, cfg=cfg, metrics=metrics, curve=val_curve(work))


def sample_grid(runs, out_png, num=4):
    """Rows: test images; columns: input | teacher | no-KD | ReKo (first seed of each)."""
    import cv2
    import numpy as np
    import torch
    sys.path.insert(0, ROOT)
    import reko_mm  # noqa: F401
    from reko_mm.deployment import generator_domains, load_cfg, load_student, real_inputs
    cols, inputs = [], None
    for arm in ('teacher', 'nokd', 'reko'):
        run_ = next((r for r in runs if r['arm'] == arm), None)
        if run_ is None:
            continue
        cfg = load_cfg(run_['cfg'])
        model = load_student(cfg, run_['ckpt'])
        target, source = next(iter(generator_domains(model).items()))
        x = real_inputs(cfg, model, source, num)
        with torch.no_grad():
            y = model._get_target_generator(target)(x)
        if inputs is None:
            inputs = x
            cols.append(x)
        cols.append(y)
    to_img = lambda t: ((t.permute(0, 2, 3, 1).numpy() + 1) * 127.5).clip(0, 255)  # noqa: E731
    rows = [np.concatenate([to_img(c)[i] for c in cols], axis=1) for i in range(len(inputs))]
    # the generators work in the loaded (OpenCV, BGR) channel order: MMagic's CycleGAN and
    # Pix2Pix preprocessors do not convert it, so the images are written as they are
    cv2.imwrite(out_png, np.concatenate(rows, axis=0).astype(np.uint8))
    return out_png


def curve_plot(runs, out_png):
    """FID over training, one panel per FID metric, one line per run (Fig. 6 of the paper)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    keys = sorted({k for r in runs for _, m in r['curve'] for k in m if k.endswith('/fid')})
    if not keys:
        return None
    colors = dict(teacher='black', nokd='tab:blue', reko='tab:red', all_regions='tab:green',
                  l2_crucial='tab:orange')
    fig, axes = plt.subplots(1, len(keys), figsize=(5.5 * len(keys), 4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for r in runs:
            pts = [(it, m[key]) for it, m in r['curve'] if key in m]
            if pts:
                name = ARM_NAMES.get(r['arm']) or r['arm']
                ax.plot(*zip(*pts), marker='o', color=colors.get(r['arm']),
                        linestyle='--' if r['arm'] == 'teacher' else ('-', ':')[r['seed'] % 2],
                        label=f'{name}, seed {r["seed"]}')
        ax.set(title=key.split('/')[0], xlabel='iteration', ylabel='FID (lower is better)')
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
    return out_png


def summarize(args, dataset, runs, commands, elapsed):
    keys = sorted({k for r in runs for k in r['metrics'] if k.endswith(('/fid', '/kid'))})
    budget = 'the configs\' own protocol' if args.full else (
        f'{args.size}x{args.size} images, teacher {args.teacher_iters} / students '
        f'{args.student_iters} iterations, batch 1, up to {args.eval_images} test images per '
        'metric')
    lines = [f'# ReKo results: {args.dataset}', '',
             f'Budget: {budget}; seeds {args.seeds}; this invocation took '
             f'{elapsed / 60:.0f} min (runs done before are reused, not repeated).', '',
             'Final FID/KID of the last checkpoint (mean +- std over seeds):', '',
             '| arm | ' + ' | '.join(keys) + ' |', '|---' * (len(keys) + 1) + '|']
    order = ['teacher', 'nokd', 'reko'] + [a for a in ABLATIONS]
    for arm in order:
        arm_runs = [r for r in runs if r['arm'] == arm]
        if not arm_runs:
            continue
        cells = []
        for k in keys:
            vals = [r['metrics'][k] for r in arm_runs if k in r['metrics']]
            fmt = '.4f' if k.endswith('/kid') else '.2f'
            if len(vals) > 1:
                cells.append(f'{statistics.mean(vals):{fmt}} +- {statistics.stdev(vals):{fmt}}')
            elif vals:
                cells.append(f'{vals[0]:{fmt}}')
            else:
                cells.append('-')
        name = ARM_NAMES.get(arm) or ABLATIONS[arm][0]
        lines.append(f'| {name} ({len(arm_runs)} run{"s" * (len(arm_runs) > 1)}) | '
                     + ' | '.join(cells) + ' |')
    lines += ['', 'FID over training (in-training validation), per run:', '']
    for r in runs:
        if r['curve']:
            pts = ', '.join(f'{it}: ' + '/'.join(f'{v:.1f}' for k, v in sorted(m.items())
                                                 if k.endswith('/fid'))
                            for it, m in r['curve'])
            lines.append(f'- {r["arm"]} seed {r["seed"]}: {pts}')
    lines += ['', 'Commands:', '', '```'] + commands + ['```', '']
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('dataset', choices=sorted(DATASETS))
    parser.add_argument('--data-root', required=True)
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--teacher-iters', type=int, default=2000)
    parser.add_argument('--student-iters', type=int, default=2000)
    parser.add_argument('--eval-interval', type=int, default=500)
    parser.add_argument('--eval-images', type=int, default=106)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--arms', nargs='+', default=['nokd', 'reko'],
                        choices=['nokd', 'reko'] + list(ABLATIONS))
    parser.add_argument('--ablation', action='store_true', help='add the Table 4 arms')
    parser.add_argument('--full', action='store_true', help="the configs' own protocol")
    parser.add_argument('--dry-run', action='store_true', help='print the commands only')
    args = parser.parse_args()
    args.data_root = osp.abspath(args.data_root)
    args.work_dir = osp.abspath(args.work_dir)
    if not osp.isdir(args.data_root):
        sys.exit(f'dataset folder not found: {args.data_root}')
    dataset = DATASETS[args.dataset]
    py = sys.executable
    arms = list(dict.fromkeys(args.arms + (list(ABLATIONS) if args.ablation else [])))
    t0, commands = time.time(), []
    teacher = train_arm(args, dataset, 'teacher', args.seeds[0], None, py, commands)
    runs = [teacher]
    for seed in args.seeds:
        for arm in arms:
            runs.append(train_arm(args, dataset, arm, seed, teacher['ckpt'], py, commands))
    if args.dry_run:
        return
    grid = sample_grid(runs, osp.join(args.work_dir, 'samples.png'))
    curves = curve_plot(runs, osp.join(args.work_dir, 'curves.png'))
    text = summarize(args, dataset, runs, commands, time.time() - t0)
    text += f'\nSample grid (input | teacher | no-KD | ReKo, seed {args.seeds[0]}): {grid}\n'
    if curves:
        text += f'FID curves: {curves}\n'
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(text)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(runs, f, indent=1)
    print(text)


if __name__ == '__main__':
    main()
