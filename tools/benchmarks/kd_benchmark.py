"""Rank distillation methods on a translation with ground truth: the paper's Table 1 in miniature.

    python tools/benchmarks/kd_benchmark.py --work-dir work_dirs/kd_benchmark \
        [--models pix2pix [pix2pixhd] [cyclegan]] [--seeds 0 1 2 3 4 5 6 7] [--arms nokd reko at ...]
        [--ablation] [--widths 4 8] [--min-gap 1.0] [--teacher-iters 4000]
        [--student-iters 1000] [--eval-interval 250] [--jobs 2] [--full] [--dry-run]

For each model (Pix2Pix and Pix2PixHD on the paired 'bands' set, CycleGAN on the unpaired
one; 32x32): the default is Pix2Pix only. CycleGAN's teacher did not learn the unpaired task in
3000 iterations at this size in any variant tried (docs/results.md), and a student of a teacher
that has not learned its task ranks nothing. ``--models pix2pix pix2pixhd cyclegan`` runs all
three; each model has its own folder under --work-dir.

1. writes the data: training and test sets, and a separate validation set;
2. trains the teacher until its validation error on the objects stops improving (early
   stopping; its best validation checkpoint is the teacher) and plots that curve;
3. trains the no-KD student at each of --widths and keeps the widest one whose test error on
   the objects is at least --min-gap dB worse than the teacher's (the gap is reported);
4. trains every arm (no-KD, ReKo, the eight comparison methods, ReKo + OMGD / GCC, and with
   --ablation the paper's Table 4 arms) on every seed, with identical budgets: the arms'
   configs differ only in distillation (configs/reko/bands/*_nokd.py + the method's terms);
5. scores each run's last checkpoint on the test set against the ground truth, and writes
   results.md / results.json: per arm mean +- std, the change against no-KD, the share of the
   student -> teacher gap closed, and Welch's t-test p-value against no-KD; error curves over
   training (validation set) and a sample grid of every arm.

Finished runs are reused; partial ones resumed; runs of another config refused (stale). Runs go
--jobs at a time, one thread each. --full is a GPU budget (64x64, longer schedules).
"""
import argparse
import json
import os
import os.path as osp
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, ROOT)

# map_stride: the image side over the side of the maps ReKo distils (K keeps a quarter of them)
MODELS = {
    'pix2pix': dict(layout='paired', arch='unet', teacher='pix2pix_bands_teacher.py',
                    nokd='pix2pix_bands_nokd.py', reko='pix2pix_bands_reko.py',
                    widths=[4, 8], directions=['GT'], map_stride=4),
    'pix2pixhd': dict(layout='paired', arch='hd', teacher='pix2pixhd_bands_teacher.py',
                      nokd='pix2pixhd_bands_nokd.py', reko='pix2pixhd_bands_reko.py',
                      widths=[4, 8], directions=['GT'], map_stride=8),
    'cyclegan': dict(layout='unpaired', arch='resnet', teacher='cyclegan_bands_teacher.py',
                     nokd='cyclegan_bands_nokd.py', reko='cyclegan_bands_reko.py',
                     widths=[2, 4], directions=['GT-flat-to-banded', 'GT-banded-to-flat'],
                     map_stride=4),
}
# Method arms: (methods fragment, its losses variable (None: per arch), replaces ReKo,
# learnable parts)
METHODS = {
    'hinton': ('hinton', 'hinton_losses', True, False),
    'at': ('at', None, True, False),
    'gan_compression': ('gan_compression', None, True, True),
    'srpkd': ('srpkd', None, True, False),
    'cat': ('cat', None, True, False),
    'vid': ('vid', None, True, True),
    'omgd': ('omgd', None, True, True),
    'gcc': ('gcc', None, True, True),
    'reko_omgd': ('omgd', None, False, True),
    'reko_gcc': ('gcc', None, False, True),
}
ABLATIONS = {  # the paper's Table 4: ReKo with one of its two parts switched
    'all_regions': "model.distill.losses.reko.loss.region_selector='all'",
    'l2_crucial': 'model.distill.losses.reko.loss.contrastive=False',
}
ARMS = ['nokd', 'reko'] + list(METHODS)
METRIC = 'psnr_obj'  # what the table ranks by: the error on the crucial regions


