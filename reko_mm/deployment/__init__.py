"""Student export (plain checkpoint, ONNX, TorchScript, OpenVINO IR, int8 ONNX), the CPU
runtimes that run the exported generators, their timing (one runner per runtime, one timer),
an exact rewrite that speeds them up, and profiles."""
from .export import (export_student, generator_domains, load_student, plan_export,
                     real_inputs, save_plain_checkpoint, verify_formats)
from .formats import (FORMATS, export_onnx, export_torchscript, freeze_torchscript,
                      max_abs_diff, write_formats)
from .latency import (compare_latency, make_runner, median_times, select_fastest,
                      write_fastest)
from .runtimes import (FILE_RUNTIMES, FORMAT_RUNTIMES, REDUCED_PRECISION, RUNTIME_FORMATS,
                       RUNTIMES, TOLERANCE, ExportedGenerator, file_runner, openvino_compiled,
                       ort_session, quantize_int8, runtime_available, runtime_for_file,
                       save_openvino_ir)
from .rewrite import RowSplitConv2d, split_narrow_convs

__all__ = [
    'FORMATS', 'export_onnx', 'export_student', 'export_torchscript', 'freeze_torchscript',
    'generator_domains', 'load_student', 'max_abs_diff', 'plan_export',
    'real_inputs', 'save_plain_checkpoint', 'verify_formats', 'write_formats',
    'compare_latency', 'make_runner', 'median_times', 'select_fastest', 'write_fastest',
    'FILE_RUNTIMES',
    'FORMAT_RUNTIMES', 'REDUCED_PRECISION', 'RUNTIME_FORMATS', 'RUNTIMES', 'TOLERANCE',
    'ExportedGenerator',
    'file_runner', 'openvino_compiled', 'ort_session', 'quantize_int8', 'runtime_available',
    'runtime_for_file', 'save_openvino_ir', 'RowSplitConv2d', 'split_narrow_convs'
]
