"""The GPU check (what tools/misc/gpu_check.sh runs after installing the wheels).

    python tools/misc/gpu_check.py OUT_DIR [--dry-run] [--minutes 4] [--photos DIR]
        [--size 256] [--batch-size 1 8] [--no-tests]

On a CUDA GPU: the CUDA-marked tests, a teacher-target (7x vintagify baseline) and a ReKo
training step timed at 256x256, batch 1 and 8, fp32 and AMP (float16, bfloat16), the 7x student
initialised from the teacher trained for --minutes and scored against the teacher on held-out
photos beside the photo itself; OUT_DIR/gpu_check.json holds every figure, OUT_DIR/student_7x.pth
the student. --dry-run: the same stages on the CPU at a tiny budget. What it does:
reko_mm/benchmarks/gpu_check.py.
"""
import argparse
import sys

import reko_mm  # noqa: F401  (registers components, applies compatibility fixes)
from reko_mm.benchmarks.arms import BenchmarkError
from reko_mm.benchmarks.gpu_check import PRECISIONS, run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', help='where gpu_check.json, the log and the student go')
    parser.add_argument('--dry-run', action='store_true',
                        help='every stage on the CPU at a tiny budget')
    parser.add_argument('--minutes', type=float, default=4.0, help="the student's training time")
    parser.add_argument('--photos', help='a folder with train/ and test/ photos (default: '
                        "scikit-image's bundled photos)")
    parser.add_argument('--size', type=int, default=256)
    parser.add_argument('--batch-size', type=int, nargs='+', default=[1, 8])
    parser.add_argument('--precisions', nargs='+', default=list(PRECISIONS),
                        choices=list(PRECISIONS))
    parser.add_argument('--no-tests', action='store_true', help='skip pytest -m cuda')
    args = parser.parse_args()
    try:
        result = run(args.out_dir, dry_run=args.dry_run, photos=args.photos,
                     train_minutes=args.minutes, size=args.size, batches=args.batch_size,
                     precisions=args.precisions, run_tests=not args.no_tests,
                     log=lambda s: print(s, flush=True))
    except BenchmarkError as e:
        sys.exit(f'gpu_check: {e}')
    sys.exit(1 if result['failed'] else 0)


if __name__ == '__main__':
    main()
