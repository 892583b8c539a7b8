"""Teacher vs student generator latency in every CPU runtime a user would try, in one run.

    python tools/analysis_tools/benchmark_latency.py configs/reko/cyclegan_horse2zebra_7x.py \
        [--checkpoint STUDENT.pth] [--shape 256 256] [--batch 1] [--warmup 3] [--repeats 20]
        [--threads 1 0]
        [--runtimes pytorch torchscript torch-compile onnxruntime onnxruntime-tuned openvino
                    onnxruntime-int8 openvino-int8 openvino-bf16] [--graphs plain split-narrow]
        [--profile] [--json OUT] [--cuda]

Both generators are built from the distillation config (weights do not change the latency;
``--checkpoint`` loads the student's, strictly, so that the output checks run on them). For
each CPU thread count (0: the runtime's default) and runtime, the two networks are timed
alternately (teacher, student, teacher, ...) after a warm-up, so that drifts of the machine hit
both alike. It prints the medians, the measured speed-up, the FLOP ratio (the limit a
compute-bound runtime can reach) and the student's max abs output difference to PyTorch eager;
an fp32 runtime beyond --tolerance fails the run. The runtimes (reko_mm/deployment/runtimes.py):
PyTorch eager; TorchScript (frozen trace + ``optimize_for_inference``); ``torch.compile``;
ONNX Runtime with default and tuned session options; OpenVINO (IR, f32); int8 (static QDQ
quantisation of the ONNX graph's convolutions) in ONNX Runtime and OpenVINO, and OpenVINO in
bfloat16 (CPUs with bf16 units), whose accuracy is to be checked on a metric with
``tools/test.py --exported``. ONNX is exported with a static input shape. ``--graphs``:
``plain`` times the generators as built; ``split-narrow`` after the exact rewrite of their
narrow convolutions (reko_mm/deployment/rewrite.py), applied to both alike. ``--profile`` adds
ONNX Runtime's and OpenVINO's time per operator type and OpenVINO's time and multiply-adds per
second per convolution layer. What it does: reko_mm/deployment/latency.py.
"""
import argparse
import json
import os.path as osp
import sys
import tempfile

import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from mmagic.registry import MODELS

from reko_mm.apis import generator_complexity, teacher_and_student_generators
from reko_mm.deployment import RUNTIMES, TOLERANCE, runtime_available, split_narrow_convs
from reko_mm.deployment.export import load_student
from reko_mm.deployment.latency import compare_latency
from reko_mm.deployment.profiling import network_profiles
from reko_mm.utils import CheckpointMismatchError, load_config

GRAPHS = ('plain', 'split-narrow')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a distillation config (it names student and teacher)')
    parser.add_argument('--checkpoint', help="the student's weights (a training checkpoint or a "
                        'published student; default: random)')
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 0],
                        help='CPU intra-op thread counts to measure (0: the default, all cores)')
    parser.add_argument('--runtimes', nargs='+', default=list(RUNTIMES), choices=RUNTIMES,
                        help='default: all (one that cannot run here is skipped, with why)')
    parser.add_argument('--tolerance', type=float, default=TOLERANCE,
                        help='max abs output difference to PyTorch an fp32 runtime may have')
    parser.add_argument('--graphs', nargs='+', default=list(GRAPHS), choices=GRAPHS,
                        help='plain: the generators as built; split-narrow: after the exact '
                        'rewrite of their narrow convolutions (default: both)')
    parser.add_argument('--profile', action='store_true',
                        help='time per operator type (ONNX Runtime, OpenVINO) and per '
                        'convolution layer (OpenVINO) of both networks, for each graph')
    parser.add_argument('--json', help='also write the rows to this JSON file')
    parser.add_argument('--cuda', action='store_true', help='also time on CUDA when present')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()

    cfg = load_config(args.config, args.cfg_options)
    gens = teacher_and_student_generators(cfg)
    if set(gens) != {'teacher', 'student'}:
        sys.exit(f'{args.config} is not a distillation config (no model.teacher): nothing to '
                 'compare')
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    torch.manual_seed(0)
    nets = {name: MODELS.build(gens[name]).eval() for name in ('teacher', 'student')}
    if args.checkpoint:
        try:
            model = load_student(cfg, args.checkpoint, args.config)
        except (CheckpointMismatchError, FileNotFoundError) as err:
            sys.exit(f'error: {err}')
        nets['student'] = model.generators[model._default_domain].eval()
        print(f'student weights: {args.checkpoint} (loaded strictly)')
    x = torch.rand(args.batch, gens['student'].get('in_channels', 3), *args.shape) * 2 - 1
    flops = {name: generator_complexity(gens[name], args.shape)[1] for name in nets}
    flop_ratio = flops['teacher'] / flops['student']
    runtimes = []
    for runtime in args.runtimes:
        problem = runtime_available(runtime)
        if problem:
            print(f'skipped {runtime}: {problem}')
        else:
            runtimes.append(runtime)
    graphs = {'plain': nets}
    if 'split-narrow' in args.graphs:
        split = {n: split_narrow_convs(m) for n, m in nets.items()}
        if any(names for _, names in split.values()):
            graphs['split-narrow'] = {n: m for n, (m, _) in split.items()}
            print('split-narrow rewrites ' + '; '.join(
                f'{n}: {", ".join(names) or "nothing"}' for n, (_, names) in split.items()))
        else:
            print('skipped split-narrow: neither generator has a narrow convolution to rewrite')
    if 'plain' not in args.graphs:
        graphs.pop('plain')
        if not graphs:
            sys.exit('nothing to time: --graphs split-narrow, and nothing to rewrite')

    print(f'{osp.basename(args.config)}: batch {args.batch}, {args.shape[0]}x{args.shape[1]}, '
          f'{args.warmup} warm-up + {args.repeats} timed runs each, interleaved')
    print(f'FLOPs: teacher {flops["teacher"]:.4g} G, student {flops["student"]:.4g} G '
          f'(ratio {flop_ratio:.2f}x)')
    print(f'{"runtime":<18} {"graph":<12} {"device":<7} {"threads":>7} {"teacher ms":>11} '
          f'{"student ms":>11} {"speed-up":>9} {"FLOP ratio":>11} {"max |diff|":>11}')

    def show(r):
        r['flop_ratio'] = flop_ratio
        print(f'{r["runtime"]:<18} {r["graph"]:<12} {r["device"]:<7} {r["threads"]:>7} '
              f'{r["teacher_ms"]:>11.2f} {r["student_ms"]:>11.2f} {r["speedup"]:>8.2f}x '
              f'{flop_ratio:>10.2f}x {r["max_abs_diff"]:>11.3g}', flush=True)

    with torch.no_grad():
        reference = nets['student'](x).numpy()
    profile_formats = ['onnx'] + (['openvino'] if runtime_available('openvino') is None else [])
    with tempfile.TemporaryDirectory() as tmp:
        rows, bad, files = compare_latency(
            graphs, x, runtimes, args.threads, args.warmup, args.repeats, args.tolerance,
            reference, tmp, log=show, cuda=args.cuda,
            extra_formats=profile_formats if args.profile else ())
        if args.profile:
            threads = args.threads[0] or torch.get_num_threads()
            profiles = network_profiles(graphs, files, x, threads, args.warmup, args.repeats)
            rows.append(dict(profile=profiles['onnxruntime'],
                             openvino_profile=profiles['openvino']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(config=args.config, shape=args.shape, batch=args.batch, rows=rows),
                      f, indent=1)
    if bad:
        sys.exit(f'fp32 runtimes differ from PyTorch by more than {args.tolerance}: {bad}')


if __name__ == '__main__':
    main()
