"""What distillation buys for a real trained generator: vintagify's teacher into 7x / 16x
students, every method against the teacher-target baseline, 8 seeds.

    python tools/benchmarks/real_teacher.py --work-dir work_dirs/real_teacher \
        [--apple2orange data/cyclegan/apple2orange] [--facades data/pix2pix/facades]
        [--size 128] [--iters 800] [--eval-interval 200]
        [--seeds 0 1 2 3 4 5 6 7] [--widths 7x 16x] [--arms nokd reko ...]
        [--teacher-precision bf16|fp32] [--init-rule norm_scale] [--jobs 2] [--dry-run]

Trains on photos of apple2orange and facades, scores on held-out ones against the teacher's
translations (PSNR, SSIM, FID, KID), with curves, a sample grid and the measured speed-up.
Finished runs are reused, partial ones resumed, stale ones refused. What it does:
reko_mm/benchmarks/real_teacher.py; the results: docs/results.md.
"""
import argparse
import sys

from reko_mm.benchmarks import BenchmarkError
from reko_mm.benchmarks.real_teacher import ARMS, INIT, all_arms, run
from reko_mm.models import STUDENT_INIT_RULES

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--apple2orange', default='data/cyclegan/apple2orange',
                        help='apple2orange in the unpaired layout (trainA/, trainB/, testA/, '
                        'testB/): half the photos')
    parser.add_argument('--facades', default='data/pix2pix/facades',
                        help='facades in the paired layout (train/, test/ of A|B images): the '
                        'other half (their photo side)')
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--iters', type=int, default=800,
                        help='training images per run (CAT: batch 2, half the iterations)')
    parser.add_argument('--eval-interval', type=int, default=200)
    parser.add_argument('--seeds', type=int, nargs='+', default=list(range(8)))
    parser.add_argument('--widths', nargs='+', default=list(ARMS), choices=list(ARMS))
    parser.add_argument('--arms', nargs='+', choices=all_arms(),
                        help=f'an arm ending in {INIT}: its student initialised from the '
                        'teacher (model.student_init); default: per width, ' + '; '.join(
                            f'{w}: {" ".join(a)}' for w, a in ARMS.items()))
    parser.add_argument('--init-rule', default='norm_scale', choices=STUDENT_INIT_RULES,
                        help=f'the channel selection of the {INIT} arms')
    parser.add_argument('--num-train', type=int, default=600)
    parser.add_argument('--num-test', type=int, default=48)
    parser.add_argument('--teacher-precision', default='bf16', choices=['fp32', 'bf16'],
                        help="the teacher's forward in training (scores are against it in fp32)")
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--dry-run', action='store_true')
    args = parser.parse_args()
    try:
        run(args.work_dir, args.apple2orange, args.facades, args.size, args.iters,
            args.eval_interval, args.seeds, args.widths, args.arms, args.num_train,
            args.num_test, args.teacher_precision, args.jobs, init_rule=args.init_rule,
            dry_run=args.dry_run)
    except BenchmarkError as err:
        sys.exit(str(err))


if __name__ == '__main__':
    main()
