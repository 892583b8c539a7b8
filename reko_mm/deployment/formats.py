"""The exported forms of a generator, written from one network: ONNX, a frozen TorchScript
trace, OpenVINO IR converted from the ONNX file, and int8 ONNX quantised from it (one chain,
:func:`write_formats`). ``export_student`` and the latency comparison both write them here."""
import os.path as osp
from typing import Callable, Dict, Optional

import numpy as np
import torch
import torch.nn as nn


def export_onnx(generator: nn.Module, example: torch.Tensor, path: str, opset: int = 17,
                dynamic: bool = True) -> str:
    """Export a generator to ONNX with the TorchScript-based exporter and check the file.

    Args:
        generator (nn.Module): the network, in eval mode.
        example (Tensor): an input it takes.
        path (str): the ``.onnx`` to write.
        opset (int): the ONNX opset.
        dynamic (bool): batch, height and width dynamic.

    Returns:
        str: ``path``.

    Raises:
        RuntimeError: an operator has no ONNX form at ``opset`` (it is named).
    """
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    try:
        torch.onnx.export(generator, (example,), path, dynamo=False, opset_version=opset,
                          input_names=['input'], output_names=['output'],
                          dynamic_axes=dict(input=axes, output=axes) if dynamic else None)
    except torch.onnx.errors.UnsupportedOperatorError as err:
        raise RuntimeError(f'ONNX export failed at opset {opset}: {err}. Try another '
                           '--opset, or replace the operator in the generator.') from err
    import onnx
    onnx.checker.check_model(onnx.load(path))
    return path


def freeze_torchscript(generator: nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    """Trace and freeze. Freezing inlines the submodules, which also drops mmcv's ``in``
    attribute names (InstanceNorm in ``ConvModule``) that ``torch.jit.load`` cannot parse."""
    with torch.no_grad():
        return torch.jit.freeze(torch.jit.trace(generator, example).eval())


def export_torchscript(generator: nn.Module, example: torch.Tensor, path: str) -> str:
    """Write a frozen TorchScript trace of ``generator`` to ``path``; return
    ``path``.
    """
    freeze_torchscript(generator, example).save(path)
    return path


def max_abs_diff(a, b) -> float:
    """The largest absolute difference of two arrays or tensors, in float64."""
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


FORMATS = {'onnx': '.onnx', 'torchscript': '.pt', 'openvino': '.xml',
           'onnx-int8': '_int8.onnx'}


def write_formats(generator: nn.Module, example: torch.Tensor, stem: str, formats, opset: int = 17,
                  dynamic: bool = True, calibration: Optional[Callable[[], list]] = None,
                  scratch: Optional[str] = None) -> Dict[str, str]:
    """Write ``generator`` in each of ``formats`` (the one ONNX -> IR -> int8 chain).

    ONNX is written first and the forms made from it follow (OpenVINO IR, int8 ONNX), then
    TorchScript.

    Args:
        generator (nn.Module): the network, in eval mode.
        example (Tensor): an input it takes (its shape is the export's when not dynamic).
        stem (str): the output path without suffix; each format adds its own (:data:`FORMATS`).
        formats: any of :data:`FORMATS`.
        opset (int): the ONNX opset.
        dynamic (bool): batch, height and width dynamic in ONNX.
        calibration (callable, optional): returns the images int8 is calibrated on.
        scratch (str, optional): where the ONNX graph of a derived form goes when ONNX itself is
            not asked for.

    Returns:
        dict: ``{format: path}``.
    """
    from .runtimes import quantize_int8, save_openvino_ir
    formats = list(formats)
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f'unknown formats {sorted(unknown)}; choose from {", ".join(FORMATS)}')
    files = {}
    if {'onnx', 'openvino', 'onnx-int8'} & set(formats):
        onnx_path = stem + '.onnx' if 'onnx' in formats or scratch is None else \
            osp.join(scratch, osp.basename(stem) + '.onnx')
        export_onnx(generator, example, onnx_path, opset, dynamic=dynamic)
        if 'onnx' in formats:
            files['onnx'] = onnx_path
        if 'openvino' in formats:
            files['openvino'] = save_openvino_ir(onnx_path, stem + FORMATS['openvino'])
        if 'onnx-int8' in formats:
            if calibration is None:
                raise ValueError('onnx-int8 needs calibration images')
            files['onnx-int8'] = quantize_int8(onnx_path, stem + FORMATS['onnx-int8'],
                                               calibration())
    if 'torchscript' in formats:
        files['torchscript'] = export_torchscript(generator, example,
                                                  stem + FORMATS['torchscript'])
    return {f: files[f] for f in formats}
