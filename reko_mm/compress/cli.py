"""The command line of :func:`reko_mm.compress.compress` (``tools/compress.py``, and the
``reko-compress`` console script)."""
import argparse
import sys
from typing import List, Optional

from .data import DIRECTIONS, LAYOUTS
from .plan import RATIOS

USAGE = '''Compress a trained image-to-image generator into a student, in one command.

  python tools/compress.py GENERATOR --data DIR [--ratio 7x|16x|4x | --width N]
      [--method none|reko|...] [--iters N | --minutes M] [--work-dir DIR]

GENERATOR: a state dict file of a CycleGAN / pix2pix generator (junyanz's latest_net_G*.pth,
a GAN Compression teacher, vintagify's generator, or an MMagic checkpoint). DIR: the images it
translates (a folder, train/ and test/, CycleGAN's trainA/ and testA/, or pix2pix A|B pairs);
the teacher's translations of them are the targets. Rerun the same command to resume.'''


def parser() -> argparse.ArgumentParser:
    from ..benchmarks.arms import METHODS_DIR
    import os
    methods = ['none'] + sorted(f[:-3] for f in os.listdir(METHODS_DIR)
                                if f.endswith('.py') and f not in ('kd_points.py', 'gcc.py'))
    p = argparse.ArgumentParser(description=USAGE, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument('generator', help='the trained generator file (.pth)')
    p.add_argument('--data', required=True, help='the folder of images the generator translates')
    p.add_argument('--work-dir', help='where everything goes (default: '
                   'work_dirs/compress/<generator>_<ratio>_<method>)')
    size = p.add_mutually_exclusive_group()
    size.add_argument('--ratio', default='7x', choices=list(RATIOS),
                      help='how many times fewer parameters (default 7x: width 64 -> 24)')
    size.add_argument('--width', type=int, help="the student's width (base channels)")
    p.add_argument('--method', default='none', choices=methods,
                   help='none: the teacher-target recipe of the released students (fastest; '
                   'default);\notherwise a distillation method of docs/methods.md on top (gcc '
                   'is left out:\nit needs the teacher\'s discriminator, which a generator '
                   'file lacks)')
    budget = p.add_mutually_exclusive_group()
    budget.add_argument('--iters', type=int, help='training iterations of 4 images (default '
                        '6000, the released students\' schedule)')
    budget.add_argument('--minutes', type=float, help='train for as many iterations as fit in '
                        'this many minutes (a step is timed\nfirst; scoring and export come on '
                        'top)')
    p.add_argument('--size', type=int, default=256, help='training and test image size')
    p.add_argument('--precision', default='auto', choices=['auto', 'bf16', 'fp32'],
                   help='auto: bf16 autocast where the CPU has bf16 units, else fp32')
    p.add_argument('--layout', default='auto', choices=LAYOUTS)
    p.add_argument('--direction', default='AtoB', choices=DIRECTIONS,
                   help='which side of unpaired (trainA/trainB) or A|B data is the input')
    p.add_argument('--holdout', type=int, help='images held out for scoring when DIR has no '
                   'test folder (default: a tenth, 2 to 200)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--key', help='which state dict of a file that holds several')
    p.add_argument('--source-channel-order', choices=['rgb', 'bgr'],
                   help='the colour order the generator was trained on (default: its layout\'s)')
    p.add_argument('--threads', type=int, default=0, help='CPU threads (default: all)')
    return p


def main(argv: Optional[List[str]] = None) -> None:
    from ..benchmarks import BenchmarkError
    from ..converters import GeneratorImportError
    from ..datasets.teacher_translations import StaleCacheError
    from ..utils.data_check import DataCheckError
    from . import CompressDataError, CompressError, compress
    import warnings
    argv = list(sys.argv if argv is None else argv)
    args = parser().parse_args(argv[1:])
    # the exporters' and tracers' warnings are about their internals; the steps print what
    # matters (each export is verified against PyTorch)
    warnings.simplefilter('ignore', (UserWarning, FutureWarning, DeprecationWarning))
    try:
        compress(args.generator, args.data, args.work_dir, args.ratio, args.width, args.method,
                 args.size, args.iters, args.minutes, args.precision, args.layout,
                 args.direction, args.holdout, args.seed, args.key, args.source_channel_order,
                 args.threads, argv=argv, log=lambda line: print(line, flush=True))
    except (CompressError, CompressDataError, GeneratorImportError, DataCheckError,
            StaleCacheError, BenchmarkError, OSError) as err:
        sys.exit(f'error: {err}')
    except KeyboardInterrupt:
        sys.exit('interrupted: the run is left as it was; rerun the same command to resume it')
