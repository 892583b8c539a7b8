"""Teacher vs student generator latency in PyTorch eager, TorchScript and ONNX Runtime, one run.

    python tools/analysis_tools/benchmark_latency.py configs/reko/cyclegan_horse2zebra_7x.py \
        [--shape 256 256] [--batch 1] [--warmup 3] [--repeats 20] [--threads 1 0] [--cuda]

Both generators are built from the ReKo config (weights do not change the latency). For each
CPU thread count (0: the runtime's default) and runtime, the two networks are timed alternately
(teacher, student, teacher, ...) after a warm-up, so that drifts of the machine hit both alike.
It prints the medians, the measured speed-up and the FLOP ratio, the limit a compute-bound
runtime can reach. TorchScript is the frozen trace of tools/deployment/export_student.py, with
``torch.jit.optimize_for_inference``; ONNX is exported with a static input shape.
"""
import argparse
import os.path as osp
import statistics
import sys
import tempfile
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import reko_mm  # noqa: E402,F401
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmagic.registry import MODELS  # noqa: E402

from reko_mm.analysis import generator_complexity, teacher_and_student_generators  # noqa: E402
from reko_mm.deployment import export_onnx, freeze_torchscript  # noqa: E402


def alternate(fns: dict, warmup: int, repeats: int) -> dict:
    """Median seconds per call of each function, timed in interleaved rounds."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def torch_runner(net, x, device):
    net, x = net.to(device), x.to(device)

    def run():
        with torch.no_grad():
            net(x)
        if device.startswith('cuda'):
            torch.cuda.synchronize()
    return run


def torchscript_runner(net, x):
    with torch.no_grad():
        scripted = torch.jit.optimize_for_inference(freeze_torchscript(net, x))

    def run():
        with torch.no_grad():
            scripted(x)
    return run


def ort_runner(path, x, provider, threads):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, opts, providers=[provider])
    feed = {'input': x.numpy()}
    return lambda: session.run(None, feed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a ReKo config (it names the student and the teacher)')
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 0],
                        help='CPU intra-op thread counts to measure (0: the default, all cores)')
    parser.add_argument('--runtimes', nargs='+', default=['pytorch', 'torchscript', 'onnxruntime'],
                        choices=['pytorch', 'torchscript', 'onnxruntime'])
    parser.add_argument('--cuda', action='store_true', help='also time on CUDA when present')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    gens = teacher_and_student_generators(cfg)
    if set(gens) != {'teacher', 'student'}:
        sys.exit(f'{args.config} is not a ReKo config (no model.teacher): nothing to compare')
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    torch.manual_seed(0)
    nets = {name: MODELS.build(gens[name]).eval() for name in ('teacher', 'student')}
    x = torch.rand(args.batch, gens['student'].get('in_channels', 3), *args.shape) * 2 - 1
    flops = {name: generator_complexity(gens[name], args.shape)[1] for name in nets}
    flop_ratio = flops['teacher'] / flops['student']
    default_threads = torch.get_num_threads()

    print(f'{osp.basename(args.config)}: batch {args.batch}, {args.shape[0]}x{args.shape[1]}, '
          f'{args.warmup} warm-up + {args.repeats} timed runs each, interleaved')
    print(f'FLOPs: teacher {flops["teacher"]:.4g} G, student {flops["student"]:.4g} G '
          f'(ratio {flop_ratio:.2f}x)')
    print(f'{"runtime":<14} {"device":<7} {"threads":>7} {"teacher ms":>11} {"student ms":>11} '
          f'{"speed-up":>9} {"FLOP ratio":>11}')

    def report(runtime, device, threads, fns):
        med = alternate(fns, args.warmup, args.repeats)
        print(f'{runtime:<14} {device:<7} {threads:>7} {med["teacher"] * 1e3:>11.2f} '
              f'{med["student"] * 1e3:>11.2f} {med["teacher"] / med["student"]:>8.2f}x '
              f'{flop_ratio:>10.2f}x', flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        if 'onnxruntime' in args.runtimes:
            paths = {n: export_onnx(m, x, osp.join(tmp, f'{n}.onnx'), dynamic=False)
                     for n, m in nets.items()}
        for threads in args.threads:
            n_threads = threads or default_threads
            torch.set_num_threads(n_threads)
            if 'pytorch' in args.runtimes:
                report('PyTorch eager', 'cpu', n_threads,
                       {n: torch_runner(m, x, 'cpu') for n, m in nets.items()})
            if 'torchscript' in args.runtimes:
                report('TorchScript', 'cpu', n_threads,
                       {n: torchscript_runner(m, x) for n, m in nets.items()})
            if 'onnxruntime' in args.runtimes:
                report('ONNX Runtime', 'cpu', n_threads,
                       {n: ort_runner(p, x, 'CPUExecutionProvider', n_threads)
                        for n, p in paths.items()})
        torch.set_num_threads(default_threads)
        if args.cuda and torch.cuda.is_available():
            if 'pytorch' in args.runtimes:
                report('PyTorch eager', 'cuda', '-',
                       {n: torch_runner(m, x, 'cuda') for n, m in nets.items()})
            import onnxruntime as ort
            if paths and 'CUDAExecutionProvider' in ort.get_available_providers():
                report('ONNX Runtime', 'cuda', '-',
                       {n: ort_runner(p, x, 'CUDAExecutionProvider', 0)
                        for n, p in paths.items()})


if __name__ == '__main__':
    main()
