"""Teacher vs student generator latency in every CPU runtime a user would try, in one run.

    python tools/analysis_tools/benchmark_latency.py configs/reko/cyclegan_horse2zebra_7x.py \
        [--shape 256 256] [--batch 1] [--warmup 3] [--repeats 20] [--threads 1 0]
        [--runtimes pytorch torchscript torch-compile onnxruntime onnxruntime-tuned openvino
                    onnxruntime-int8 openvino-int8 openvino-bf16] [--graphs plain split-narrow]
        [--profile] [--json OUT] [--cuda]

Both generators are built from the ReKo config (weights do not change the latency). For each
CPU thread count (0: the runtime's default) and runtime, the two networks are timed alternately
(teacher, student, teacher, ...) after a warm-up, so that drifts of the machine hit both alike.
It prints the medians, the measured speed-up, the FLOP ratio (the limit a compute-bound runtime
can reach) and the student's max abs output difference to PyTorch eager; an fp32 runtime
beyond --tolerance fails the run. The runtimes (reko_mm/deployment/runtimes.py): PyTorch eager;
TorchScript (frozen trace + ``optimize_for_inference``); ``torch.compile`` (inductor);
ONNX Runtime with default and tuned session options; OpenVINO (IR, f32); int8 (static QDQ
quantisation of the ONNX graph's convolutions) in ONNX Runtime and OpenVINO, and OpenVINO in
bfloat16 (CPUs with bf16 units), whose accuracy is to be checked on a metric with
``tools/test.py --exported``. ONNX is exported with a static
input shape. ``--graphs``: ``plain`` times the generators as built; ``split-narrow`` times them
after the exact rewrite of their narrow convolutions (``reko_mm/deployment/rewrite.py``: the last
7x7 convolution to 3 channels as a 1x7 convolution to 21 channels plus a shifted sum), applied to
both networks alike. ``--profile`` adds ONNX Runtime's and OpenVINO's time per operator type and
OpenVINO's time and speed (multiply-adds per second) per convolution layer, for both networks.
"""
import argparse
import json
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
from reko_mm.deployment import (FILE_RUNTIMES, REDUCED_PRECISION, RUNTIMES,  # noqa: E402
                                export_onnx, file_runner,
                                freeze_torchscript, quantize_int8, runtime_available,
                                save_openvino_ir, split_narrow_convs)
from reko_mm.deployment.profiling import (conv_layers, openvino_layer_table,  # noqa: E402
                                          profile_openvino, profile_ort)

GRAPHS = ('plain', 'split-narrow')


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
            return scripted(x)
    return run


def compile_runner(net, x):
    compiled = torch.compile(net)

    def run():
        with torch.no_grad():
            return compiled(x)
    run()  # compiles
    return run


def runner(runtime, net, x, files, threads):
    """A no-argument callable timing one generator in ``runtime``, and its output for the
    equality check."""
    if runtime == 'pytorch':
        fn = torch_runner(net, x, 'cpu')
        return fn, lambda: net(x).detach().numpy()
    if runtime == 'torchscript':
        fn = torchscript_runner(net, x)
    elif runtime == 'torch-compile':
        fn = compile_runner(net, x)
    else:
        run_file = file_runner(files[runtime], runtime, threads)
        feed = x.numpy()
        return (lambda: run_file(feed)), (lambda: run_file(feed))
    return fn, lambda: fn().numpy()


def print_profiles(graphs, files, x, threads, args):
    """Print and return where each network's time goes: ONNX Runtime per operator type (first
    graph), OpenVINO per operator type and per convolution layer (every graph)."""
    out = {}
    first = next(iter(graphs))  # 'plain' unless only the rewritten graph is timed
    ort_table = profile_ort({n: files[first][n]['onnxruntime'] for n in graphs[first]},
                            x, threads, args.repeats)
    out['onnxruntime'] = ort_table
    print_op_table(f'ONNX Runtime ({first} graph)', ort_table, threads)
    out['openvino'] = {}
    if runtime_available('openvino'):
        return out
    for graph, graph_nets in graphs.items():
        nodes = {n: profile_openvino(files[graph][n]['openvino'], x, threads, args.warmup,
                                     args.repeats) for n in graph_nets}
        per_type = {n: {} for n in nodes}
        for n, ns in nodes.items():
            for node in ns:
                per_type[n][node['type']] = per_type[n].get(node['type'], 0.0) + node['ms']
        print_op_table(f'OpenVINO ({graph} graph)', per_type, threads)
        layers = openvino_layer_table(nodes, {n: conv_layers(m, x)
                                              for n, m in graph_nets.items()})
        out['openvino'][graph] = dict(per_type=per_type, conv_layers=layers)
        if layers is None:
            print("(the two networks' convolution nodes do not pair up: no per-layer table)")
            continue
        print(f'OpenVINO per convolution layer ({graph} graph): ms per run and '
              'multiply-adds per second (G/s)')
        print(f'{"layer":<34} {"kernel":<22} {"teacher ms":>10} {"G/s":>6} {"student ms":>10} '
              f'{"G/s":>6} {"ratio":>6} {"MAC ratio":>9}')
        for r in layers:
            print(f'{r["layer"][-34:]:<34} {r["exec_type"][:22]:<22} {r["teacher_ms"]:>10.2f} '
                  f'{r["teacher_gmacs"]:>6.0f} {r["student_ms"]:>10.2f} {r["student_gmacs"]:>6.0f} '
                  f'{r["teacher_ms"] / max(r["student_ms"], 1e-9):>5.2f}x '
                  f'{r["mac_ratio"]:>8.2f}x')
    return out


