"""What makes a teacher-target training step fast on a CPU, measured in one run.

    python tools/analysis_tools/benchmark_fast_step.py \
        --teacher-ckpt checkpoints/vintagify_vintage.pth [--sizes 128 256] \
        [--batch-size 1 4] [--repeats 3] \
        [--photos ../shared/data/apple2orange/testA ../shared/data/facades/test --num 200]

Times, round-robin, a step of configs/reko/vintagify/vintagify_7x_nokd.py (the teacher runs at
every step) against vintagify_7x_nokd_cached.py (the teacher's translations cached) in float32,
under bf16 autocast (tools/train.py --amp) and channels-last, as images per second. With
--methods none reko it times ReKo's pair after the baseline's, in the same run:
vintagify_7x.py (the teacher runs) against vintagify_7x_fast.py (its translations and its
features at ReKo's layers cached). With
--photos it also measures how far crop(teacher(photo)), what the cache trains on, is from
teacher(crop(photo)), and how far a flipped cached sample, flip(teacher(photo)), is from
teacher(flip(photo)), in the translation and in the teacher's features at ReKo's layers.
What it does: reko_mm/benchmarks/fast_step.py.
"""
import argparse
import json

import torch

from reko_mm.benchmarks.fast_step import ARMS, EXTRA_ARMS, crop_gap, fast_step_cost, flip_gap
from reko_mm.utils import load_config

VINTAGIFY = 'configs/reko/vintagify/'
# method: (the teacher-target config, the cached one)
PAIRS = dict(none=('vintagify_7x_nokd.py', 'vintagify_7x_nokd_cached.py'),
             reko=('vintagify_7x.py', 'vintagify_7x_fast.py'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--teacher-ckpt', required=True, help='the imported vintagify teacher')
    parser.add_argument('--sizes', type=int, nargs='+', default=[128, 256])
    parser.add_argument('--batch-size', type=int, nargs='+', default=[1, 4])
    parser.add_argument('--repeats', type=int, default=3, help='0: the crop gap alone')
    parser.add_argument('--arms', nargs='+', default=list(ARMS), choices=list(ARMS + EXTRA_ARMS))
    parser.add_argument('--methods', nargs='+', default=['none'], choices=list(PAIRS),
                        help="the configs' distillation: none (the teacher-target baseline), "
                             'reko; each is timed against its own teacher-target step')
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
    out = dict(steps=[])
    for method in args.methods if args.repeats else []:
        print(f'method {method}: {PAIRS[method][0]} against {PAIRS[method][1]}, median of '
              f'{args.repeats} steps (round-robin)')
        print('| step | size | batch | s / step | images / s | vs teacher-target |')
        print('|---|---|---|---|---|---|')
        rows = fast_step_cost(VINTAGIFY + PAIRS[method][0], VINTAGIFY + PAIRS[method][1],
                              args.teacher_ckpt, args.sizes, args.batch_size, args.repeats,
                              args.arms)
        out['steps'] += [dict(row, method=method) for row in rows]
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
    if args.photos:
        layers = load_config(VINTAGIFY + PAIRS['reko'][1]).train_dataloader.dataset.features
        print(f"| flip | photos | PSNR flip(T(flip(photo))) to T(photo) | per layer "
              f"({', '.join(layers)}): relative L2 / cosine / ReKo top-64 shared |")
        print('|---|---|---|---|')
        out['flip_gap'] = []
        for size in args.sizes:
            gap = flip_gap(args.teacher_ckpt, args.photos, size, layers, args.num)
            out['flip_gap'].append(gap)
            per = '; '.join(f"{v['rel_l2']:.3f} / {v['cosine']:.3f} / "
                            f"{100 * v['top_k_shared']:.0f} %" for v in gap['layers'].values())
            print(f"| {size} | {gap['images']} | {gap['psnr']:.2f} dB | {per} |", flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
