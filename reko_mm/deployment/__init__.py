"""Student export (plain checkpoint, ONNX, TorchScript, OpenVINO IR, int8 ONNX), the CPU
runtimes that run the exported generators, an exact rewrite that speeds them up, and profiles."""
from .export import (export_onnx, export_student, export_torchscript, freeze_torchscript,
                     generator_domains, load_cfg, load_student, max_abs_diff, onnx_outputs,
                     real_inputs, save_plain_checkpoint, torchscript_outputs)
from .runtimes import (FILE_RUNTIMES, REDUCED_PRECISION, RUNTIMES, ExportedGenerator,
                       file_runner, openvino_compiled, ort_session, quantize_int8,
                       runtime_available, runtime_for_file, save_openvino_ir)
from .rewrite import RowSplitConv2d, split_narrow_convs

__all__ = [
    'export_onnx', 'export_student', 'export_torchscript', 'freeze_torchscript',
    'generator_domains', 'load_cfg', 'load_student', 'max_abs_diff', 'onnx_outputs',
    'real_inputs', 'save_plain_checkpoint', 'torchscript_outputs', 'FILE_RUNTIMES',
    'REDUCED_PRECISION', 'RUNTIMES', 'ExportedGenerator', 'file_runner', 'openvino_compiled',
    'ort_session', 'quantize_int8', 'runtime_available', 'runtime_for_file', 'save_openvino_ir',
    'RowSplitConv2d', 'split_narrow_convs'
]