def print_op_table(title, table, threads):
    total = {n: sum(t.values()) for n, t in table.items()}
    print(f'\n{title} per operator type, {threads} thread(s), ms per run '
          '(share of the network time):')
    print(f'{"operator":<24} {"teacher ms":>16} {"student ms":>16} {"ratio":>7}')
    ops = sorted(set(table['teacher']) | set(table['student']),
                 key=lambda o: -table['teacher'].get(o, 0))
    for op in ops:
        t, s_ = table['teacher'].get(op, 0.0), table['student'].get(op, 0.0)
        print(f'{op:<24} {t:>9.2f} ({100 * t / total["teacher"]:>3.0f}%) '
              f'{s_:>9.2f} ({100 * s_ / total["student"]:>3.0f}%) '
              f'{t / s_ if s_ else float("nan"):>6.2f}x')
    print(f'{"all operators":<24} {total["teacher"]:>16.2f} {total["student"]:>16.2f} '
          f'{total["teacher"] / total["student"]:>6.2f}x')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a ReKo config (it names the student and the teacher)')
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 0],
                        help='CPU intra-op thread counts to measure (0: the default, all cores)')
    parser.add_argument('--runtimes', nargs='+', default=list(RUNTIMES), choices=RUNTIMES,
                        help='default: all (one that cannot run here is skipped, with why)')
    parser.add_argument('--tolerance', type=float, default=1e-3,
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
    rows, bad = [], []
    with torch.no_grad():
        reference = nets['student'](x).numpy()

    def report(runtime, graph, device, threads, pairs):
        med = alternate({n: fn for n, (fn, _) in pairs.items()}, args.warmup, args.repeats)
        diff = float(abs(pairs['student'][1]() - reference).max()) if device == 'cpu' \
            else float('nan')
        if device == 'cpu' and runtime not in REDUCED_PRECISION and diff > args.tolerance:
            bad.append(f'{runtime} ({graph}): {diff:.3g}')
        rows.append(dict(runtime=runtime, graph=graph, device=device, threads=threads,
                         teacher_ms=med['teacher'] * 1e3, student_ms=med['student'] * 1e3,
                         speedup=med['teacher'] / med['student'], flop_ratio=flop_ratio,
                         max_abs_diff=diff))
        print(f'{runtime:<18} {graph:<12} {device:<7} {threads:>7} '
              f'{med["teacher"] * 1e3:>11.2f} {med["student"] * 1e3:>11.2f} '
              f'{med["teacher"] / med["student"]:>8.2f}x {flop_ratio:>10.2f}x {diff:>11.3g}',
              flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        files = {g: {n: {} for n in nets} for g in graphs}
        needs_files = any(r in FILE_RUNTIMES for r in runtimes) or args.profile
        for graph, graph_nets in graphs.items():
            for n, m in graph_nets.items():
                if not needs_files:
                    break
                stem = osp.join(tmp, f'{n}_{graph}')
                onnx = export_onnx(m, x, stem + '.onnx', dynamic=False)
                files[graph][n].update({'onnxruntime': onnx, 'onnxruntime-tuned': onnx})
                if {'openvino', 'openvino-bf16'} & set(runtimes) or (
                        args.profile and runtime_available('openvino') is None):
                    xml = save_openvino_ir(onnx, stem + '.xml')
                    files[graph][n].update({'openvino': xml, 'openvino-bf16': xml})
                if any(r.endswith('int8') for r in runtimes):
                    # calibration data only sets the ranges: it does not change the latency
                    # (the int8 accuracy is checked on real images by tools/test.py --exported)
                    calib = [torch.rand_like(x) * 2 - 1 for _ in range(4)]
                    int8 = quantize_int8(onnx, stem + '_int8.onnx', calib)
                    files[graph][n].update({'onnxruntime-int8': int8, 'openvino-int8': int8})
        for threads in args.threads:
            n_threads = threads or default_threads
            torch.set_num_threads(n_threads)
            for runtime in runtimes:
                for graph, graph_nets in graphs.items():
                    report(runtime, graph, 'cpu', n_threads,
                           {n: runner(runtime, m, x, files[graph][n], n_threads)
                            for n, m in graph_nets.items()})
        torch.set_num_threads(default_threads)
        if args.cuda and torch.cuda.is_available():
            report('pytorch', 'plain', 'cuda', '-',
                   {n: (torch_runner(m, x, 'cuda'), None) for n, m in nets.items()})
        if args.profile:
            threads = args.threads[0] or default_threads
            profiles = print_profiles(graphs, files, x, threads, args)
            rows.append(dict(profile=profiles['onnxruntime'],
                             openvino_profile=profiles['openvino']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(config=args.config, shape=args.shape, batch=args.batch,
                           rows=rows), f, indent=1)
    if bad:
        sys.exit(f'fp32 runtimes differ from PyTorch by more than {args.tolerance}: {bad}')


if __name__ == '__main__':
    main()
