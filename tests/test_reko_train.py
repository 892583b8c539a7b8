"""Distillation end to end through tools/train.py: checkpoints that are plain students, an exact
resume, and runs that refuse to overwrite what a user has."""
import json
import os
import os.path as osp
import re

import pytest
import torch

from conftest import FAST, ROOT, data_options, run_tool, train

TESTS = osp.dirname(osp.abspath(__file__))
CASES = {
    'cyclegan': ('configs/reko/synthetic/cyclegan_synthetic_teacher.py',
                 'configs/reko/synthetic/cyclegan_synthetic_7x.py', 'synthetic_unpaired',
                 ['flat', 'striped'], 'CycleGAN'),
    'pix2pix': ('configs/reko/synthetic/pix2pix_synthetic_teacher.py',
                'configs/reko/synthetic/pix2pix_synthetic_4x.py', 'synthetic_paired',
                ['photo'], 'Pix2Pix'),
}
TINY = ['model.discriminator.base_channels=8']


def tiny_teacher(config, root, work):
    train(config, work, data_options(root) + TINY + ['model.generator.base_channels=8',
                                                      'train_cfg.max_iters=2'])
    return str(work / 'iter_2.pth')


@pytest.fixture(scope='module')
def cyclegan_teacher(synthetic_unpaired, tmp_path_factory):
    """One tiny CycleGAN teacher for the tests that only need one (trained once)."""
    return tiny_teacher(CASES['cyclegan'][0], synthetic_unpaired,
                        tmp_path_factory.mktemp('cyclegan_teacher'))


def student_opts(root, teacher):
    return data_options(root) + TINY + ['model.generator.base_channels=4',
                                        'model.teacher.generator.base_channels=8',
                                        f'model.teacher.ckpt={teacher}']


@pytest.mark.parametrize('case', sorted(CASES))
def test_distilled_checkpoint_is_a_plain_student(case, tmp_path, request):
    teacher_cfg, reko_cfg, data, domains, plain_type = CASES[case]
    root = request.getfixturevalue(data)
    teacher = request.getfixturevalue('cyclegan_teacher') if case == 'cyclegan' else \
        tiny_teacher(teacher_cfg, root, tmp_path / 'teacher')
    out = train(reko_cfg, tmp_path / 'student', student_opts(root, teacher) +
                ['train_cfg.max_iters=2'])
    for d in domains:
        values = [float(v) for v in re.findall(rf'loss_reko_{d}: ([0-9.]+)', out.stdout)]
        assert len(values) == 2 and all(v > 0 for v in values), out.stdout[-3000:]
    ckpt = torch.load(tmp_path / 'student' / 'iter_2.pth', map_location='cpu',
                      weights_only=False)
    assert ckpt['distill']['terms'] == ['reko'] and ckpt['distill']['state_dict']

    # exactly the keys of the no-KD config's plain MMagic model: it loads strictly
    import reko_mm  # noqa: F401
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmagic.registry import MODELS
    init_default_scope('mmagic')
    cfg = Config.fromfile(reko_cfg.replace('.py', '_nokd.py')).model
    assert cfg['type'] == plain_type
    cfg['generator']['base_channels'] = 4
    cfg['discriminator']['base_channels'] = 8
    plain = MODELS.build(cfg).eval()
    assert sorted(ckpt['state_dict']) == sorted(plain.state_dict())
    plain.load_state_dict(ckpt['state_dict'], strict=True)


def test_mmagic_own_test_tool_loads_a_reko_checkpoint_cleanly(synthetic_unpaired, cyclegan_teacher,
                                                              tmp_path):
    """MMagic's tools/test.py (shipped in its wheel) on the no-KD config and a ReKo checkpoint:
    mmengine reports no missing or unexpected keys."""
    import mmagic
    tool = osp.join(osp.dirname(mmagic.__file__), '.mim', 'tools', 'test.py')
    if not osp.isfile(tool):
        pytest.skip(f'MMagic has no {tool} here')
    reko_cfg = CASES['cyclegan'][1]
    train(reko_cfg, tmp_path / 'student', student_opts(synthetic_unpaired, cyclegan_teacher) +
          ['train_cfg.max_iters=1'])
    out = run_tool([tool, reko_cfg.replace('.py', '_nokd.py'), str(tmp_path / 'student' /
                                                                   'iter_1.pth'),
                    '--work-dir', str(tmp_path / 'mmagic_test'), '--cfg-options',
                    f'test_dataloader.dataset.data_root={synthetic_unpaired}',
                    'model.generator.base_channels=4', 'model.discriminator.base_channels=8',
                    'custom_imports.imports=[reko_mm]'],
                   env=dict(PYTHONPATH=ROOT))
    assert 'FID-flat-to-striped/fid' in out.stdout, out.stdout[-3000:]
    assert not re.search(r'missing keys|unexpected key', out.stdout), out.stdout[-3000:]


