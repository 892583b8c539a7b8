"""Where a generator's CPU time goes: per operator type (ONNX Runtime, OpenVINO) and per
convolution layer with its multiply-adds (OpenVINO), for ``benchmark_latency.py --profile``."""
import collections
import json
import os.path as osp
from typing import Dict, List

import torch
import torch.nn as nn

from .rewrite import RowSplitConv2d

CONV_TYPES = ('Convolution', 'ConvolutionBackpropData', 'GroupConvolution')


def conv_layers(net: nn.Module, x: torch.Tensor) -> List[dict]:
    """The convolution layers of ``net`` in execution order: name and multiply-adds for
    input ``x`` (a :class:`RowSplitConv2d` counts as the convolution it replaces)."""
    layers, hooks = [], []

    def hook(name):
        def fn(module, inputs, output):
            if isinstance(module, nn.ConvTranspose2d):
                k = module.weight.shape[2] * module.weight.shape[3]
                macs = inputs[0].numel() * module.out_channels // module.groups * k
            elif isinstance(module, RowSplitConv2d):
                macs = output.numel() * module.weight[0].numel() * module.k_h
            else:
                macs = output.numel() * module.weight[0].numel()
            layers.append(dict(name=name, macs=macs))
        return fn

    for name, module in net.named_modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, RowSplitConv2d)):
            hooks.append(module.register_forward_hook(hook(name)))
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in hooks:
            h.remove()
    return layers


def profile_ort(paths: Dict[str, str], x: torch.Tensor, threads: int,
                repeats: int) -> Dict[str, Dict[str, float]]:
    """ONNX Runtime's per-node profile of each network, summed per operator type.

    Args:
        paths (dict): ``{network: .onnx path}``.
        x (Tensor): the input.
        threads (int): intra-op threads.
        repeats (int): runs profiled (the first, a warm-up, is averaged in).

    Returns:
        dict: ``{network: {operator type: ms per run}}``.
    """
    from .runtimes import ort_session
    table = {}
    for name, path in paths.items():
        session = ort_session(path, threads,
                              profile_prefix=osp.join(osp.dirname(path), f'profile_{name}'))
        feed = {session.get_inputs()[0].name: x.numpy()}
        for _ in range(repeats + 1):  # the first run is a warm-up, averaged in
            session.run(None, feed)
        with open(session.end_profiling()) as f:
            events = json.load(f)
        per_op = collections.defaultdict(float)
        for ev in events:
            if ev.get('cat') == 'Node' and ev['name'].endswith('_kernel_time'):
                per_op[ev['args']['op_name']] += ev['dur'] / 1e3 / (repeats + 1)
        table[name] = dict(per_op)
    return table


def profile_openvino(path: str, x: torch.Tensor, threads: int, warmup: int,
                     repeats: int) -> List[dict]:
    """OpenVINO's performance counters of one network, in execution order.

    Args:
        path (str): the OpenVINO IR (or ONNX) file.
        x (Tensor): the input.
        threads (int): inference threads.
        warmup (int): untimed runs.
        repeats (int): runs averaged.

    Returns:
        list[dict]: per executed node: ``name``, ``type``, the kernel it ran (``exec_type``, e.g.
        ``brgconv_avx512_f32``) and ``ms`` per run.
    """
    from .runtimes import openvino_compiled
    compiled = openvino_compiled(path, threads, extra={'PERF_COUNT': True})
    request = compiled.create_infer_request()
    feed = {0: x.numpy()}
    for _ in range(warmup):
        request.infer(feed)
    nodes = {}
    for _ in range(repeats):
        request.infer(feed)
        for info in request.profiling_info:
            if str(info.status).endswith('EXECUTED'):
                node = nodes.setdefault(info.node_name, dict(
                    name=info.node_name, type=info.node_type, exec_type=info.exec_type, ms=0.0))
                node['ms'] += info.real_time.total_seconds() * 1e3 / repeats
    return list(nodes.values())


def openvino_layer_table(nodes: Dict[str, List[dict]], convs: Dict[str, List[dict]]):
    """Pair the teacher's and the student's convolution nodes in execution order with their
    layers' multiply-adds; ``None`` when the two graphs' convolutions do not pair up."""
    conv_nodes = {n: [d for d in nodes[n] if d['type'] in CONV_TYPES] for n in nodes}
    if not all(len(conv_nodes[n]) == len(convs[n]) for n in nodes) or \
            len(conv_nodes['teacher']) != len(conv_nodes['student']):
        return None
    rows = []
    for i, layer in enumerate(convs['student']):
        t_node, s_node = conv_nodes['teacher'][i], conv_nodes['student'][i]
        t_macs, s_macs = convs['teacher'][i]['macs'], layer['macs']
        rows.append(dict(layer=layer['name'], exec_type=s_node['exec_type'],
                         teacher_ms=t_node['ms'], student_ms=s_node['ms'],
                         teacher_gmacs=t_macs / t_node['ms'] / 1e6 if t_node['ms'] else 0.0,
                         student_gmacs=s_macs / s_node['ms'] / 1e6 if s_node['ms'] else 0.0,
                         mac_ratio=t_macs / s_macs))
    return rows


