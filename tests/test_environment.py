"""The environment that tools/setup_env.sh builds imports the whole stack we rely on."""
import importlib
import os
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.parametrize('module', [
    'mmcv.ops', 'mmagic.models', 'mmagic.datasets', 'mmagic.evaluation', 'mmagic.engine',
    'mmagic.visualization'])
def test_stack_imports(module):
    importlib.import_module(module)


def test_mmcv_is_full_with_compiled_ops():
    import mmcv
    import torch
    from mmcv.ops import nms
    assert mmcv.__version__ == '2.1.0'
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    _, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]  # runs the compiled C++ kernel


def test_reko_registers_into_mmagic_scope():
    import reko_mm  # noqa: F401
    from mmagic.registry import MODELS, TASK_UTILS
    for name in ('RegionAwareDistillLoss', 'TeacherStudentGAN', 'TeacherStudentCycleGAN',
                 'TeacherStudentPix2Pix'):
        assert MODELS.get(name) is not None, name
    assert TASK_UTILS.get('ModuleOutputRecorder') is not None


def test_keep_torch_without_torch_is_refused(tmp_path):
    """REKO_TORCH=keep in a venv that has no torch stops with the fix, and installs nothing."""
    venv = tmp_path / 'venv'
    env = dict(os.environ, REKO_VENV=str(venv), REKO_TORCH='keep',
               REKO_PYTHON=sys.executable, REKO_CACHE=str(tmp_path / 'cache'))
    env.pop('REKO_SYSTEM_SITE_PACKAGES', None)
    proc = subprocess.run(['bash', 'tools/setup_env.sh'], cwd=ROOT, env=env, timeout=600,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert (f'REKO_TORCH=keep: torch and torchvision do not import in {venv} (create it with '
            'REKO_SYSTEM_SITE_PACKAGES=1') in proc.stdout
    assert not list(venv.glob('lib/python*/site-packages/torch'))
    assert not (tmp_path / 'cache').exists()