def _losses(work_dir):
    with open(osp.join(work_dir, 'losses.jsonl')) as f:
        return {rec['iter']: rec for rec in map(json.loads, f)}


def _resume_config(tmp_path):
    """The synthetic ReKo config plus a hook that records every iteration's raw losses."""
    wrapper = tmp_path / 'resume_cfg.py'
    wrapper.write_text(
        f"_base_ = '{osp.join(ROOT, CASES['cyclegan'][1])}'\n"
        "custom_imports = dict(imports=['reko_mm', 'dist_helpers'], allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='RecordLossesHook')]\n")
    return str(wrapper)


def test_resume_equals_uninterrupted_training(synthetic_unpaired, cyclegan_teacher, tmp_path):
    """4 iterations in one run == 2, then --resume 2 more: same weights, same losses.

    ExactResumeHook restores what mmengine's resume does not (random generators, CycleGAN's
    pools of past fakes); without it the flips, the pool draws and hence the losses differ. A
    pool of 2 fills at the first step, so every later step draws from NumPy's generator between
    the data pipeline's flips (with MMagic's pool of 50 a 4-step run would never draw)."""
    env = dict(PYTHONPATH=TESTS + os.pathsep + os.environ.get('PYTHONPATH', ''))
    config = _resume_config(tmp_path)
    opts = student_opts(synthetic_unpaired, cyclegan_teacher) + [
        'default_hooks.checkpoint.interval=2', 'model.buffer_size=2']
    train(config, tmp_path / 'straight', opts + ['train_cfg.max_iters=4'], env=env)
    train(config, tmp_path / 'split', opts + ['train_cfg.max_iters=2'], env=env)
    out = run_tool(['tools/train.py', config, '--work-dir', str(tmp_path / 'split'), '--resume',
                    '--cfg-options'] + FAST + opts + ['train_cfg.max_iters=4'], env=env)
    assert 'resumed epoch: 0, iter: 2' in out.stdout
    assert 'ExactResumeHook: restored 2 image pools' in out.stdout
    a = torch.load(tmp_path / 'straight' / 'iter_4.pth', weights_only=False)
    b = torch.load(tmp_path / 'split' / 'iter_4.pth', weights_only=False)
    for k, v in a['state_dict'].items():
        assert torch.allclose(v.float(), b['state_dict'][k].float(), rtol=0, atol=1e-6), k
    for k, v in a['distill']['state_dict'].items():
        assert torch.equal(v, b['distill']['state_dict'][k]), k
    straight, split = _losses(tmp_path / 'straight'), _losses(tmp_path / 'split')
    assert sorted(split) == [1, 2, 3, 4]
    for it in (3, 4):
        for key, value in straight[it].items():
            assert split[it][key] == pytest.approx(value, rel=1e-6, abs=1e-7), (it, key)