# ---------------------------------------------------------------------------------- data
def write_data(work, layout, size, full):
    """Training + test set (seed 0) and a validation set (seed 1); reused when present."""
    from reko_mm.datasets import generate_synthetic_dataset
    roots = {}
    for name, seed, num_train in (('data', 0, 200), ('val', 1, 1)):
        root = osp.join(work, 'data', f'bands_{layout}' + ('' if name == 'data' else '_val'))
        if not osp.isdir(root):
            generate_synthetic_dataset(root, layout, num_train=num_train, num_test=32,
                                       size=size, seed=seed, kind='bands')
        roots[name] = root
    return roots


# ------------------------------------------------------------------------------- configs
def budget_config(args, spec, arm, path, width, roots, seed):
    """The run's config: a child of the shipped bands configs (plus the method's fragment); the
    arms of a model differ only in distillation."""
    base = osp.join(ROOT, 'configs', 'reko', 'bands')
    if arm == 'teacher':
        bases = [osp.join(base, spec['teacher'])]
    elif arm == 'nokd' or arm.startswith('width'):
        bases = [osp.join(base, spec['nokd'])]
    else:
        bases = [osp.join(base, spec['reko'])]
        if arm in METHODS:
            bases.append(osp.join(ROOT, 'configs', 'reko', '_base_', 'methods',
                                  METHODS[arm][0] + '.py'))
    size = args.size
    generator = [] if arm == 'teacher' else [f'base_channels={width}']
    if spec['arch'] == 'unet':
        generator.append(f'num_down={size.bit_length() - 1}')  # down to 1x1
    model = [f"generator=dict({', '.join(generator)})"] if generator else []
    # ReKo keeps a quarter of the positions of its maps
    reko_k = max(1, (size // spec['map_stride'])**2 // 4)
    distill = []
    if arm in METHODS:
        frag, losses, replaces, learnable = METHODS[arm]
        losses = losses or f"{frag}_{spec['arch']}_losses"
        # GCC reads the teacher's discriminator: pix2pixHD's is multi-scale
        nets = {'omgd': 'omgd_feature_nets',
                'gcc': 'gcc_hd_feature_nets' if spec['arch'] == 'hd' else 'gcc_feature_nets'
                }.get(frag)
        if replaces:
            distill = ['_delete_=True', f'losses=_base_.{losses}']
        else:  # ReKo's term (of the base) and the method's
            distill = [f'losses=dict(_base_.{losses}, '
                       f'reko=dict(loss=dict(num_regions={reko_k})))']
        if nets:
            distill.append(f'feature_nets=_base_.{nets}')
    elif arm not in ('teacher', 'nokd') and not arm.startswith('width'):
        distill.append(f'losses=dict(reko=dict(loss=dict(num_regions={reko_k})))')
    if distill:
        distill.append(f'probe_size={size}')
        model.append(f"distill=dict({', '.join(distill)})")
    lines = [f'_base_ = {bases!r}', '# written by tools/benchmarks/kd_benchmark.py',
             f"train_dataloader = dict(dataset=dict(data_root={roots['data']!r}))",
             f"val_dataloader = dict(dataset=dict(data_root={roots['val']!r}))",
             f"test_dataloader = dict(dataset=dict(data_root={roots['data']!r}))"]
    if model:
        lines.append(f"model = dict({', '.join(model)})")
    if arm in METHODS and METHODS[arm][3]:
        lines.append('optim_wrapper = _base_.distill_parts_trained')
    iters = args.teacher_iters if arm == 'teacher' else args.student_iters
    lines.append(f'train_cfg = dict(max_iters={iters}, val_interval={args.eval_interval})')
    lines.append('default_hooks = dict(checkpoint=dict(interval=%d))'
                 % (args.eval_interval if arm == 'teacher' else iters))
    lines.append(f'randomness = dict(seed={seed})')
    os.makedirs(osp.dirname(path), exist_ok=True)
    text = '\n'.join(lines) + '\n'
    if not osp.exists(path) or open(path).read() != text:
        with open(path, 'w') as f:
            f.write(text)
    return path


# ---------------------------------------------------------------------------------- runs
class Runs:
    """Commands, run one after another or --jobs at a time; a run that finished before is
    reused (checked against its config), a partial one resumed, a stale one refused."""

    def __init__(self, args):
        import threading
        self.args = args
        self.commands = []
        self.py = sys.executable
        # config parsing goes through pkg_resources, which two threads must not use at once
        self._parse_lock = threading.Lock()

    def _call(self, cmd, log, threads=None):
        line = ' '.join(shlex.quote(c) for c in cmd)
        self.commands.append(line)
        print(f'$ {line}', flush=True)
        if self.args.dry_run:
            return
        threads = str(threads or self.args.threads)
        env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
        t0 = time.time()
        with open(log, 'w') as f:
            proc = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, env=env)
        if proc.returncode:
            raise RuntimeError(f'failed ({proc.returncode}) after {time.time() - t0:.0f} s; '
                               f'log: {log}')
        print(f'  done in {time.time() - t0:.0f} s: {log}', flush=True)

    def train_and_test(self, work, cfg, opts, iters, teacher_best=False):
        """Train (unless done), then score the checkpoint on the test set; returns the run."""
        from reko_mm.utils import StaleRunError, last_ckpt, run_state
        result = osp.join(work, 'result.json')
        try:
            with self._parse_lock:
                state, ckpt = run_state(work, cfg, opts, None if teacher_best else iters)
        except StaleRunError as err:
            sys.exit(str(err))
        done_marker = osp.join(work, 'train_done')
        if teacher_best and state == 'done' and not osp.exists(done_marker):
            state = 'partial'  # early stopping decides when a teacher is done
        if state == 'done' and osp.exists(result) and \
                osp.getmtime(result) >= osp.getmtime(ckpt):
            self.commands.append(f'# reused: {work}')
            print(f'done before, not repeated: {work}', flush=True)
            return json.load(open(result))
        if state != 'done':
            resume = ['--resume'] if state == 'partial' else []
            self._call([self.py, 'tools/train.py', cfg, '--work-dir', work] + resume +
                       (['--cfg-options'] + opts if opts else []), osp.join(work, 'train.log'),
                       # the teacher trains alone: it gets the threads of all jobs
                       threads=self.args.threads * self.args.jobs if teacher_best else None)
            if not self.args.dry_run:
                open(done_marker, 'w').close()
        if self.args.dry_run:
            return dict(work=work, cfg=cfg, ckpt=osp.join(work, '<its checkpoint>.pth'),
                        metrics={}, curve=[])
        if teacher_best:
            import glob
            best = sorted(glob.glob(osp.join(work, 'best_*.pth')))
            ckpt = best[-1] if best else last_ckpt(work)
        else:
            ckpt = last_ckpt(work)
        out = osp.join(work, 'test_metrics.json')
        self._call([self.py, 'tools/test.py', cfg, ckpt, '--work-dir', osp.join(work, 'test'),
                    '--out', out] + (['--cfg-options'] + opts if opts else []),
                   osp.join(work, 'test.log'))
        run = dict(work=work, cfg=cfg, ckpt=ckpt, metrics=json.load(open(out)),
                   curve=val_curve(work))
        with open(result, 'w') as f:
            json.dump(run, f, indent=1)
        return run


def val_curve(work):
    """[(iteration, {metric: value})] of the validations during training."""
    import glob
    curve = []
    for path in sorted(glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))):
        for line in open(path):
            rec = json.loads(line)
            vals = {k: v for k, v in rec.items() if k.startswith('GT')}
            if vals:
                curve.append((rec['step'], vals))
    return curve


