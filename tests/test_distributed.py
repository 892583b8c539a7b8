"""Multi-process training on CPU (gloo, 2 ranks): gradients really are averaged."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from conftest import FAST, ROOT, data_options

TESTS = osp.dirname(osp.abspath(__file__))
TINY = ['model.generator.base_channels=8', 'model.discriminator.base_channels=8']
SYNC = ['model_wrapper_cfg.type=SeparateGradSyncDataParallel']
STOCK = ['model_wrapper_cfg.type=MMSeparateDistributedDataParallel']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def dist_train(config, work_dir, options, nproc=2, check=True, extra_args=()):
    """bash tools/dist_train.sh with a wrapper config that dumps every rank's parameters."""
    work_dir = str(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    wrapper = osp.join(work_dir, 'dist_cfg.py')
    with open(wrapper, 'w') as f:
        f.write(f"_base_ = '{osp.join(ROOT, config)}'\n"
                "custom_imports = dict(imports=['reko_mm', 'dist_helpers'], "
                "allow_failed_imports=False)\n"
                f"custom_hooks = [dict(type='DumpRankParamsHook', out_dir='{work_dir}/ranks')]\n")
    env = dict(os.environ, PORT=str(free_port()), PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PYTHONPATH=TESTS + os.pathsep + os.environ.get('PYTHONPATH', ''))
    proc = subprocess.run(['bash', 'tools/dist_train.sh', wrapper, str(nproc), '--work-dir',
                           work_dir] + list(extra_args) + ['--cfg-options'] + FAST +
                          list(options), cwd=ROOT, env=env, timeout=900,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check:
        assert proc.returncode == 0, proc.stdout[-6000:]
    return proc


def rank_difference(work_dir):
    r0 = torch.load(osp.join(work_dir, 'ranks', 'rank0.pth'), weights_only=False)
    r1 = torch.load(osp.join(work_dir, 'ranks', 'rank1.pth'), weights_only=False)
    assert r0.keys() == r1.keys()
    params = [k for k in r0 if r0[k].is_floating_point() and 'running_' not in k]
    diffs = {k: (r0[k] - r1[k]).abs().max().item() for k in params}
    return max(diffs.values()), sum(d > 0 for d in diffs.values()), len(params)


CYCLEGAN = 'configs/reko/synthetic/cyclegan_synthetic_teacher.py'


def test_stock_wrapper_leaves_ranks_different(tmp_path, synthetic_unpaired):
    """Without the fix (MMagic's MMSeparateDistributedDataParallel) every rank drifts."""
    dist_train(CYCLEGAN, tmp_path, data_options(synthetic_unpaired) + TINY + STOCK +
               ['train_cfg.max_iters=3'])
    worst, n_diff, n = rank_difference(tmp_path)
    assert worst > 0 and n_diff > n // 2, (worst, n_diff, n)


@pytest.fixture(scope='module')
def tiny_teacher(synthetic_unpaired, tmp_path_factory):
    """A CycleGAN teacher of one iteration for the distilled cases."""
    from conftest import train
    work = tmp_path_factory.mktemp('teacher')
    train(CYCLEGAN, work, data_options(synthetic_unpaired) + TINY + ['train_cfg.max_iters=1'])
    return str(work / 'iter_1.pth')


@pytest.mark.parametrize('case', ['cyclegan', 'pix2pix', 'pix2pixhd', 'reko_cyclegan',
                                  'vid_cyclegan'])
def test_ranks_identical_with_grad_sync(case, tmp_path, request):
    """After 3 steps on 2 ranks every parameter is the same on both, including the learnable
    distillation parts (VID's regressors and variances) that train with the generators."""
    if case == 'pix2pix':
        config, data, extra = ('configs/reko/synthetic/pix2pix_synthetic_teacher.py',
                               'synthetic_paired', TINY)
    elif case == 'pix2pixhd':
        config, data, extra = ('configs/reko/synthetic/pix2pixhd_synthetic_teacher.py',
                               'synthetic_paired', ['model.generator.base_channels=4',
                                                    'model.discriminator.base_channels=4'])
    else:
        config, data, extra = CYCLEGAN, 'synthetic_unpaired', TINY
    root = request.getfixturevalue(data)
    if case in ('reko_cyclegan', 'vid_cyclegan'):
        config = 'configs/reko/synthetic/cyclegan_synthetic_7x.py' if case == 'reko_cyclegan' \
            else 'configs/reko/synthetic/cyclegan_synthetic_7x_vid.py'
        extra = ['model.generator.base_channels=4', 'model.discriminator.base_channels=8',
                 'model.teacher.generator.base_channels=8',
                 f"model.teacher.ckpt={request.getfixturevalue('tiny_teacher')}"]
    out = dist_train(config, tmp_path, data_options(root) + extra + SYNC +
                     ['train_cfg.max_iters=3'])
    worst, n_diff, n = rank_difference(tmp_path)
    assert worst == 0.0, f'{n_diff}/{n} tensors differ, max {worst}'
    if case == 'reko_cyclegan':
        assert 'loss_reko_flat' in out.stdout
    if case == 'vid_cyclegan':
        import math
        assert 'loss_vid_flat' in out.stdout
        r0 = torch.load(osp.join(tmp_path, 'ranks', 'rank0.pth'), weights_only=False)
        scales = [k for k in r0 if k.startswith('distill.') and k.endswith('log_scale')]
        connectors = [k for k in r0 if k.startswith('distill.') and '.connector.' in k]
        assert scales and connectors  # compared across ranks above, and trained:
        init = math.log(math.exp(5.0 - 1e-5) - 1.0)
        assert all((r0[k] - init).abs().max() > 0 for k in scales)


def test_configs_select_the_grad_sync_wrapper():
    from mmengine.config import Config
    for name in ('cyclegan_horse2zebra_7x', 'pix2pix_facades_4x',
                 'synthetic/cyclegan_synthetic_7x'):
        cfg = Config.fromfile(osp.join(ROOT, 'configs', 'reko', name + '.py'))
        assert cfg.model_wrapper_cfg.type == 'SeparateGradSyncDataParallel'


def test_checkpoints_move_between_ddp_and_single_process(tmp_path, synthetic_unpaired):
    from conftest import run_tool, train
    opts = data_options(synthetic_unpaired) + TINY
    # written under DDP, resumed by one process
    dist_train(CYCLEGAN, tmp_path / 'a', opts + SYNC + ['train_cfg.max_iters=2'])
    out = run_tool(['tools/train.py', CYCLEGAN, '--work-dir', str(tmp_path / 'a'), '--resume',
                    '--cfg-options'] + FAST + opts + ['train_cfg.max_iters=3'])
    assert 'resumed epoch: 0, iter: 2' in out.stdout
    assert osp.exists(tmp_path / 'a' / 'iter_3.pth')
    # written by one process, resumed under DDP
    train(CYCLEGAN, tmp_path / 'b', opts + ['train_cfg.max_iters=2'])
    out = dist_train(CYCLEGAN, tmp_path / 'b', opts + SYNC + ['train_cfg.max_iters=3', ],
                     extra_args=['--resume'])
    assert 'resumed epoch: 0, iter: 2' in out.stdout
    assert rank_difference(tmp_path / 'b')[0] == 0.0


def test_two_ranks_equal_one_process_with_double_batch(tmp_path):
    """One step on 2 ranks x batch 2 == one step of one process with batch 4 (IN, no buffer)."""
    import torch.multiprocessing as mp

    sys.path.insert(0, TESTS)
    import equivalence
    from dist_helpers import one_step_worker
    import reko_mm  # noqa: F401
    batch = equivalence.make_batch(4)
    single = equivalence.build_model()
    equivalence.step(single, batch, equivalence.optims(single))
    out = str(tmp_path / 'dist.pth')
    mp.spawn(one_step_worker, args=(2, free_port(), batch, out), nprocs=2, join=True)
    dist_state = torch.load(out, weights_only=False)
    initial = equivalence.build_model().state_dict()
    moved = 0
    for k, v in single.state_dict().items():
        assert torch.allclose(v, dist_state[k], atol=1e-6, rtol=1e-5), k
        moved += not torch.equal(v, initial[k])
    assert moved > 10  # the step really changed the parameters


def test_launcher_rejects_a_busy_port(tmp_path):
    with socket.socket() as s:
        s.bind(('', 0))
        s.listen(1)
        port = s.getsockname()[1]
        env = dict(os.environ, PORT=str(port), PYTHON=sys.executable)
        proc = subprocess.run(['bash', 'tools/dist_train.sh', CYCLEGAN, '2'], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=120)
    assert proc.returncode != 0
    assert f'port {port} is already in use' in proc.stdout
    assert 'PORT=29501' in proc.stdout
