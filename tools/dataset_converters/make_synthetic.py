"""Generate a synthetic translation dataset (objects flat in A; striped, or outlined by dark
bands, in B; masks known).

    python tools/dataset_converters/make_synthetic.py data/synthetic/unpaired --layout unpaired
    python tools/dataset_converters/make_synthetic.py data/synthetic/paired --layout paired \
        --num-train 64 --num-test 16 --size 64 --seed 0
    # ground truth in both directions (test scenes paired at the same index):
    python tools/dataset_converters/make_synthetic.py data/synthetic/bands_unpaired \
        --kind bands --size 32 --num-train 200 --num-test 32
"""
import argparse


from reko_mm.datasets.synthetic import generate_synthetic_dataset


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
    parser.add_argument('--kind', choices=['stripes', 'bands'], default='stripes',
                        help="'bands': ground truth in both directions")
    parser.add_argument('--band', type=int, default=2, help='band width in pixels (bands)')
    parser.add_argument('--rings', type=int, default=1, help='number of dark bands (bands)')
    args = parser.parse_args(argv)
    counts = generate_synthetic_dataset(args.root, args.layout, args.num_train, args.num_test,
                                        args.size, args.seed, args.overwrite, kind=args.kind,
                                        band=args.band, rings=args.rings)
    print(f'wrote {args.layout} dataset to {args.root}: ' +
          ', '.join(f'{k}={v}' for k, v in counts.items()) + f' (masks in {args.root}/masks)')


if __name__ == '__main__':
    main()
