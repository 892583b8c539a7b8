"""Each fix in reko_mm.compat, exercised where the upstream code fails without it."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from conftest import FAST, ROOT, data_options, run_tool, train

CYCLEGAN = 'configs/reko/synthetic/cyclegan_synthetic_teacher.py'
TINY = ['model.generator.base_channels=8', 'model.discriminator.base_channels=8']


def test_generation_init_weights_with_instance_norm():
    """(a) MMagic's init raised UnboundLocalError on InstanceNorm under mmengine 0.10."""
    import reko_mm  # noqa: F401
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    model = MODELS.build(dict(
        type='CycleGAN', data_preprocessor=dict(type='DataPreprocessor'),
        generator=gen_cfg(), discriminator=None, default_domain='b',
        reachable_domains=['a', 'b'], related_domains=['a', 'b']))
    model.init_weights()  # the path the Runner takes (sets _params_init_info on modules)
    w = model.generators['a'].model[0].conv.weight
    # normal(0, 0.02) init actually ran (PyTorch's default would be kaiming-uniform)
    assert abs(w.std().item() - 0.02) < 0.005


def gen_cfg():
    return dict(type='ResnetGenerator', in_channels=3, out_channels=3, base_channels=8,
                norm_cfg=dict(type='IN'), num_blocks=2, init_cfg=dict(type='normal', gain=0.02))


def test_checkpoints_load_with_weights_only_and_nothing_more(tmp_path, synthetic_reko_ckpts):
    """(b) the one checkpoint reader: mmengine's objects load, for that read only; a pickle
    that would run code is refused naming the file and the global; mmengine's own loaders are
    the safe reader once reko_mm is imported."""
    import pickle

    import numpy as np
    import reko_mm  # noqa: F401
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import CheckpointLoader
    from reko_mm.utils import UnsafeCheckpointError, safe_torch_load
    buf = HistoryBuffer()
    buf.update(1.0)
    buf.update(2.0)
    ckpt = {'message_hub': {'log_scalars': {'loss': buf}},
            'meta': {'seed': np.int64(3), 'arr': np.arange(3), 'dtype': np.dtype('float32')},
            'state_dict': {}}
    path = tmp_path / 'c.pth'
    torch.save(ckpt, path)
    loaded = safe_torch_load(str(path))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 2.0
    assert loaded['meta']['arr'].tolist() == [0, 1, 2]
    with pytest.raises(pickle.UnpicklingError):  # the allowance is for that read only
        torch.load(path, weights_only=True)
    assert CheckpointLoader.load_checkpoint(str(path))['meta']['seed'] == 3

    class Evil:
        def __reduce__(self):
            return (os.system, ('true',))
    torch.save({'x': Evil()}, tmp_path / 'evil.pth')
    for load in (safe_torch_load, CheckpointLoader.load_checkpoint):
        with pytest.raises(UnsafeCheckpointError, match=r"evil\.pth refused: .*system"):
            load(str(tmp_path / 'evil.pth'))

    # a real training checkpoint loads, and needs getattr (HistoryBuffer's methods)
    from reko_mm.utils.safe_load import mmengine_globals
    teacher = synthetic_reko_ckpts[0]
    assert safe_torch_load(teacher)['message_hub']['log_scalars']
    with torch.serialization.safe_globals([g for g in mmengine_globals() if g is not getattr]):
        with pytest.raises(pickle.UnpicklingError, match='getattr'):
            torch.load(teacher, weights_only=True)


def test_resume_continues_from_saved_iteration(tmp_path, synthetic_unpaired):
    """(b) end to end: --resume restores the iteration and the optimizer state."""
    opts = data_options(synthetic_unpaired) + TINY
    train(CYCLEGAN, tmp_path, opts + ['train_cfg.max_iters=2'])
    first = torch.load(tmp_path / 'iter_2.pth', map_location='cpu', weights_only=False)
    args = ['tools/train.py', CYCLEGAN, '--work-dir', str(tmp_path), '--resume',
            '--cfg-options'] + FAST + opts + ['train_cfg.max_iters=4']
    out = run_tool(args)
    assert 'resumed epoch: 0, iter: 2' in out.stdout, out.stdout[-3000:]
    resumed = torch.load(tmp_path / 'iter_4.pth', map_location='cpu', weights_only=False)
    assert resumed['meta']['iter'] == 4

    def adam_step(ckpt):
        return float(next(iter(ckpt['optimizer']['generators']['state'].values()))['step'])
    # Adam's step counters continued from the saved state: 2 steps, then 2 more
    assert adam_step(first) == 2 and adam_step(resumed) == 4


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_gloo_run(tmp_path, synthetic_unpaired):
    """(c) mmengine's pytorch launcher on CPU: no cuda.set_device, no device_ids."""
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
           f'--master_port={_free_port()}', 'tools/train.py', CYCLEGAN, '--work-dir',
           str(tmp_path), '--launcher', 'pytorch', '--cfg-options'] + FAST + \
        data_options(synthetic_unpaired) + TINY + ['train_cfg.max_iters=2'] + \
        ['model_wrapper_cfg.type=MMSeparateDistributedDataParallel']  # the path with device_ids
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    proc = subprocess.run(cmd, cwd=ROOT, env=env, timeout=900, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert osp.exists(tmp_path / 'iter_2.pth')
    assert 'Distributed training: True' in proc.stdout


def test_pix2pix_test_step_on_a_batch():
    from mmagic.models.editors.pix2pix import Pix2Pix
    from test_teacher_student import MODELS, batch, pix2pix_cfg
    model = MODELS.build(pix2pix_cfg(8)).eval()
    data = batch(('photo', 'mask'), n=2, size=32)
    with pytest.raises(TypeError, match='not subscriptable'):
        Pix2Pix.test_step._reko_original(model, data)  # MMagic 1.2.0 as shipped
    with torch.no_grad():
        out = model.test_step(data)
    assert len(out) == 2 and out[0].fake_photo.shape == (3, 32, 32)
