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
    import reko_mm  # noqa: F401  (first, as every tool does: it stands in for mmcv-lite's ops)
    importlib.import_module(module)


def mmcv_is_full():
    import mmcv
    import reko_mm  # noqa: F401
    return not getattr(mmcv._ext, '__reko_stand_in__', False)


def test_mmcv_lite_ops_raise_naming_the_op_and_the_fix():
    """With mmcv-lite (the default setup) a compiled op raises when called, naming the op and
    how to get mmcv's ops; what MMagic's models use (mmcv.cnn) runs."""
    import mmcv
    import torch
    from mmcv.cnn import ConvModule
    from mmcv.ops import nms
    from reko_mm.compat import MissingCompiledOpError
    assert mmcv.__version__ == '2.1.0'
    if mmcv_is_full():
        pytest.skip('this environment has mmcv full (REKO_MMCV=full): test_mmcv_full_ops_run')
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
    with pytest.raises(MissingCompiledOpError) as e:
        nms(boxes, torch.tensor([0.9, 0.8]), iou_threshold=0.5)
    assert "mmcv op 'nms' needs mmcv's compiled ops" in str(e.value)
    assert 'REKO_MMCV=full make setup' in str(e.value)
    conv = ConvModule(3, 4, 3, padding=1, norm_cfg=dict(type='IN'))
    assert conv(torch.rand(1, 3, 8, 8)).shape == (1, 4, 8, 8)
    from mmcv.utils import collect_env  # the environment report still prints
    assert collect_env()['MMCV Compiler'] == 'n/a (mmcv-lite: no compiled ops)'
    from mmengine.utils.dl_utils import mmcv_full_available  # mmengine skips mmcv.ops
    assert not mmcv_full_available()


def test_mmcv_full_ops_run():
    """With ``REKO_MMCV=full make setup`` mmcv's compiled ops are the real ones."""
    import torch
    from mmcv.ops import nms
    if not mmcv_is_full():
        pytest.skip('mmcv-lite (the default setup); `REKO_MMCV=full make setup` builds the ops')
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