# ------------------------------------------------------------------------------ analysis
def value(run, spec, key=METRIC):
    """The mean over the model's directions of ``<direction>/<key>``."""
    vals = [run['metrics'][f'{d}/{key}'] for d in spec['directions']]
    return sum(vals) / len(vals)


def welch_p(a, b):
    if len(a) < 2 or len(b) < 2:
        return float('nan')
    from scipy import stats
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def table(model, spec, teacher, width, gap, arms_runs):
    """Markdown table of one model's arms (Table 1 style)."""
    t_val = value(teacher, spec)
    nokd = [value(r, spec) for r in arms_runs.get('nokd', [])]
    n_mean = statistics.mean(nokd) if nokd else float('nan')
    lines = [f'### {model}: student ngf {width} (no-KD gap to the teacher {gap:.2f} dB)', '',
             f'Teacher: object PSNR {t_val:.2f} dB, whole image '
             f'{value(teacher, spec, "psnr"):.2f} dB, background '
             f'{value(teacher, spec, "psnr_bg"):.2f} dB.', '',
             '| arm | object PSNR (dB) | change vs no-KD | gap closed | p (Welch) | '
             'whole image | background | runs |', '|---|---|---|---|---|---|---|---|']
    for arm, runs in arms_runs.items():
        vals = [value(r, spec) for r in runs]
        if not vals:
            continue
        mean = statistics.mean(vals)
        std = statistics.stdev(vals) if len(vals) > 1 else 0.0
        whole = statistics.mean(value(r, spec, 'psnr') for r in runs)
        bg = statistics.mean(value(r, spec, 'psnr_bg') for r in runs)
        if arm == 'nokd':
            cells = ['-', '-', '-']
        else:
            closed = (mean - n_mean) / (t_val - n_mean) if t_val != n_mean else float('nan')
            p = welch_p(vals, nokd)
            cells = [f'{mean - n_mean:+.2f}', f'{100 * closed:+.0f} %',
                     f'{p:.3f}' if p == p else 'n/a (1 run)' if len(vals) < 2 else 'nan']
        lines.append(f'| {arm} | {mean:.2f} +- {std:.2f} | ' + ' | '.join(cells) +
                     f' | {whole:.2f} | {bg:.2f} | {len(vals)} |')
    return '\n'.join(lines) + '\n'


