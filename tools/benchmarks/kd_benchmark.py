"""Rank distillation methods on a translation with ground truth: the paper's Table 1 in miniature.

    python tools/benchmarks/kd_benchmark.py --work-dir work_dirs/kd_benchmark \
        [--models pix2pix [pix2pixhd] [cyclegan]] [--seeds 0 1 2 3 4 5 6 7]
        [--arms nokd reko at ... nokd+init reko+init ...] [--init-rule norm_scale]
        [--ablation] [--widths 4 8] [--min-gap 1.0] [--teacher-iters 4000]
        [--student-iters 1000] [--eval-interval 250] [--jobs 2] [--full] [--dry-run]

Pix2Pix and Pix2PixHD on the paired 'bands' set, CycleGAN on the unpaired one (32x32); the
default is Pix2Pix only: CycleGAN's teacher did not learn the unpaired task in 3000 iterations at
this size in any variant tried (docs/results.md). What it does: reko_mm/benchmarks/ground_truth.py.
Finished runs are reused; partial ones resumed; runs of another config refused (stale). Runs go
--jobs at a time, one thread each. --full is a GPU budget (64x64, longer schedules).
"""
import argparse
import sys

from reko_mm.benchmarks import ABLATIONS, ARMS, INIT, BenchmarkError
from reko_mm.models import STUDENT_INIT_RULES
from reko_mm.benchmarks.ground_truth import GPU_BUDGET, MODELS, run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--models', nargs='+', default=['pix2pix'], choices=list(MODELS),
                        help='default: pix2pix; pix2pixhd and cyclegan on request')
    parser.add_argument('--seeds', type=int, nargs='+', default=list(range(8)))
    parser.add_argument('--arms', nargs='+', default=ARMS, choices=ARMS + [a + INIT for a in ARMS],
                        help=f'an arm ending in {INIT}: its student initialised from the teacher '
                        '(model.student_init)')
    parser.add_argument('--init-rule', choices=STUDENT_INIT_RULES, default='norm_scale',
                        help=f'the channel selection of the {INIT} arms')
    parser.add_argument('--ablation', action='store_true',
                        help=f'add the Table 4 arms ({", ".join(ABLATIONS)})')
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
    parser.add_argument('--full', action='store_true', help='a GPU budget: ' + ', '.join(
        f'{k}={v}' for k, v in GPU_BUDGET.items()) + ' (explicit options still win)')
    parser.add_argument('--dry-run', action='store_true')
    args = parser.parse_args()
    if args.full:
        given = {a.split('=')[0][2:].replace('-', '_') for a in sys.argv[1:]}
        for key, default in GPU_BUDGET.items():
            if key not in given:
                setattr(args, key, default)
    try:
        run(args.work_dir, args.models, args.seeds, args.arms, args.ablation, args.widths,
            args.min_gap, args.size, args.teacher_iters, args.student_iters, args.eval_interval,
            args.jobs, args.threads, args.dry_run, init_rule=args.init_rule)
    except BenchmarkError as err:
        sys.exit(str(err))


if __name__ == '__main__':
    main()