def op_table_text(title: str, table: Dict[str, Dict[str, float]], threads: int) -> str:
    """The teacher's and the student's time per operator type, with shares and
    ratios, as text (``table``: ``{'teacher' | 'student': {type: ms}}``).
    """
    total = {n: sum(t.values()) for n, t in table.items()}
    lines = [f'\n{title} per operator type, {threads} thread(s), ms per run '
             '(share of the network time):',
             f'{"operator":<24} {"teacher ms":>16} {"student ms":>16} {"ratio":>7}']
    ops = sorted(set(table['teacher']) | set(table['student']),
                 key=lambda o: -table['teacher'].get(o, 0))
    for op in ops:
        t, s_ = table['teacher'].get(op, 0.0), table['student'].get(op, 0.0)
        lines.append(f'{op:<24} {t:>9.2f} ({100 * t / total["teacher"]:>3.0f}%) '
                     f'{s_:>9.2f} ({100 * s_ / total["student"]:>3.0f}%) '
                     f'{t / s_ if s_ else float("nan"):>6.2f}x')
    lines.append(f'{"all operators":<24} {total["teacher"]:>16.2f} {total["student"]:>16.2f} '
                 f'{total["teacher"] / total["student"]:>6.2f}x')
    return '\n'.join(lines)


def network_profiles(graphs: Dict[str, Dict[str, nn.Module]], files: dict, x: torch.Tensor,
                     threads: int, warmup: int, repeats: int, log=print) -> dict:
    """Where each network's time goes, printed and returned.

    ONNX Runtime per operator type (first graph); OpenVINO per operator type and per
    convolution layer, with its multiply-adds per second (every graph).

    Args:
        graphs (dict): ``{graph: {'teacher': net, 'student': net}}``.
        files (dict): ``files[graph][net][runtime]``, the exported files
            (:func:`~reko_mm.deployment.latency.compare_latency` writes them).
        x (Tensor): the input.
        threads (int): threads.
        warmup (int): untimed runs.
        repeats (int): runs averaged.
        log (callable): where the tables go.

    Returns:
        dict: ``onnxruntime`` and ``openvino`` tables.
    """
    from .runtimes import runtime_available
    out = {}
    first = next(iter(graphs))  # 'plain' unless only the rewritten graph is timed
    out['onnxruntime'] = profile_ort({n: files[first][n]['onnxruntime'] for n in graphs[first]},
                                     x, threads, repeats)
    log(op_table_text(f'ONNX Runtime ({first} graph)', out['onnxruntime'], threads))
    out['openvino'] = {}
    if runtime_available('openvino'):
        return out
    for graph, graph_nets in graphs.items():
        nodes = {n: profile_openvino(files[graph][n]['openvino'], x, threads, warmup, repeats)
                 for n in graph_nets}
        per_type = {n: {} for n in nodes}
        for n, ns in nodes.items():
            for node in ns:
                per_type[n][node['type']] = per_type[n].get(node['type'], 0.0) + node['ms']
        log(op_table_text(f'OpenVINO ({graph} graph)', per_type, threads))
        layers = openvino_layer_table(nodes, {n: conv_layers(m, x)
                                              for n, m in graph_nets.items()})
        out['openvino'][graph] = dict(per_type=per_type, conv_layers=layers)
        if layers is None:
            log("(the two networks' convolution nodes do not pair up: no per-layer table)")
            continue
        log(f'OpenVINO per convolution layer ({graph} graph): ms per run and '
            'multiply-adds per second (G/s)')
        log(f'{"layer":<34} {"kernel":<22} {"teacher ms":>10} {"G/s":>6} {"student ms":>10} '
            f'{"G/s":>6} {"ratio":>6} {"MAC ratio":>9}')
        for r in layers:
            log(f'{r["layer"][-34:]:<34} {r["exec_type"][:22]:<22} {r["teacher_ms"]:>10.2f} '
                f'{r["teacher_gmacs"]:>6.0f} {r["student_ms"]:>10.2f} {r["student_gmacs"]:>6.0f} '
                f'{r["teacher_ms"] / max(r["student_ms"], 1e-9):>5.2f}x '
                f'{r["mac_ratio"]:>8.2f}x')
    return out
