"""Stock MMagic CycleGAN and Pix2Pix train on the synthetic data through tools/train.py."""
import pytest
import torch

from conftest import data_options, run_tool, train


@pytest.mark.parametrize('config,data,tiny', [
    ('configs/reko/synthetic/cyclegan_synthetic_teacher.py', 'synthetic_unpaired',
     ['model.generator.base_channels=8', 'model.discriminator.base_channels=8']),
    ('configs/reko/synthetic/pix2pix_synthetic_teacher.py', 'synthetic_paired',
     ['model.generator.base_channels=8', 'model.discriminator.base_channels=8']),
])
def test_stock_model_trains(config, data, tiny, tmp_path, request):
    root = request.getfixturevalue(data)
    out = train(config, tmp_path, data_options(root) + tiny + ['train_cfg.max_iters=3'],
                fresh='cyclegan' in config)  # tools/train.py's smoke test in a new interpreter
    ckpt = torch.load(tmp_path / 'iter_3.pth', map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 3
    assert any(k.startswith('generators.') for k in ckpt['state_dict'])
    assert 'Iter(train) [3/3]' in out.stdout


def test_missing_data_root_names_path_and_layout(tmp_path):
    out = run_tool(['tools/train.py', 'configs/reko/synthetic/cyclegan_synthetic_teacher.py',
                    '--work-dir', str(tmp_path), '--cfg-options',
                    f'train_dataloader.dataset.data_root={tmp_path}/nowhere'], check=False)
    assert out.returncode != 0
    assert f'{tmp_path}/nowhere/trainA' in out.stdout
    assert 'unpaired layout' in out.stdout
    assert 'make_synthetic.py' in out.stdout