def test_resume_restores_the_projector_from_the_checkpoint(synthetic_unpaired, cyclegan_teacher,
                                                          tmp_path):
    """Resumed under another seed, the model is built with other random heads: the checkpoint's
    'distill' entry (or an older checkpoint's distill_losses.* keys), not the seed, must give
    them back."""
    reko_cfg = CASES['cyclegan'][1]
    opts = student_opts(synthetic_unpaired, cyclegan_teacher)
    train(reko_cfg, tmp_path / 'student', opts + ['train_cfg.max_iters=2'])
    saved = torch.load(tmp_path / 'student' / 'iter_2.pth', weights_only=False)
    out = run_tool(['tools/train.py', reko_cfg, '--work-dir', str(tmp_path / 'student'),
                    '--resume', '--cfg-options'] + FAST + opts +
                   ['train_cfg.max_iters=3', 'randomness.seed=123'])
    assert 'resumed epoch: 0, iter: 2' in out.stdout
    resumed = torch.load(tmp_path / 'student' / 'iter_3.pth', weights_only=False)
    heads = saved['distill']['state_dict']
    assert heads
    for k, v in heads.items():
        assert torch.equal(resumed['distill']['state_dict'][k], v), k

    # A checkpoint as reko-mm wrote them before the distiller (heads as distill_losses.* in
    # the state_dict, no 'distill' entry) still resumes, once more under another seed ...
    old = dict(resumed)
    old['state_dict'] = dict(resumed['state_dict'])
    for key, value in old.pop('distill')['state_dict'].items():
        tap, _, param = key[len('terms.reko.'):].partition('.loss.')
        old['state_dict'][f'distill_losses.{tap}.{param}'] = value
    torch.save(old, tmp_path / 'student' / 'iter_3.pth')
    out = run_tool(['tools/train.py', reko_cfg, '--work-dir', str(tmp_path / 'student'),
                    '--resume', '--cfg-options'] + FAST + opts +
                   ['train_cfg.max_iters=4', 'randomness.seed=456'])
    assert 'resumed epoch: 0, iter: 3' in out.stdout
    assert re.search(r'read \d+ distillation keys of an older reko-mm checkpoint', out.stdout)
    again = torch.load(tmp_path / 'student' / 'iter_4.pth', weights_only=False)
    for k, v in heads.items():
        assert torch.equal(again['distill']['state_dict'][k], v), k
    # ... and still evaluates as its student (the old keys skipped, with a log line)
    out = run_tool(['tools/test.py', reko_cfg, str(tmp_path / 'student' / 'iter_3.pth'),
                    '--work-dir', str(tmp_path / 'test'), '--out', str(tmp_path / 'm.json'),
                    '--cfg-options', f'test_dataloader.dataset.data_root={synthetic_unpaired}',
                    'model.generator.base_channels=4', 'model.discriminator.base_channels=8'])
    assert re.search(r"skipped \d+ keys that are not part of the student \(\['distill_losses'\]",
                     out.stdout)
    assert json.load(open(tmp_path / 'm.json'))['FID-flat-to-striped/fid'] > 0


def test_work_dir_is_never_overwritten_silently(synthetic_unpaired, cyclegan_teacher, tmp_path):
    import shutil
    teacher_cfg, reko_cfg = CASES['cyclegan'][:2]
    # a copy of the module's teacher run (trained with the options below)
    shutil.copytree(osp.dirname(cyclegan_teacher), tmp_path / 'teacher')
    teacher = str(tmp_path / 'teacher' / 'iter_2.pth')
    (tmp_path / 'teacher' / 'last_checkpoint').write_text(teacher)
    before = os.path.getmtime(teacher)
    # 1. training again into a work_dir with checkpoints, without --resume
    out = run_tool(['tools/train.py', teacher_cfg, '--work-dir', str(tmp_path / 'teacher'),
                    '--cfg-options'] + FAST + data_options(synthetic_unpaired) + TINY +
                   ['model.generator.base_channels=8', 'train_cfg.max_iters=2'], check=False)
    assert out.returncode != 0
    assert re.search(r'already holds checkpoints \(iter_2\.pth\) of this config.*--resume.*'
                     r'--work-dir', out.stdout)
    # 2. --resume with a different model config
    out = run_tool(['tools/train.py', teacher_cfg, '--work-dir', str(tmp_path / 'teacher'),
                    '--resume', '--cfg-options'] + FAST + data_options(synthetic_unpaired) + TINY
                   + ['model.generator.base_channels=16', 'train_cfg.max_iters=3'], check=False)
    assert out.returncode != 0
    assert re.search(r'--resume: the latest checkpoint .* different model config '
                     r'\(model\.generator\.base_channels: 8 in the checkpoint vs 16 now\)',
                     out.stdout)
    # 3. a student run whose work_dir is where its teacher lies
    out = run_tool(['tools/train.py', reko_cfg, '--work-dir', str(tmp_path / 'teacher'),
                    '--cfg-options'] + FAST + student_opts(synthetic_unpaired, teacher) +
                   ['train_cfg.max_iters=2'], check=False)
    assert out.returncode != 0
    assert "lies in this run's work_dir" in out.stdout
    assert os.path.getmtime(teacher) == before


def test_missing_teacher_checkpoint_is_named(tmp_path, synthetic_unpaired):
    missing = tmp_path / 'no_teacher.pth'
    out = run_tool(['tools/train.py', 'configs/reko/synthetic/cyclegan_synthetic_7x.py',
                    '--work-dir', str(tmp_path / 'w'), '--cfg-options'] +
                   data_options(synthetic_unpaired) + [f'model.teacher.ckpt={missing}'],
                   check=False)
    assert out.returncode != 0
    assert f'teacher checkpoint not found: {missing}' in out.stdout
