"""What makes a teacher-target training step fast on a CPU, measured in one run.

    python tools/analysis_tools/benchmark_fast_step.py \
        --teacher-ckpt checkpoints/vintagify_vintage.pth [--sizes 128 256] \
        [--batch-size 1 4] [--repeats 3] \
        [--photos ../shared/data/apple2orange/testA ../shared/data/facades/test --num 200]

Times, round-robin, a step of configs/reko/vintagify/vintagify_7x_nokd.py (the teacher runs at
every step) against vintagify_7x_nokd_cached.py (the teacher's translations cached) in float32,
under bf16 autocast (tools/train.py --amp) and channels-last, as images per second. With
--photos it also measures how far crop(teacher(photo)), what the cache trains on, is from
teacher(crop(photo)). What it does: reko_mm/benchmarks/fast_step.py.
"""
import argparse
import json

import torch

from reko_mm.benchmarks.fast_step import ARMS, EXTRA_ARMS, crop_gap, fast_step_cost

VINTAGIFY = 'configs/reko/vintagify/'


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--teacher-ckpt', required=True, help='the imported vintagify teacher')
    parser.add_argument('--sizes', type=int, nargs='+', default=[128, 256])
    parser.add_argument('--batch-size', type=int, nargs='+', default=[1, 4])
    parser.add_argument('--repeats', type=int, default=3, help='0: the crop gap alone')
    parser.add_argument('--arms', nargs='+', default=list(ARMS), choices=list(ARMS + EXTRA_ARMS))
    parser.add_argument('--photos', nargs='+', help='folders of held-out photos (crop gap)')
    parser.add_argument('--num', type=int, default=200, help='photos for the crop gap')
    parser.add_argument('--load-sizes', type=int, nargs='+', default=[0],
                        help='short sides the photos are resized to before the crop (0: the '
                             "crop's size, as the vintagify configs; 286 for a 256 crop is "
                             "CycleGAN's)")
    parser.add_argument('--json', help='also write the rows to this JSON file')
    args = parser.parse_args()
    print(f'torch {torch.__version__}, CPU, {torch.get_num_threads()} threads; vintagify 7x '
          'student (ngf 24), teacher ngf 64')
    if args.repeats:
        print(f'median of {args.repeats} steps (round-robin)')
        print('| step | size | batch | s / step | images / s | vs teacher-target |')
        print('|---|---|---|---|---|---|')
    out = dict(steps=[] if args.repeats == 0 else fast_step_cost(VINTAGIFY + 'vintagify_7x_nokd.py',
                                     VINTAGIFY + 'vintagify_7x_nokd_cached.py',
                                     args.teacher_ckpt, args.sizes, args.batch_size,
                                     args.repeats, args.arms))
    if args.photos:
        print('| crop | resized to | photos | crops = whole photo | PSNR crop(T(photo)) to '
              'T(crop) | without a 16-px frame | unchanged photo to T(crop) |')
        print('|---|---|---|---|---|---|---|')
        out['crop_gap'] = []
        for size in args.sizes:
            for load in args.load_sizes:
                if load and load < size:
                    continue
                gap = crop_gap(args.teacher_ckpt, args.photos, size, load, args.num)
                out['crop_gap'].append(gap)
                print(f"| {size} | {gap['load_size']} | {gap['images']} | "
                      f"{100 * gap['whole']:.0f} % | {gap['psnr']:.2f} dB | "
                      f"{gap['psnr_inner']:.2f} dB | {gap['identity_psnr']:.2f} dB |", flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
