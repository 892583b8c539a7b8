"""How fast a generator runs: one runner per runtime, one interleaved median timer, the
teacher-vs-student comparison of ``tools/analysis_tools/benchmark_latency.py`` and the choice of
the fastest export (``export_student --formats fastest``)."""
import json
import os.path as osp
import shutil
import statistics
import time
from typing import Callable, Dict, Hashable, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

from .formats import freeze_torchscript, write_formats
from .runtimes import (FILE_RUNTIMES, FORMAT_RUNTIMES, REDUCED_PRECISION, RUNTIME_FORMATS,
                       file_runner, runtime_available)


def median_times(fns: Dict[Hashable, Callable[[], object]], warmup: int = 3, repeats: int = 10,
                 sync: Optional[Callable[[], None]] = None) -> Dict[Hashable, float]:
    """Median seconds per call of each function, timed in interleaved rounds.

    A drift of the machine (another process, a clock change) hits all of them alike.

    Args:
        fns (dict): ``{name: fn()}``.
        warmup (int): untimed calls of each first.
        repeats (int): timed rounds.
        sync (callable, optional): called after each call (e.g. ``torch.cuda.synchronize``).

    Returns:
        dict: ``{name: median seconds}``.
    """
    sync = sync or (lambda: None)
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    sync()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def make_runner(runtime: str, x: torch.Tensor, net: Optional[nn.Module] = None,
                path: Optional[str] = None, threads: int = 0, device: str = 'cpu'
                ) -> Tuple[Callable[[], object], Callable[[], np.ndarray]]:
    """A generator on ``x`` in ``runtime``, as ``(run, output)``.

    ``run()`` is what is timed; ``output()`` its result as numpy, for the equality check.

    Args:
        runtime (str): ``pytorch`` (eager, on ``device``), ``torchscript`` (a frozen trace with
            ``optimize_for_inference`` of ``net``, or the file ``path``), ``torch-compile``
            (inductor), or a file runtime (:data:`FILE_RUNTIMES`) that runs ``path``.
        x (Tensor): the input.
        net (nn.Module, optional): the network (eager, TorchScript, torch.compile).
        path (str, optional): the exported file (file runtimes).
        threads (int): threads of a file runtime (0: its default).
        device (str): ``pytorch``'s device.

    Returns:
        tuple: ``(run, output)``.
    """
    if runtime in FILE_RUNTIMES or (runtime == 'torchscript' and path):
        if path is None:
            raise ValueError(f'{runtime} runs an exported file: give its path')
        run_file, feed = file_runner(path, runtime, threads), x.numpy()
        return (lambda: run_file(feed)), (lambda: np.asarray(run_file(feed)))
    if net is None:
        raise ValueError(f'{runtime} runs a network: give net')
    if runtime == 'pytorch':
        import copy
        # a copy on the device: the caller's network stays where it is
        net_d = copy.deepcopy(net).to(device) if device != 'cpu' else net
        x_d = x.to(device)
        sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)

        def run():
            with torch.no_grad():
                out = net_d(x_d)
            sync()
            return out
    elif runtime == 'torchscript':
        with torch.no_grad():
            scripted = torch.jit.optimize_for_inference(freeze_torchscript(net, x))

        def run():
            with torch.no_grad():
                return scripted(x)
    elif runtime == 'torch-compile':
        compiled = torch.compile(net)

        def run():
            with torch.no_grad():
                return compiled(x)
        run()  # compiles
    else:
        raise ValueError(f'unknown runtime {runtime!r}')
    return run, (lambda: run().detach().cpu().numpy())


def formats_for(runtimes) -> List[str]:
    """The exported formats the file runtimes of ``runtimes`` need."""
    return sorted({RUNTIME_FORMATS[r] for r in runtimes if r in FILE_RUNTIMES})


def compare_latency(nets: Dict[str, Dict[str, nn.Module]], x: torch.Tensor, runtimes: List[str],
                    threads: List[int], warmup: int, repeats: int, tolerance: float,
                    reference: np.ndarray, tmp: str, log: Callable[[dict], None] = print,
                    cuda: bool = False, extra_formats=()) -> Tuple[List[dict], List[str], dict]:
    """Teacher vs student in every runtime, thread count and graph.

    Args:
        nets (dict): graph -> ``{'teacher': net, 'student': net}``.
        x (Tensor): the input.
        runtimes, threads: what to measure (thread 0: the runtime's default).
        reference (ndarray): the student's PyTorch output, to check each runtime against.
        tmp (str): a folder for the exported files.
        log (callable): called with each row as it is measured.
        cuda (bool): also time PyTorch eager on the GPU, when there is one.
        extra_formats: formats to export beyond what ``runtimes`` run (the profiles' files).

    Returns:
        ``(rows, fp32 runtimes beyond tolerance, files)``; ``files[graph][net][runtime]`` are
        the exported files (the profiles read them).
    """
    files = {g: {n: {} for n in graph_nets} for g, graph_nets in nets.items()}
    formats = sorted(set(formats_for(runtimes)) | set(extra_formats))
    for graph, graph_nets in nets.items():
        for name, net in graph_nets.items():
            if not formats:
                break
            # calibration data only sets int8's ranges, not its speed (its accuracy is
            # checked on real images by tools/test.py --exported)
            made = write_formats(net, x, f'{tmp}/{name}_{graph}', formats, dynamic=False,
                                 calibration=lambda: [torch.rand_like(x) * 2 - 1
                                                      for _ in range(4)])
            files[graph][name] = {r: made[f] for r, f in RUNTIME_FORMATS.items() if f in made
                                  and r in FILE_RUNTIMES}
    default_threads = torch.get_num_threads()
    rows, bad = [], []

    def measure(runtime, graph, device, n_threads, pairs):
        med = median_times({n: fn for n, (fn, _) in pairs.items()}, warmup, repeats)
        diff = float(abs(pairs['student'][1]() - reference).max()) if device == 'cpu' \
            else float('nan')
        if device == 'cpu' and runtime not in REDUCED_PRECISION and diff > tolerance:
            bad.append(f'{runtime} ({graph}): {diff:.3g}')
        row = dict(runtime=runtime, graph=graph, device=device, threads=n_threads,
                   teacher_ms=med['teacher'] * 1e3, student_ms=med['student'] * 1e3,
                   speedup=med['teacher'] / med['student'], max_abs_diff=diff)
        rows.append(row)
        log(row)

    try:
        for n in threads:
            n_threads = n or default_threads
            torch.set_num_threads(n_threads)
            for runtime in runtimes:
                for graph, graph_nets in nets.items():
                    measure(runtime, graph, 'cpu', n_threads,
                            {name: make_runner(runtime, x, net,
                                               files[graph][name].get(runtime), n_threads)
                             for name, net in graph_nets.items()})
    finally:
        torch.set_num_threads(default_threads)
    if cuda and torch.cuda.is_available():
        plain = nets.get('plain') or next(iter(nets.values()))
        measure('pytorch', 'plain', 'cuda', '-',
                {name: make_runner('pytorch', x, net, device='cuda')
                 for name, net in plain.items()})
    return rows, bad, files


