"""CPU runtimes for an exported generator: ONNX Runtime (default and tuned session options),
OpenVINO, TorchScript, ``torch.compile`` and int8 (static QDQ quantisation of the ONNX graph,
run by ONNX Runtime or OpenVINO).

Every runtime here is exact in fp32 (OpenVINO is pinned to f32: on CPUs with bf16 units its
default precision would be bf16). Only the ``*-int8`` runtimes and ``openvino-bf16`` (OpenVINO
computing in bfloat16, on CPUs that have bf16 units) change the numbers; check them on a metric
(``tools/test.py --exported``), not only on a pixel difference.
"""
import os.path as osp
from typing import Callable, Iterable, Optional

import numpy as np
import torch
import torch.nn as nn

FILE_RUNTIMES = ('onnxruntime', 'onnxruntime-tuned', 'openvino', 'onnxruntime-int8',
                 'openvino-int8', 'openvino-bf16')
# How far an fp32 runtime's output may be from PyTorch's: half an 8-bit grey level of the
# generators' [-1, 1] output (2 / 255 / 2). fp32 runtimes sum in other orders than PyTorch
# (convolution algorithms, InstanceNorm's mean and variance), and the difference grows with
# depth and where a norm divides by a small spread; within this bound every exported pixel,
# saved as an 8-bit image, is PyTorch's level or the next. A wrong graph (padding, channel
# order, a missing layer) is off by far more. docs/deployment.md, "How each export is checked".
TOLERANCE = 1 / 255
# runtimes whose output is not fp32-exact: judged on a metric, not by a tolerance
REDUCED_PRECISION = ('onnxruntime-int8', 'openvino-int8', 'openvino-bf16')
RUNTIMES = ('pytorch', 'torchscript', 'torch-compile') + FILE_RUNTIMES
# the exported format each file runtime runs, and what runs each format (exact runtimes first)
RUNTIME_FORMATS = {'onnxruntime': 'onnx', 'onnxruntime-tuned': 'onnx', 'openvino': 'openvino',
                   'openvino-bf16': 'openvino', 'onnxruntime-int8': 'onnx-int8',
                   'openvino-int8': 'onnx-int8', 'torchscript': 'torchscript'}
FORMAT_RUNTIMES = {'onnx': ['onnxruntime', 'onnxruntime-tuned'], 'torchscript': ['torchscript'],
                   'openvino': ['openvino'], 'onnx-int8': ['onnxruntime-int8', 'openvino-int8']}


def runtime_available(runtime: str) -> Optional[str]:
    """None when ``runtime`` can run here, else why not (with the fix)."""
    if runtime not in RUNTIMES:
        return f'unknown runtime {runtime!r}; choose from {", ".join(RUNTIMES)}'
    if runtime.startswith('openvino'):
        try:
            import openvino  # noqa: F401
        except ImportError:
            return 'openvino is not installed (pip install -r requirements/evaluation.txt)'
    if runtime == 'openvino-bf16':
        import openvino as ov
        caps = ov.Core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES')
        if 'BF16' not in caps:
            # OpenVINO would ignore the bf16 hint there and run f32: refuse, not mislabel
            return (f'this CPU has no bf16 units (OpenVINO CPU capabilities: {", ".join(caps)});'
                    ' use openvino (f32) or openvino-int8')
    if runtime.startswith('onnxruntime'):
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return 'onnxruntime is not installed (pip install -r requirements/evaluation.txt)'
    if runtime == 'torch-compile':
        import shutil
        if not (shutil.which('g++') or shutil.which('c++') or shutil.which('clang++')):
            return 'torch.compile on CPU needs a C++ compiler (g++), none found on PATH'
    return None


def ort_session(path: str, threads: int = 0, tuned: bool = False,
                profile_prefix: Optional[str] = None):
    """An ONNX Runtime CPU session with all graph optimisations.

    Args:
        path (str): the ``.onnx`` file.
        threads (int): intra-op threads (0: ONNX Runtime's default).
        tuned (bool): what ORT's performance guide suggests for one request at a time: sequential
            execution, one inter-op thread, spinning intra-op threads, denormals flushed to zero.
        profile_prefix (str, optional): write ORT's per-node profile there
            (``session.end_profiling()`` returns its file).

    Returns:
        onnxruntime.InferenceSession
    """
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        opts.intra_op_num_threads = threads
    if profile_prefix:
        opts.enable_profiling = True
        opts.profile_file_prefix = profile_prefix
    if tuned:
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.inter_op_num_threads = 1
        opts.add_session_config_entry('session.intra_op.allow_spinning', '1')
        opts.add_session_config_entry('session.set_denormal_as_zero', '1')
    return ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])


def openvino_compiled(path: str, threads: int = 0, extra: Optional[dict] = None,
                      precision: str = 'f32'):
    """An OpenVINO CPU model (ONNX or IR ``.xml``) compiled for latency.

    Args:
        path (str): the model file.
        threads (int): inference threads (0: OpenVINO's default).
        extra (dict, optional): more properties, e.g. ``{'PERF_COUNT': True}``.
        precision (str): ``'f32'`` (exact; OpenVINO would pick bf16 on CPUs with bf16 units), or
            ``'bf16'``.

    Returns:
        openvino.CompiledModel
    """
    import openvino as ov
    config = {'PERFORMANCE_HINT': 'LATENCY', 'INFERENCE_PRECISION_HINT': precision}
    if threads:
        config['INFERENCE_NUM_THREADS'] = threads
    config.update(extra or {})
    return ov.Core().compile_model(path, 'CPU', config)


