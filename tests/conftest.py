import io
import logging
import os
import os.path as osp
from contextlib import contextmanager

import pytest

import tool_runner

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))
SHARED_DATA = osp.abspath(osp.join(ROOT, '..', 'shared', 'data'))

# Under pytest-xdist (`make test` runs one worker per core) every worker and the tools it starts
# use one thread, so two workers share the cores instead of fighting over them.
THREADS = '1' if os.environ.get('PYTEST_XDIST_WORKER') else '2'
if THREADS == '1':
    import torch
    torch.set_num_threads(1)

# Small settings every training run in the tests uses (CPU, seconds per run).
FAST = ['train_dataloader.batch_size=2', 'default_hooks.logger.interval=1',
        'randomness.seed=0']


@pytest.fixture(scope='session')
def synthetic_unpaired(tmp_path_factory):
    from reko_mm.datasets import generate_synthetic_dataset
    root = str(tmp_path_factory.mktemp('syn') / 'unpaired')
    generate_synthetic_dataset(root, 'unpaired', num_train=8, num_test=4, size=64, seed=1)
    return root


@pytest.fixture(scope='session')
def synthetic_paired(tmp_path_factory):
    from reko_mm.datasets import generate_synthetic_dataset
    root = str(tmp_path_factory.mktemp('syn') / 'paired')
    generate_synthetic_dataset(root, 'paired', num_train=8, num_test=4, size=64, seed=2)
    return root


def data_options(root):
    return [f'train_dataloader.dataset.data_root={root}']


def run_tool(args, timeout=900, env=None, check=True, fresh=None):
    """Run a script of tools/ in its own process, as a user would: forked from a server that
    has the libraries imported, or in a new interpreter with ``fresh=True`` or where
    ``REKO_TEST_FRESH=1`` (tool_runner.py)."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS=THREADS)
    if env:
        full_env.update(env)
    proc = tool_runner.run_tool(args, ROOT, full_env, timeout, fresh=fresh)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} exited {proc.returncode}:\n{proc.stdout[-6000:]}')
    return proc


def train(config, work_dir, options=(), **kwargs):
    args = ['tools/train.py', config, '--work-dir', str(work_dir)]
    opts = FAST + list(options)
    return run_tool(args + ['--cfg-options'] + opts, **kwargs)


@pytest.fixture(scope='session')
def synthetic_reko_ckpts(synthetic_unpaired, tmp_path_factory):
    """(teacher, ReKo student) checkpoints of the synthetic CycleGAN configs, 2 iterations each."""
    work = tmp_path_factory.mktemp('reko_ckpts')
    opts = data_options(synthetic_unpaired) + ['train_cfg.max_iters=2']
    train('configs/reko/synthetic/cyclegan_synthetic_teacher.py', work / 'teacher', opts)
    teacher = str(work / 'teacher' / 'iter_2.pth')
    train('configs/reko/synthetic/cyclegan_synthetic_7x.py', work / 'student', opts +
          [f'model.teacher.ckpt={teacher}'])
    return teacher, str(work / 'student' / 'iter_2.pth')


@contextmanager
def logged():
    """What mmengine's current logger writes, as a string buffer."""
    from mmengine.logging import MMLogger
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


# The files that take longest, longest first: under pytest-xdist (`make test`, which turns off
# xdist's reordering by test count) a worker that starts one of these last would leave the
# other idle at the end. Everything else keeps its order after them.
SLOW_FIRST = ['test_quick_start.py', 'test_gpu_check.py', 'test_compress.py',
              'test_results_tool.py',
              'test_attention_regions.py', 'test_distributed.py', 'test_reko_train.py',
              'test_test_tool.py',
              'test_deployment.py', 'test_methods.py', 'test_kd_benchmark.py',
              'test_offline_metrics.py', 'test_configs.py', 'test_pix2pixhd.py',
              'test_compat.py', 'test_step_benchmark.py', 'test_get_flops.py',
              'test_import_generator.py']


def pytest_configure(config):
    config.addinivalue_line('markers', 'cuda: needs a CUDA GPU (skipped without one; '
                                       'tools/misc/gpu_check.sh runs them with -m cuda)')


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
    cuda = [item for item in items if item.get_closest_marker('cuda')]
    if cuda:
        import torch
        if not torch.cuda.is_available():
            skip = pytest.mark.skip(reason=f'needs a CUDA GPU (torch {torch.__version__} sees '
                                           'none)')
            for item in cuda:
                item.add_marker(skip)
