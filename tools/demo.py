"""The quick start: distil vintagify's real trained generator into a 7x student, a baseline and a
ReKo student side by side, on photos that ship with scikit-image (reko_mm/demo.py).

    python tools/demo.py [--work-dir work_dirs/demo] [--iters 600] [--size 128]
"""
import argparse
import sys

from reko_mm.benchmarks import BenchmarkError
from reko_mm.demo import run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--iters', type=int, default=600, help='training iterations per student')
    parser.add_argument('--size', type=int, default=128, help='training crop side')
    parser.add_argument('--eval-size', type=int, default=256, help='scoring and picture side')
    parser.add_argument('--teacher-precision', default='bf16', choices=['bf16', 'fp32'],
                        help="the teacher's forward in training (bf16 needs a CPU with bf16 "
                        'units; fp32 elsewhere)')
    args = parser.parse_args()
    try:
        run(args.work_dir, args.iters, args.size, args.eval_size, args.teacher_precision)
    except BenchmarkError as err:
        sys.exit(str(err))


if __name__ == '__main__':
    main()
