"""--amp switches every optimizer of every shipped config to mixed precision, and a training step
really runs under autocast (bfloat16 on this CPU)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import reko_mm  # noqa: F401
from mmengine.registry import init_default_scope

from conftest import ROOT
from reko_mm.engine import AutocastOptimWrapper, enable_amp, optim_wrapper_cfgs

init_default_scope('mmagic')
CONFIGS = sorted(c for c in glob.glob(osp.join(ROOT, 'configs', 'reko', '**', '*.py'),
                                      recursive=True) if '_base_' not in c)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.splitext(osp.basename(p))[0])
def test_amp_switches_every_optimizer_of_every_config(path):
    cfg = Config.fromfile(path)
    wrappers = optim_wrapper_cfgs(cfg)
    assert len(wrappers) == 2  # MMagic's generators + discriminators
    assert enable_amp(cfg) == 2
    assert all(w['type'] == 'AutocastOptimWrapper' for w in optim_wrapper_cfgs(cfg))


@pytest.mark.parametrize('config', ['configs/reko/synthetic/cyclegan_synthetic_teacher.py',
                                    'configs/reko/synthetic/pix2pix_synthetic_teacher.py'])
def test_built_optimizers_are_amp_wrappers_and_a_step_runs_in_bfloat16(config, request,
                                                                        tmp_path):
    from mmengine.runner import Runner
    data = request.getfixturevalue('synthetic_paired' if 'pix2pix' in config
                                   else 'synthetic_unpaired')
    cfg = Config.fromfile(osp.join(ROOT, config))
    enable_amp(cfg)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': data, 'train_cfg.max_iters': 1,
                         'train_dataloader.batch_size': 2, 'custom_hooks': [],
                         'model.generator.base_channels': 8})
    cfg.work_dir = str(tmp_path)
    cfg.experiment_name = f'amp_{tmp_path.name}'
    runner = Runner.from_cfg(cfg)
    dtypes = []
    gen = next(iter(runner.model.generators.values()))
    conv = next(m for m in gen.modules() if isinstance(m, torch.nn.Conv2d))
    conv.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    runner.train()
    wrappers = runner.optim_wrapper
    assert set(wrappers.keys()) == {'generators', 'discriminators'}
    for w in wrappers.values():
        assert isinstance(w, AutocastOptimWrapper) and w.cast_dtype == torch.bfloat16
    assert dtypes and set(dtypes) == {torch.bfloat16}
    assert all(p.dtype == torch.float32 for p in runner.model.parameters())


def test_amp_refusals():
    cfg = Config(dict(optim_wrapper=dict(generators=dict(type='ApexOptimWrapper',
                                                         optimizer=dict(type='Adam')))))
    with pytest.raises(ValueError, match="cannot switch an optimizer wrapper of type "
                                         "'ApexOptimWrapper'"):
        enable_amp(cfg)
    with pytest.raises(ValueError, match='found no optimizer wrapper'):
        enable_amp(Config(dict(optim_wrapper=dict(constructor='MultiOptimWrapperConstructor'))))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='bfloat16 only.*--amp-dtype bfloat16'):
            AutocastOptimWrapper(optimizer=torch.optim.SGD([torch.nn.Parameter(torch.ones(1))],
                                                           lr=0.1), dtype='float16')