def save_openvino_ir(onnx_path: str, xml_path: str) -> str:
    """Convert an ONNX generator to OpenVINO IR (``.xml`` + ``.bin``), weights kept in fp32."""
    import openvino as ov
    ov.save_model(ov.convert_model(onnx_path), xml_path, compress_to_fp16=False)
    return xml_path


def quantize_int8(onnx_path: str, out_path: str, calibration: Iterable[torch.Tensor]) -> str:
    """Static int8 quantisation of an ONNX generator's convolutions (QDQ,
    per-channel int8 weights, uint8 activations, min-max ranges).

    Args:
        onnx_path (str): the fp32 ONNX generator.
        out_path (str): the int8 ``.onnx`` to write.
        calibration: ``(N, C, H, W)`` tensors whose images set the ranges.

    Returns:
        str: ``out_path``. Nothing is left in the working directory.
    """
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)
    batches = [x.detach().cpu().numpy() for x in calibration]
    if not batches:
        raise ValueError('int8 quantisation needs calibration images; none were given')

    class Reader(CalibrationDataReader):

        def __init__(self):
            self._it = iter([{'input': b[i:i + 1]} for b in batches for i in range(len(b))])

        def get_next(self):
            return next(self._it, None)

    import logging
    import os
    import tempfile

    from onnxruntime.quantization.shape_inference import quant_pre_process
    onnx_path, out_path = osp.abspath(onnx_path), osp.abspath(out_path)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser warns about every normalisation constant
    cwd = os.getcwd()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # ONNX Runtime's symbolic shape inference, where it fails, leaves
            # 'sym_shape_infer_temp.onnx' and a '<uuid>.data' in the working directory (two
            # such files were once committed here): work inside tmp.
            os.chdir(tmp)
            pre = osp.join(tmp, 'pre.onnx')
            # ONNX shape inference + graph optimisation (the symbolic one fails on UNets)
            quant_pre_process(onnx_path, pre, skip_symbolic_shape=True)
            # convolutions only: the normalisations and activations stay in float
            quantize_static(pre, out_path, Reader(), quant_format=QuantFormat.QDQ,
                            per_channel=True, weight_type=QuantType.QInt8,
                            activation_type=QuantType.QUInt8,
                            calibrate_method=CalibrationMethod.MinMax,
                            op_types_to_quantize=['Conv', 'ConvTranspose'])
            os.chdir(cwd)
    finally:
        os.chdir(cwd)
        root.setLevel(level)
    return out_path


def file_runner(path: str, runtime: str, threads: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    """A function running an exported file.

    Args:
        path (str): the file (``.onnx``, ``.xml``, ``.pt``).
        runtime (str): one of :data:`FILE_RUNTIMES` or ``'torchscript'``.
        threads (int): threads (0: the runtime's default).

    Returns:
        callable: ``fn(x) -> y``, numpy NCHW in and out.
    """
    if runtime.startswith('onnxruntime'):
        session = ort_session(path, threads, tuned=runtime == 'onnxruntime-tuned')
        name = session.get_inputs()[0].name
        return lambda x: session.run(None, {name: x})[0]
    if runtime.startswith('openvino'):
        compiled = openvino_compiled(path, threads,
                                     precision='bf16' if runtime == 'openvino-bf16' else 'f32')
        request = compiled.create_infer_request()
        out = compiled.outputs[0]

        def run(x):
            return request.infer({0: x})[out]
        return run
    if runtime == 'torchscript':
        module = torch.jit.load(path, map_location='cpu')

        def run_ts(x):
            with torch.no_grad():
                return module(torch.from_numpy(x)).numpy()
        return run_ts
    raise ValueError(f'{runtime!r} does not run files; file runtimes: {FILE_RUNTIMES}')


def runtime_for_file(path: str) -> str:
    """The runtime that runs an exported file by default, from its suffix
    (``.onnx``: ONNX Runtime, ``.xml``: OpenVINO, ``.pt``: TorchScript).
    """
    ext = osp.splitext(path)[1].lower()
    runtimes = {'.onnx': 'onnxruntime', '.xml': 'openvino', '.pt': 'torchscript'}
    if ext not in runtimes:
        raise ValueError(f'{path}: unknown exported format {ext!r}; expected .onnx (ONNX '
                         'Runtime), .xml (OpenVINO IR) or .pt (TorchScript)')
    return runtimes[ext]


class ExportedGenerator(nn.Module):
    """An exported generator file run by a CPU runtime, usable where MMagic calls a generator
    (inference only). ``runtime`` defaults to the one of the file's format."""

    def __init__(self, path: str, runtime: Optional[str] = None, threads: int = 0):
        super().__init__()
        if not osp.isfile(path):
            raise FileNotFoundError(f'exported generator not found: {osp.abspath(path)}')
        self.path = path
        self.runtime = runtime or runtime_for_file(path)
        problem = runtime_available(self.runtime)
        if problem:
            raise RuntimeError(problem)
        self._run = file_runner(path, self.runtime, threads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._run(np.ascontiguousarray(x.detach().cpu().float().numpy()))
        return torch.from_numpy(np.asarray(y)).to(x.device)
