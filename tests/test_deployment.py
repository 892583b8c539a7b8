"""Student export (plain checkpoint, ONNX, TorchScript) checked on real test images, and the
latency benchmark's report."""
import os
import re

import pytest
import torch

from conftest import run_tool

REKO = 'configs/reko/synthetic/cyclegan_synthetic_7x.py'


def data_opts(root):
    return ['--cfg-options', f'test_dataloader.dataset.data_root={root}']


def test_export_all_formats_match_pytorch(synthetic_unpaired, synthetic_reko_ckpts, tmp_path):
    out = run_tool(['tools/deployment/export_student.py', REKO, synthetic_reko_ckpts[1],
                    '--out-dir', str(tmp_path)] + data_opts(synthetic_unpaired)).stdout
    diffs = {m[0]: float(m[1]) for m in re.findall(
        r'(\S+\.(?:onnx|pt))\s+max abs difference vs PyTorch on 4 real test images: (\S+)', out)}
    assert len(diffs) == 4, out[-3000:]  # 2 generators x (ONNX, TorchScript)
    assert max(diffs.values()) < 1e-4
    assert 'all 5 exports match PyTorch' in out

    # the plain checkpoint holds only what a plain MMagic CycleGAN has, and loads strictly
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    from reko_mm.deployment import load_cfg
    from reko_mm.models import student_config
    plain = torch.load(tmp_path / 'cyclegan_synthetic_7x.pth', weights_only=False)
    assert not [k for k in plain['state_dict'] if k.startswith('distill_losses')]
    init_default_scope('mmagic')
    cfg = student_config(load_cfg(REKO))
    model = MODELS.build(cfg.model)
    model.load_state_dict(plain['state_dict'], strict=True)
    assert "type='CycleGAN'" in plain['meta']['cfg']

    # the TorchScript file runs on its own (no mmagic / reko_mm modules needed to load it)
    ts = torch.jit.load(str(tmp_path / 'cyclegan_synthetic_7x_flat2striped.pt'))
    y = ts(torch.rand(1, 3, 64, 64) * 2 - 1)
    assert y.shape == (1, 3, 64, 64) and y.abs().max() <= 1


def test_generators_take_the_images_in_loaded_bgr_order(synthetic_unpaired):
    """What docs/deployment.md tells users to feed an exported generator."""
    import glob

    import cv2
    import numpy as np
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope

    from reko_mm.deployment import load_cfg, real_inputs
    from reko_mm.models import student_config
    init_default_scope('mmagic')
    cfg = student_config(load_cfg(REKO))
    cfg.test_dataloader.dataset.data_root = synthetic_unpaired
    model = MODELS.build(cfg.model)
    x = real_inputs(cfg, model, 'flat', 1)[0].permute(1, 2, 0).numpy()
    bgr = cv2.imread(sorted(glob.glob(f'{synthetic_unpaired}/testA/*.png'))[0])
    assert np.abs(x - (bgr.astype(np.float32) - 127.5) / 127.5).max() < 1e-6
    assert np.abs(bgr - bgr[:, :, ::-1]).max() > 50  # coloured: a swap would be seen


def test_export_refuses_to_overwrite(synthetic_unpaired, synthetic_reko_ckpts, tmp_path):
    from reko_mm.deployment import export_student
    existing = tmp_path / 'cyclegan_synthetic_7x_flat2striped.onnx'
    existing.write_bytes(b'user file')
    with pytest.raises(FileExistsError, match='--overwrite'):
        export_student(REKO, synthetic_reko_ckpts[1], str(tmp_path), ['onnx'],
                       cfg_options={'test_dataloader.dataset.data_root': synthetic_unpaired})
    assert existing.read_bytes() == b'user file'
    assert sorted(os.listdir(tmp_path)) == [existing.name]


def test_export_bad_inputs(synthetic_reko_ckpts, tmp_path):
    from reko_mm.deployment import export_onnx, load_cfg, load_student

    class GridSample(torch.nn.Module):
        def forward(self, x):
            grid = torch.zeros(x.shape[0], 4, 4, 2)
            return torch.nn.functional.grid_sample(x, grid, align_corners=False)

    with pytest.raises(RuntimeError, match=r'opset 11.*grid_sampler'):
        export_onnx(GridSample(), torch.rand(1, 3, 8, 8), str(tmp_path / 'g.onnx'), opset=11)
    # a checkpoint of another width than the config
    cfg = load_cfg(REKO, {'model.generator.base_channels': 8})
    with pytest.raises(ValueError, match=r'does not match the model of the config: shapes '
                                         r'differ: .*its generators have width flat: 6, '
                                         r'striped: 6; this config builds generators of width '
                                         r'flat: 8, striped: 8.*nothing was loaded'):
        load_student(cfg, synthetic_reko_ckpts[1])
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        load_student(cfg, str(tmp_path / 'missing.pth'))


def test_latency_benchmark_reports_every_runtime():
    out = run_tool(['tools/analysis_tools/benchmark_latency.py', REKO, '--shape', '64', '64',
                    '--warmup', '1', '--repeats', '2', '--threads', '1']).stdout
    rows = re.findall(r'^(PyTorch eager|TorchScript|ONNX Runtime)\s+cpu\s+1\s+([\d.]+)\s+'
                      r'([\d.]+)\s+([\d.]+)x\s+([\d.]+)x$', out, re.M)
    assert [r[0] for r in rows] == ['PyTorch eager', 'TorchScript', 'ONNX Runtime'], out[-2000:]
    for _, teacher_ms, student_ms, speedup, _ in rows:
        assert float(speedup) == pytest.approx(float(teacher_ms) / float(student_ms), rel=0.02)
    flops = re.search(r'teacher ([\d.]+) G, student ([\d.]+) G \(ratio ([\d.]+)x\)', out)
    assert float(flops[3]) == pytest.approx(float(flops[1]) / float(flops[2]), rel=0.01)
    assert all(r[4] == flops[3] for r in rows)
