"""Preloaded by tool_runner's server before ``mmcv.ops``: where mmcv is mmcv-lite, registers
reko_mm.compat's stand-in for mmcv's compiled ops without importing reko_mm (reko_mm/__init__
registers every component), so a forked tool still starts with no reko_mm imported."""
import importlib.util
import os.path as osp

_spec = importlib.util.spec_from_file_location(
    '_reko_mm_compat', osp.join(osp.dirname(__file__), '..', 'reko_mm', 'compat.py'))
_compat = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_compat)
_compat.stand_in_mmcv_ops()
