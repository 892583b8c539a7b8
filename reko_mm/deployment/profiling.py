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
    """ONNX Runtime's per-node profile of each network, summed per operator type (ms per run)."""
    import onnxruntime as ort
    table = {}
    for name, path in paths.items():
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads
        opts.enable_profiling = True
        opts.profile_file_prefix = osp.join(osp.dirname(path), f'profile_{name}')
        session = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
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
    """OpenVINO's performance counters of one network, in execution order: node name, type,
    the kernel it ran (``exec_type``, e.g. ``brgconv_avx512_f32``) and ms per run."""
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
