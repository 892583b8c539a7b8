"""ReKo end to end through tools/train.py: a teacher run, then a student distilled from it."""
import re

import pytest
import torch

from conftest import FAST, data_options, run_tool, train

CASES = {
    'cyclegan': ('configs/reko/synthetic/cyclegan_synthetic_teacher.py',
                 'configs/reko/synthetic/cyclegan_synthetic_7x.py', 'synthetic_unpaired',
                 ['flat', 'striped'], 'CycleGAN'),
    'pix2pix': ('configs/reko/synthetic/pix2pix_synthetic_teacher.py',
                'configs/reko/synthetic/pix2pix_synthetic_4x.py', 'synthetic_paired',
                ['photo'], 'Pix2Pix'),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_distill_end_to_end_and_resume(case, tmp_path, request):
    teacher_cfg, reko_cfg, data, domains, plain_type = CASES[case]
    root = request.getfixturevalue(data)
    opts = data_options(root) + ['model.discriminator.base_channels=8']
    train(teacher_cfg, tmp_path / 'teacher',
          opts + ['model.generator.base_channels=8', 'train_cfg.max_iters=2'])
    teacher_ckpt = tmp_path / 'teacher' / 'iter_2.pth'
    student_opts = opts + ['model.generator.base_channels=4',
                           'model.teacher.generator.base_channels=8',
                           f'model.teacher.ckpt={teacher_ckpt}']
    out = train(reko_cfg, tmp_path / 'student', student_opts + ['train_cfg.max_iters=2'])
    for d in domains:
        values = [float(v) for v in re.findall(rf'loss_reko_{d}: ([0-9.]+)', out.stdout)]
        assert len(values) == 2 and all(v > 0 for v in values), out.stdout[-3000:]
    ckpt = torch.load(tmp_path / 'student' / 'iter_2.pth', map_location='cpu',
                      weights_only=False)
    assert not any(k.startswith('teacher.') for k in ckpt['state_dict'])
    proj = {k: v for k, v in ckpt['state_dict'].items() if k.startswith('distill_losses.')}
    assert proj

    # the student checkpoint loads into the plain MMagic model and gives the same outputs
    import reko_mm  # noqa: F401
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmagic.registry import MODELS
    init_default_scope('mmagic')
    from reko_mm.models import student_model_cfg
    cfg = student_model_cfg(Config.fromfile(reko_cfg).model)
    assert cfg['type'] == plain_type
    cfg['generator']['base_channels'] = 4
    plain = MODELS.build(cfg).eval()
    load_checkpoint(plain, str(tmp_path / 'student' / 'iter_2.pth'), map_location='cpu')
    x = torch.randn(1, 3, 64, 64)
    for d in domains:
        gen_state = {k[len(f'generators.{d}.'):]: v for k, v in ckpt['state_dict'].items()
                     if k.startswith(f'generators.{d}.')}
        for k, v in plain.generators[d].state_dict().items():
            assert torch.equal(v, gen_state[k]), k
        with torch.no_grad():
            assert plain.generators[d](x).shape == (1, 3, 64, 64)

    # --resume restores the iteration and keeps the frozen projector identical
    args = ['tools/train.py', reko_cfg, '--work-dir', str(tmp_path / 'student'), '--resume',
            '--cfg-options'] + FAST + student_opts + ['train_cfg.max_iters=3']
    out = run_tool(args)
    assert 'resumed epoch: 0, iter: 2' in out.stdout
    resumed = torch.load(tmp_path / 'student' / 'iter_3.pth', map_location='cpu',
                         weights_only=False)
    for k, v in proj.items():
        assert torch.equal(resumed['state_dict'][k], v), k


def test_missing_teacher_checkpoint_is_named(tmp_path, synthetic_unpaired):
    missing = tmp_path / 'no_teacher.pth'
    out = run_tool(['tools/train.py', 'configs/reko/synthetic/cyclegan_synthetic_7x.py',
                    '--work-dir', str(tmp_path / 'w'), '--cfg-options'] +
                   data_options(synthetic_unpaired) + [f'model.teacher.ckpt={missing}'],
                   check=False)
    assert out.returncode != 0
    assert f'teacher checkpoint not found: {missing}' in out.stdout