def curve_plot(model, teacher, arms_runs, out_png):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    key = f'GT/{METRIC}' if any(k.startswith('GT/') for _, m in teacher['curve'] for k in m) \
        else None
    for ax, runs, title in ((axes[0], {'teacher': [teacher]}, 'teacher (validation set)'),
                            (axes[1], arms_runs, 'students, seed 0 (validation set)')):
        for arm, rs in runs.items():
            r = rs[0]
            pts = [(it, m[key]) for it, m in r['curve'] if key in m]
            if pts:
                ax.plot(*zip(*pts), marker='.', label=arm)
        ax.set(title=f'{model}: {title}', xlabel='iteration', ylabel='object PSNR (dB)')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return out_png


def sample_grid(spec, teacher, arms_runs, out_png, num=4):
    """Rows: test images; columns: input | truth | teacher | every arm (seed 0)."""
    import cv2
    import numpy as np
    import torch
    from reko_mm.deployment import generator_domains, load_cfg, load_student, real_inputs
    cols, labels = [], []
    runs = [('teacher', teacher)] + [(a, rs[0]) for a, rs in arms_runs.items()]
    for arm, run in runs:
        cfg = load_cfg(run['cfg'])
        model = load_student(cfg, run['ckpt'])
        target, source = sorted(generator_domains(model).items())[0] \
            if spec['layout'] == 'unpaired' else next(iter(generator_domains(model).items()))
        x = real_inputs(cfg, model, source, num)
        if not cols:
            y_true = real_inputs(cfg, model, target, num)
            cols += [x, y_true]
            labels += ['input', 'truth']
        with torch.no_grad():
            cols.append(model._get_target_generator(target)(x))
        labels.append(arm)
    to_img = lambda t: ((t.permute(0, 2, 3, 1).numpy() + 1) * 127.5).clip(0, 255)  # noqa
    rows = [np.concatenate([to_img(c)[i] for c in cols], axis=1) for i in range(num)]
    grid = np.concatenate(rows, axis=0).astype(np.uint8)
    grid = cv2.resize(grid, None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(out_png, grid)
    return out_png, labels


# ---------------------------------------------------------------------------------- main
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--models', nargs='+', default=['pix2pix'],
                        choices=list(MODELS),
                        help='default: pix2pix; pix2pixhd and cyclegan on request (see the '
                        'module docstring)')
    parser.add_argument('--seeds', type=int, nargs='+', default=list(range(8)))
    parser.add_argument('--arms', nargs='+', default=ARMS, choices=ARMS)
    parser.add_argument('--ablation', action='store_true', help="add the Table 4 arms")
    parser.add_argument('--widths', type=int, nargs='+',
                        help='student widths to try (default: per model)')
    parser.add_argument('--min-gap', type=float, default=1.0,
                        help='dB of object PSNR the no-KD student must lose to the teacher')
    parser.add_argument('--size', type=int, default=32)
    parser.add_argument('--teacher-iters', type=int, default=4000)
    parser.add_argument('--student-iters', type=int, default=1000)
    parser.add_argument('--eval-interval', type=int, default=250)
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--threads', type=int, default=1, help='threads per job')
    parser.add_argument('--full', action='store_true',
                        help='a GPU budget: 64x64 images, 20000 teacher / 5000 student '
                        'iterations, evaluation every 1000 (explicit options still win)')
    parser.add_argument('--dry-run', action='store_true')
    args = parser.parse_args()
    if args.full:
        given = set(a.split('=')[0] for a in sys.argv[1:])
        for option, default in (('--size', 64), ('--teacher-iters', 20000),
                                ('--student-iters', 5000), ('--eval-interval', 1000)):
            if option not in given:
                setattr(args, option[2:].replace('-', '_'), default)
    args.work_dir = osp.abspath(args.work_dir)
    t0 = time.time()
    runs = Runs(args)
    arms = [a for a in args.arms if a != 'nokd'] + (list(ABLATIONS) if args.ablation else [])
    report = [f'# Distillation methods on the bands set (ground truth)', '']
    results = {}
    for model in args.models:
        spec = MODELS[model]
        work = osp.join(args.work_dir, model)
        roots = write_data(work, spec['layout'], args.size, args.full)

        def run_arm(arm, seed, width, teacher_ckpt=None):
            run_dir = osp.join(work, f'{arm}_seed{seed}')
            cfg = budget_config(args, spec, arm, osp.join(run_dir, 'budget_cfg.py'), width,
                                roots, seed)
            opts = [f'model.teacher.ckpt={teacher_ckpt}'] if teacher_ckpt else []
            if arm in ABLATIONS:
                opts.append(ABLATIONS[arm])
            run = runs.train_and_test(run_dir, cfg, opts, args.student_iters,
                                      teacher_best=arm == 'teacher')
            run.update(arm=arm, seed=seed, width=width)
            return run

        teacher = run_arm('teacher', 0, None)
        # the width sweep: the widest student that is clearly worse than its teacher
        widths = args.widths or spec['widths']
        with ThreadPoolExecutor(args.jobs) as pool:
            sweep = list(pool.map(lambda w: run_arm(f'width{w}', 0, w), widths))
        if args.dry_run:
            width, gap = widths[-1], float('nan')
        else:
            t_val = value(teacher, spec)
            gaps = {r['width']: t_val - value(r, spec) for r in sweep}
            clear = [w for w in widths if gaps[w] >= args.min_gap]
            width = max(clear) if clear else min(widths)
            gap = gaps[width]
            if not clear:
                print(f'WARNING: no width in {widths} is {args.min_gap} dB worse than the '
                      f'teacher ({gaps}); using the narrowest', flush=True)
        tasks = [(a, s) for a in ['nokd'] + arms for s in args.seeds]

        def one(task):
            arm, seed = task
            if arm == 'nokd' and seed == 0 and width in widths:
                r = dict(sweep[widths.index(width)])
                r.update(arm='nokd')
                return r
            return run_arm(arm, seed, width, teacher['ckpt'] if arm != 'nokd' else None)
        with ThreadPoolExecutor(args.jobs) as pool:
            done = list(pool.map(one, tasks))
        if args.dry_run:
            continue
        arms_runs = {}
        for r in done:
            arms_runs.setdefault(r['arm'], []).append(r)
        results[model] = dict(teacher=teacher, width=width, gap=gap,
                              sweep={r['width']: value(r, spec) for r in sweep},
                              arms=arms_runs)
        report.append(table(model, spec, teacher, width, gap, arms_runs))
        report.append('Width sweep (no-KD, seed 0, object PSNR): ' + ', '.join(
            f'ngf {w}: {v:.2f} dB' for w, v in results[model]['sweep'].items()) + '\n')
        curves = curve_plot(model, teacher, arms_runs, osp.join(args.work_dir,
                                                                f'{model}_curves.png'))
        grid, labels = sample_grid(spec, teacher, arms_runs,
                                   osp.join(args.work_dir, f'{model}_samples.png'))
        report += [f'Curves: {curves}', f'Samples ({" | ".join(labels)}): {grid}', '']
    if args.dry_run:
        return
    elapsed = time.time() - t0
    report += [f'This invocation took {elapsed / 60:.0f} min (runs done before are reused).',
               '', 'Commands:', '', '```'] + runs.commands + ['```', '']
    text = '\n'.join(report)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(text)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1, default=str)
    print(text)


if __name__ == '__main__':
    main()
