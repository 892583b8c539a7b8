"""Cost of each distillation method in a CycleGAN-7x training step, measured in one run.

    python tools/analysis_tools/benchmark_distill_step.py [--sizes 256 64] [--repeats 3]
        [--batch-size 2 [4 ...]] [--device cpu|cuda] [--precisions fp32 bf16 fp16]
        [--methods reko at ...] [--vgg-weights PATH] [--json OUT]

For each input size, batch size and precision it times, round-robin, the teacher's own step,
the no-KD student step, the teacher forward and every method's TeacherStudentGAN step, and
prints steps per second, each method's step / (student step + teacher forward) (target: <= 1.15
for every feature and image method) and, on CUDA, the peak memory a step allocates above what is
resident. bf16 / fp16 run the step under autocast (AutocastOptimWrapper, as tools/train.py
--amp --amp-dtype); fp16 needs a GPU. OMGD's two VGG terms run only with --vgg-weights (a local
VGG16 file). CAT needs 2 images a batch: it is skipped, with why, at 1.

    python tools/analysis_tools/benchmark_distill_step.py --teacher-target \
        configs/reko/vintagify/vintagify_7x_nokd.py configs/reko/vintagify/vintagify_7x.py \
        --teacher-ckpt checkpoints/vintagify_vintage.pth --photos data/photos --sizes 128

times a teacher-target step instead (baseline and ReKo with an imported teacher), with the
teacher forward's share, in fp32 and with the teacher in bf16 (CPUs with bf16 units), and what
bf16 changes in the targets and the losses. What it does: reko_mm/benchmarks/step_cost.py.
"""
import argparse
import json
import os.path as osp
import sys

import torch

from reko_mm.benchmarks.step_cost import (METHODS, PRECISIONS, build_models, measure,
                                          teacher_target_cost)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[256, 64])
    parser.add_argument('--batch-size', type=int, nargs='+', default=[2],
                        help='images per step, one run per value (the same for every arm)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (or 'cuda:N')")
    parser.add_argument('--precisions', nargs='+', default=['fp32'], choices=list(PRECISIONS),
                        help='fp32, and autocast bf16 / fp16 (fp16: GPU only)')
    parser.add_argument('--methods', nargs='+', default=METHODS, choices=METHODS)
    parser.add_argument('--vgg-weights', help="a local VGG16 state dict for OMGD's VGG terms")
    parser.add_argument('--json', help='also write the rows to this JSON file')
    parser.add_argument('--teacher-target', nargs='+', metavar='CONFIG',
                        help='time these teacher-target configs instead (see above)')
    parser.add_argument('--teacher-ckpt', help='with --teacher-target: the imported teacher')
    parser.add_argument('--photos', help='with --teacher-target: a folder with train/ photos')
    args = parser.parse_args()
    if args.teacher_target:
        if not (args.teacher_ckpt and args.photos):
            sys.exit('--teacher-target needs --teacher-ckpt and --photos')
        print(f'torch {torch.__version__}, CPU, {torch.get_num_threads()} threads, median of '
              f'{args.repeats}')
        print('| config | teacher | size | step s | teacher forward s (share) | target mean '
              '|diff| vs fp32 | loss change vs fp32 |')
        print('|---|---|---|---|---|---|---|')
        rows = []
        for size in args.sizes:
            rows += teacher_target_cost({osp.basename(c)[:-3]: c for c in args.teacher_target},
                                        args.teacher_ckpt, args.photos, size, args.repeats)
        if args.json:
            with open(args.json, 'w') as f:
                json.dump(rows, f, indent=1)
        return
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        sys.exit(f'--device {args.device}: torch {torch.__version__} sees no CUDA GPU '
                 f'(torch.version.cuda={torch.version.cuda}); run on a GPU machine or use '
                 '--device cpu')
    if 'fp16' in args.precisions and not args.device.startswith('cuda'):
        sys.exit('--precisions fp16: float16 autocast needs a GPU (reko-mm runs bfloat16 on a '
                 'CPU); use --device cuda, or bf16')
    student, teacher, models = build_models(args.methods, args.device, args.vgg_weights)
    where = torch.cuda.get_device_name(args.device) if args.device.startswith('cuda') else \
        f'CPU, {torch.get_num_threads()} threads'
    print(f'torch {torch.__version__}, {where}, median of {args.repeats} (round-robin); '
          'student ngf 24, teacher ngf 64, CycleGAN horse2zebra 7x configs')
    rows = []
    for size in args.sizes:
        for batch in args.batch_size:
            for precision in args.precisions:
                rows += measure(size, batch, precision, args.repeats, student, teacher, models,
                                args.device)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(device=where, torch=torch.__version__, rows=rows), f, indent=1)


if __name__ == '__main__':
    main()
