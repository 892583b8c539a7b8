"""vintagify's teacher distilled into the 7x and 16x students to convergence, every arm scored.

The fast recipe at the released students' schedule: the teacher-target baseline, ReKo and OMGD
(7x: seeds 1 and 2; 16x: seed 1), scored at 256 and 512 against the teacher.

    python tools/benchmarks/convergence_study.py --work-dir work_dirs/convergence \
        [--apple2orange data/cyclegan/apple2orange] [--facades data/pix2pix/facades]
        [--widths 7x 16x] [--arms-7x nokd reko omgd] [--seeds-7x 1 2]
        [--arms-16x nokd reko omgd] [--seeds-16x 1] [--iters 6000] [--eval-interval 600]
        [--score-sizes 256 512] [--precision bf16|fp32] [--dry-run] [--report-only]

Each run is one tools/train.py process; finished runs are reused, partial ones resumed (stop it
at any time and start it again), stale ones refused; --report-only reports the finished ones.
Progress lines with an ETA every 5 minutes.
What it does: reko_mm/benchmarks/convergence.py; the results: docs/results.md.
"""
import argparse
import sys

from reko_mm.benchmarks import BenchmarkError
from reko_mm.benchmarks.convergence import ARMS, SEEDS, WIDTHS, run
from reko_mm.benchmarks.real_teacher import NAMES


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--apple2orange', default='data/cyclegan/apple2orange',
                        help='apple2orange in the unpaired layout (trainA/, trainB/, testA/, '
                        'testB/): half the photos')
    parser.add_argument('--facades', default='data/pix2pix/facades',
                        help='facades in the paired layout (train/, test/ of A|B images): the '
                        'other half (their photo side)')
    parser.add_argument('--widths', nargs='+', default=list(WIDTHS), choices=list(WIDTHS))
    for width in WIDTHS:
        parser.add_argument(f'--arms-{width}', nargs='+', default=ARMS[width],
                            choices=list(NAMES))
        parser.add_argument(f'--seeds-{width}', nargs='+', type=int, default=list(SEEDS[width]))
    parser.add_argument('--size', type=int, default=256, help='the training crop')
    parser.add_argument('--iters', type=int, default=6000, help='steps of 4 crops')
    parser.add_argument('--eval-interval', type=int, default=600)
    parser.add_argument('--num-train', type=int, default=1000)
    parser.add_argument('--num-test', type=int, default=200)
    parser.add_argument('--val-num', type=int, default=100,
                        help='held-out photos validated on during training (the curve)')
    parser.add_argument('--score-sizes', type=int, nargs='+', default=[256, 512])
    parser.add_argument('--precision', default='bf16', choices=['bf16', 'fp32'],
                        help='bf16: tools/train.py --amp (a CPU with bf16 units, or a GPU)')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the runs it would make and the cache each reads; write '
                        'nothing')
    parser.add_argument('--report-only', action='store_true',
                        help='train and score nothing: report the runs finished so far and '
                        'say where the others stand')
    args = parser.parse_args()
    arms = {w: getattr(args, f'arms_{w}') for w in WIDTHS}
    seeds = {w: getattr(args, f'seeds_{w}') for w in WIDTHS}
    try:
        out = run(args.work_dir, args.apple2orange, args.facades, args.size, args.iters,
                  args.eval_interval, args.widths, arms, seeds, args.num_train, args.num_test,
                  args.val_num, args.score_sizes, args.precision, dry_run=args.dry_run,
                  report_only=args.report_only)
    except BenchmarkError as err:
        sys.exit(str(err))
    if args.dry_run:
        for name, cfg in out['planned'].items():
            ds = cfg.train_dataloader.dataset
            print(f'{name}: {cfg.train_cfg.max_iters} steps, seed {cfg.randomness.seed}, '
                  f'cache {ds.data_root} (layers {", ".join(ds.features)})')


if __name__ == '__main__':
    main()
