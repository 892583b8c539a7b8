"""The quick start: vintagify's real trained generator, its released 7x student first (scores,
speed-up, export), then a short distillation of it with the same recipe, on photos that ship with
scikit-image (reko_mm/demo.py).

    python tools/demo.py [--work-dir work_dirs/demo] [--steps N] [--precision auto|bf16|fp32]
"""
import argparse
import sys

from reko_mm.apis import ReleaseError
from reko_mm.benchmarks import BenchmarkError
from reko_mm.demo import STEPS, run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--precision', default='auto', choices=['auto', 'bf16', 'fp32'],
                        help='the short run: bf16 autocast with float32 master weights (needs a '
                        'CPU with bf16 units) or float32; auto: bf16 where the CPU has bf16 '
                        'units')
    parser.add_argument('--steps', type=int, default=None,
                        help=f'steps of 4 photos in the short run (default: {STEPS})')
    args = parser.parse_args()
    try:
        run(args.work_dir, args.steps, args.precision)
    except (BenchmarkError, ReleaseError) as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
