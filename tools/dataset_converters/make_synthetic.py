"""Generate the synthetic translation dataset (objects flat in A, striped in B, masks known).

    python tools/dataset_converters/make_synthetic.py data/synthetic/unpaired --layout unpaired
    python tools/dataset_converters/make_synthetic.py data/synthetic/paired --layout paired \
        --num-train 64 --num-test 16 --size 64 --seed 0
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

from reko_mm.datasets.synthetic import generate_synthetic_dataset  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='output folder')
    parser.add_argument('--layout', choices=['unpaired', 'paired'], default='unpaired')
    parser.add_argument('--num-train', type=int, default=64, help='per domain when unpaired')
    parser.add_argument('--num-test', type=int, default=16)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true',
                        help='write into a non-empty folder')
    args = parser.parse_args(argv)
    counts = generate_synthetic_dataset(args.root, args.layout, args.num_train, args.num_test,
                                        args.size, args.seed, args.overwrite)
    print(f'wrote {args.layout} dataset to {args.root}: ' +
          ', '.join(f'{k}={v}' for k, v in counts.items()) + f' (masks in {args.root}/masks)')


if __name__ == '__main__':
    main()