def select_fastest(files: Dict[tuple, str], x: torch.Tensor, threads: int = 0,
                   warmup: int = 3, repeats: int = 10,
                   log: Callable[[str], None] = print) -> List[tuple]:
    """Time every exported file in every runtime that runs its format and is available here,
    all in one interleaved timing (:func:`median_times`: a drift of the machine hits every
    candidate alike); ``files``: ``{(graph, format): path}``. Returns
    ``[(ms, graph, format, runtime)]``, fastest first."""
    runs = {}
    for (graph, fmt), path in files.items():
        for runtime in FORMAT_RUNTIMES[fmt]:
            if runtime_available(runtime) is None:
                runs[(graph, fmt, runtime, path)] = make_runner(runtime, x, path=path,
                                                                threads=threads)[0]
    timings = []
    for (graph, fmt, runtime, path), seconds in median_times(runs, warmup, repeats).items():
        timings.append((seconds * 1e3, graph, fmt, runtime))
        log(f'  {runtime:<18} {graph:<12} {seconds * 1e3:9.2f} ms  ({path.rsplit("/", 1)[-1]})')
    return sorted(timings)


def write_fastest(candidates: Dict[Tuple[str, str], Tuple[Dict[tuple, Tuple[str, dict]],
                                                         torch.Tensor]],
                  out_dir: str, name: str, threads: int = 0,
                  log: Callable[[str], None] = print) -> Dict[str, dict]:
    """Write the fastest of each generator's verified exports, and ``<name>_deploy.json``
    saying which runtime runs it and what was measured (``export_student --formats fastest``).

    Args:
        candidates (dict): ``{(source, target): (files, example)}``, one per generator:
            ``files`` ``{(graph, format): (path, report entry)}`` its verified exports (in a
            temporary folder), ``example`` the input they are timed on (:func:`select_fastest`).
        out_dir (str): where the fastest file of each generator is copied and the manifest
            written.
        name (str): the manifest's stem.
        threads (int): threads of the file runtimes (0: their default).
        log (callable): called with each line of progress.

    Returns:
        dict: ``{copied path: its report entry}``.
    """
    report, deploy = {}, {}
    for (source, target), (files, example) in candidates.items():
        timings = select_fastest({k: p for k, (p, _) in files.items()}, example, threads,
                                 log=log)
        ms, graph, fmt, runtime = timings[0]
        path, entry = files[(graph, fmt)]
        dst = osp.join(out_dir, osp.basename(path))
        shutil.copy(path, dst)
        if fmt == 'openvino':
            shutil.copy(path[:-4] + '.bin', dst[:-4] + '.bin')
        report[dst] = entry
        deploy[f'{source}2{target}'] = dict(
            file=osp.basename(dst), runtime=runtime, graph=graph, median_ms=round(ms, 3),
            threads=threads or 'default', input_shape=list(example.shape),
            max_abs_diff=entry['max_abs_diff'],
            measured={f'{r} ({f}, {g})': round(t, 3) for t, g, f, r in timings})
        log(f'fastest for {source}->{target}: {runtime} on the {graph} graph ({dst}), '
            f'{ms:.2f} ms')
    path = osp.join(out_dir, f'{name}_deploy.json')
    with open(path, 'w') as f:
        json.dump(deploy, f, indent=1)
    log(f'what to run and how fast it was: {path}')
    return report


def speed_up(nets: dict, size: int) -> dict:
    """``{'teacher': net, 'student': net}`` in the fastest exact CPU runtime here (OpenVINO
    where installed), 2 threads, on the split-narrow graph."""
    import tempfile

    from . import TOLERANCE, runtime_available, split_narrow_convs
    runtime = 'openvino' if runtime_available('openvino') is None else 'pytorch'
    graphs = {'split-narrow': {n: split_narrow_convs(m)[0] for n, m in nets.items()}}
    x = torch.rand(1, 3, size, size) * 2 - 1
    with torch.no_grad(), tempfile.TemporaryDirectory() as tmp:
        rows, _, _ = compare_latency(graphs, x, [runtime], [2], 3, 10, TOLERANCE,
                                     nets['student'](x).numpy(), tmp, log=lambda r: None)
    r = rows[0]
    return dict(runtime=runtime, teacher_ms=r['teacher_ms'], student_ms=r['student_ms'],
                speedup=r['speedup'])
