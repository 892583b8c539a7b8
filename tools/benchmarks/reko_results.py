"""Train and evaluate teacher, no-KD student and ReKo student on a real dataset; write a table.

    python tools/benchmarks/reko_results.py facades --data-root data/pix2pix/facades \
        --work-dir work_dirs/results/facades [--size 64] [--teacher-iters 2000] \
        [--student-iters 2000] [--seeds 0 1] [--eval-interval 500] [--eval-images 106] \
        [--arms nokd reko] [--ablation] [--full] [--dry-run]

The budget (image size, iterations, evaluation cadence, test-image count) is the same for every
arm, so the arms differ only in distillation; --full keeps the configs' own resolution and
schedule (a GPU job); --ablation adds the paper's Table 4 arms. results.md gets the final FID/KID
per arm (mean and std over seeds), the FID curves and a sample grid. A finished run is not
repeated. What it does: reko_mm/benchmarks/real_data.py.
"""
import argparse
import sys

from reko_mm.benchmarks import ABLATIONS, BenchmarkError
from reko_mm.benchmarks.real_data import DATASETS, run


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
    try:
        run(args.dataset, args.data_root, args.work_dir, args.size, args.teacher_iters,
            args.student_iters, args.eval_interval, args.eval_images, args.seeds, args.arms,
            args.ablation, args.full, args.dry_run)
    except BenchmarkError as err:
        sys.exit(str(err))


if __name__ == '__main__':
    main()
