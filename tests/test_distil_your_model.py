"""Distilling a generator trained elsewhere: an imported teacher, one-direction teachers, and a
student trained on the teacher's translations of a folder of photos."""
import json
import os.path as osp
import re

import cv2
import numpy as np
import pytest
import torch

import reko_mm  # noqa: F401
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from conftest import logged, run_tool
from reko_mm.converters import JunyanzResnetGenerator, import_generator
from reko_mm.apis import student_config
from test_import_generator import randomised
from test_teacher_student import batch, build, cyclegan_cfg, optims, reko_cfg, step

BLOCKS = [dict(student='model.4', teacher='model.4'), dict(student='model.5', teacher='model.5')]

init_default_scope('mmagic')
VINTAGIFY = 'configs/reko/vintagify/'


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
    """A folder of 'photos' of mixed sizes: train/ (6) and test/ (2)."""
    root = tmp_path_factory.mktemp('photos')
    rng = np.random.default_rng(0)
    sizes = [(40, 56), (64, 48), (48, 48), (37, 70), (50, 41), (44, 60), (48, 64), (60, 40)]
    for i, (h, w) in enumerate(sizes):
        split = 'train' if i < 6 else 'test'
        y, x = np.mgrid[0:h, 0:w]
        img = np.ascontiguousarray(np.stack([x * 255 // w, y * 255 // h, np.full((h, w), 40 * i)],
                                            -1).astype(np.uint8))
        cv2.circle(img, (int(rng.integers(10, w - 10)), int(rng.integers(10, h - 10))), 8,
                   [int(v) for v in rng.integers(0, 255, 3)], -1)
        (root / split).mkdir(exist_ok=True)
        cv2.imwrite(str(root / split / f'{i:03d}.jpg'), img)
    return str(root)


@pytest.fixture(scope='module')
def vintage_teacher(tmp_path_factory):
    """A small generator of vintagify's layout (affine IN, ``block.*``), imported as the
    'vintage' teacher: the path and the source network (RGB)."""
    work = tmp_path_factory.mktemp('teacher')
    source = randomised(JunyanzResnetGenerator(ngf=8, num_blocks=9, norm='in_affine',
                                               block_attr='block'))
    torch.save(source.state_dict(), str(work / 'G_A2B.pth'))
    out = str(work / 'vintage.pth')
    import_generator(str(work / 'G_A2B.pth'), out, 'vintage', log=lambda _: None)
    return out, source


def vintagify_cfg(name, photos, teacher, work_dir, size=32, iters=2, **options):
    cfg = Config.fromfile(VINTAGIFY + name)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = photos
        cfg[loader].num_workers = 0
        for t in cfg[loader].dataset.pipeline:
            if t.type == 'Resize':
                t.scale = (size, -1)
            elif t.type == 'Crop':
                t.crop_size = (size, size)
    cfg.merge_from_dict({
        'model.generator.base_channels': 4, 'model.teacher.generator.base_channels': 8,
        'model.discriminator.base_channels': 8, 'model.teacher.ckpt': teacher,
        'model.distill.probe_size': size, 'train_dataloader.batch_size': 2,
        'train_cfg.max_iters': iters, 'train_cfg.val_interval': iters,
        'default_hooks.checkpoint.interval': iters, 'default_hooks.logger.interval': 1,
        **options})
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = re.sub(r'\W', '_', str(work_dir))
    return cfg


def run(cfg):
    from mmengine.hooks import Hook
    from mmengine.runner import Runner
    from reko_mm.engine import add_checkpoint_hooks
    from reko_mm.utils import check_data_roots
    check_data_roots(cfg)
    add_checkpoint_hooks(cfg)
    runner = Runner.from_cfg(cfg)
    logs, teacher_calls, phase = [], [], ['']

    class KeepLog(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            phase[0] = f'train {batch_idx}'

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            logs.append({k: float(v) for k, v in outputs.items()})
            phase[0] = ''
    runner.register_hook(KeepLog(), 'LOWEST')
    handle = runner.model.teacher['vintage'].register_forward_hook(
        lambda *_: teacher_calls.append(phase[0]))
    try:
        runner.train()
    finally:
        handle.remove()
    return runner, logs, teacher_calls


@pytest.mark.parametrize('name, terms', [('vintagify_7x_nokd.py', []),
                                         ('vintagify_7x.py', ['reko']),
                                         ('vintagify_7x_gan_compression.py',
                                          ['gan_compression'])])
def test_a_student_learns_the_teachers_translations_of_photos(name, terms, photos,
                                                              vintage_teacher, tmp_path):
    teacher, _ = vintage_teacher
    runner, logs, teacher_calls = run(vintagify_cfg(name, photos, teacher, tmp_path))
    model = runner.model
    # the teacher ran once per training step, for the target and the terms alike
    assert [c for c in teacher_calls if c] == ['train 0', 'train 1'], teacher_calls
    assert len(logs) == 2 and all(log['loss_pixel'] > 0 for log in logs)
    for term in terms:
        assert all(log[f'loss_{term}_vintage'] > 0 for log in logs), logs
    assert not [k for k in logs[0] if k.startswith('loss_') and k.endswith('_vintage')
                and k[5:-8] not in terms], logs[0]
    # the end-of-training validation scored the student against the teacher's translations
    metrics = runner.message_hub.get_scalar('val/teacher/psnr')
    assert metrics is not None and np.isfinite(metrics.current())
    # ... which are in each sample as teacher_vintage: the teacher's image of the photo
    data = next(iter(runner.val_dataloader))
    samples = model.val_step(data)
    inputs = model.data_preprocessor(data)['inputs']  # one image key: a bare tensor
    with torch.no_grad():
        want = (model.teacher['vintage'](inputs) * 127.5 + 127.5).clamp(0, 255)
    got = torch.stack([s.teacher_vintage for s in samples])
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-3)
    assert not torch.allclose(torch.stack([s.fake_vintage for s in samples]), got, atol=1)
    # the checkpoint is a plain MMagic Pix2Pix student
    ckpt = torch.load(osp.join(str(tmp_path), 'iter_2.pth'), map_location='cpu',
                      weights_only=False)
    plain_cfg = student_config(runner.cfg).model
    assert plain_cfg['type'] == 'Pix2Pix'
    plain = MODELS.build(plain_cfg)
    plain.load_state_dict(ckpt['state_dict'], strict=True)


def test_the_teacher_is_the_target_and_the_dataset_needs_no_target_images(photos,
                                                                          vintage_teacher,
                                                                          tmp_path):
    """The discriminator's real pair and the L1 target are the teacher's image of the photo."""
    teacher, source = vintage_teacher
    from mmengine.runner import Runner
    cfg = vintagify_cfg('vintagify_7x_nokd.py', photos, teacher, tmp_path)
    model = Runner.from_cfg(cfg).model
    data = {'inputs': {'img_photo': [torch.full((3, 32, 32), 128.0),
                                     torch.rand(3, 32, 32) * 255]},
            'data_samples': [__import__('mmagic').structures.DataSample() for _ in range(2)]}
    seen = {}
    from mmagic.models.editors import Pix2Pix
    original = Pix2Pix._get_disc_loss

    def spy(self, outputs):
        seen.update(outputs)
        return original(self, outputs)
    Pix2Pix._get_disc_loss = spy
    try:
        step(model, data, optims(model))
    finally:
        Pix2Pix._get_disc_loss = original
    x = (torch.stack(data['inputs']['img_photo']) - 127.5) / 127.5
    with torch.no_grad():
        # the imported teacher (BGR) is the source network (RGB) with its colours flipped
        want = source(x.flip(1)).flip(1)
    # the importer's bound: reversing the colour channels reorders the sums (1.2e-5 on AVX2)
    from reko_mm.converters.generator_import import TOLERANCE
    assert torch.allclose(seen['real_vintage'], want, atol=TOLERANCE)
    assert torch.equal(seen['real_photo'], x)


def test_imported_teacher_architecture_comes_from_its_checkpoint(vintage_teacher, tmp_path):
    """The student has non-affine IN and 3 blocks; the imported teacher affine IN and 9: with no
    model.teacher.generator the checkpoint's generator_cfg is the teacher's."""
    teacher, _ = vintage_teacher
    cfg = reko_cfg(cyclegan_cfg(4, reachable_domains=['photo', 'vintage'],
                                related_domains=['photo', 'vintage'], default_domain='vintage'),
                   teacher, 8, layers=BLOCKS, domains=['vintage'])
    del cfg['teacher']['generator']
    model = build(cfg)
    assert model.teacher.generator_cfg['norm_cfg'] == dict(type='IN', affine=True)
    assert model.teacher.generator_cfg['num_blocks'] == 9
    assert model.get_module(model.generators)['vintage'].model[0].norm_name == 'in'
    assert not model.get_module(model.generators)['vintage'].model[0].norm.affine


def test_one_direction_teacher_distils_only_its_direction(vintage_teacher):
    teacher, _ = vintage_teacher
    cfg = reko_cfg(cyclegan_cfg(4, reachable_domains=['photo', 'vintage'],
                                related_domains=['photo', 'vintage'], default_domain='vintage'),
                   teacher, 8, layers=BLOCKS, domains=['vintage'])
    cfg['teacher']['generator'] = dict(norm_cfg=dict(type='IN', affine=True), num_blocks=9)
    with logged() as out:
        model = build(cfg)
    text = out.getvalue()
    assert 'distilled: photo -> vintage' in text
    assert 'not distilled (no teacher, trained as the plain student): vintage -> photo' in text
    assert list(model.teacher) == ['vintage'] and sorted(model.distill.terms['reko']) == \
        ['vintage_0', 'vintage_1']
    opt = optims(model)
    before = {d: [p.detach().clone() for p in g.parameters()]
              for d, g in model.generators.items()}
    log = step(model, batch(('photo', 'vintage')), opt)
    assert float(log['loss_reko_vintage']) > 0 and 'loss_reko_photo' not in log
    for d, g in model.generators.items():  # both generators train
        assert any(not torch.equal(a, b) for a, b in zip(before[d], g.parameters())), d


def test_teacher_configs_that_cannot_work_are_refused(vintage_teacher):
    teacher, _ = vintage_teacher
    student = cyclegan_cfg(4, reachable_domains=['photo', 'vintage'],
                           related_domains=['photo', 'vintage'], default_domain='vintage')
    affine = dict(norm_cfg=dict(type='IN', affine=True), num_blocks=9)

    def refused(message, **teacher_opts):
        cfg = reko_cfg(student, teacher, 8, layers=BLOCKS, **teacher_opts)
        cfg['teacher']['generator'] = affine
        with pytest.raises((ValueError, KeyError), match=message):
            build(cfg)

    refused(r'model\.teacher\.domains=\[\] must name at least one .*no-KD', domains=[])
    refused(r"domains=\['zebra'\] must name .*\['photo', 'vintage'\].*not one of them",
            domains=['zebra'])
    # --domain at import time names another domain than the config trains
    refused(r"no generator for domain 'photo' .*it has generators for \['vintage'\].*"
            r"model\.teacher\.domains=\['vintage'\].*--domain photo")
    refused(r'as_target=True needs a paired student .*CycleGAN', domains=['vintage'],
            as_target=True)
    with pytest.raises(ValueError, match='no terms .*no-KD'):
        cfg = reko_cfg(student, teacher, 8, domains=['vintage'], distill=dict(losses={}))
        cfg['teacher']['generator'] = affine
        build(cfg)


def test_the_test_tool_scores_a_teacher_target_student_against_its_teacher(photos,
                                                                           vintage_teacher,
                                                                           tmp_path):
    teacher, _ = vintage_teacher
    cfg = vintagify_cfg('vintagify_7x.py', photos, teacher, tmp_path / 'train')
    run(cfg)
    out = tmp_path / 'metrics.json'
    proc = run_tool(['tools/test.py', VINTAGIFY + 'vintagify_7x.py',
                     str(tmp_path / 'train' / 'iter_2.pth'), '--work-dir', str(tmp_path / 'test'),
                     '--out', str(out), '--cfg-options',
                     f'test_dataloader.dataset.data_root={photos}',
                     'model.generator.base_channels=4', 'model.teacher.generator.base_channels=8',
                     'model.discriminator.base_channels=8', f'model.teacher.ckpt={teacher}'])
    assert 'Loaded' in proc.stdout and 'photo -> vintage' in proc.stdout
    metrics = json.loads(out.read_text())
    assert 0 < metrics['teacher/ssim'] <= 1 and np.isfinite(metrics['teacher/psnr']), metrics


def test_data_a_generator_cannot_take_is_refused_before_training(tmp_path):
    from reko_mm.apis import generators_of
    from reko_mm.utils import check_data_roots, check_input_sizes
    cfg = Config.fromfile('configs/reko/pix2pix_facades_4x.py')
    check_input_sizes(cfg, generators_of(cfg))  # 256x256 crops for num_down=8: fine
    for t in cfg.train_dataloader.dataset.pipeline:
        if t.type == 'FixedCrop':
            t.crop_size = (128, 128)
    with pytest.raises(ValueError, match=r'model\.generator is a UnetGenerator with num_down=8: '
                       r'it needs image sides that are multiples of 256, but train_dataloader '
                       r'gives 128x128 images.*num_down <= 7'):
        check_input_sizes(cfg, generators_of(cfg))
    cfg.model.generator.num_down = 7
    cfg.model.teacher.generator.num_down = 8
    with pytest.raises(ValueError, match=r'model\.teacher\.generator is a UnetGenerator with '
                       r'num_down=8.*and a teacher trained so'):
        check_input_sizes(cfg, generators_of(cfg))
    # a photo folder that is not there
    cfg = Config.fromfile(VINTAGIFY + 'vintagify_7x_nokd.py')
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match=r'nowhere/train .*folder layout'):
        check_data_roots(cfg, keys=('train_dataloader', ))


def test_teacher_precision_is_opt_in_refused_where_it_cannot_run_and_close_to_fp32(
        photos, vintage_teacher):
    from reko_mm.benchmarks.step_cost import teacher_target_cost
    from reko_mm.models import FrozenTeacher
    from reko_mm.models.frozen_teacher import cpu_has_bf16
    teacher, _ = vintage_teacher
    cfg = dict(type='ResnetGenerator', in_channels=3, out_channels=3, base_channels=8,
               norm_cfg=dict(type='IN', affine=True), num_blocks=9)
    with pytest.raises(ValueError, match=r"precision='fp16' needs a GPU"):
        FrozenTeacher(teacher, ['vintage'], cfg, precision='fp16')
    with pytest.raises(ValueError, match='must be one of'):
        FrozenTeacher(teacher, ['vintage'], cfg, precision='int8')
    bf16 = cpu_has_bf16()
    configs = {'reko': VINTAGIFY + 'vintagify_7x.py'}
    options = dict(teacher_ckpt=teacher, photos=photos, size=32, repeats=1, log=lambda _: None)
    # the fixture's tiny teacher: the config's widths are overridden
    rows = teacher_target_cost(configs, precisions=('fp32', 'fp32'), **options,
                               overrides={'model.generator.base_channels': 4,
                                          'model.teacher.generator.base_channels': 8,
                                          'model.discriminator.base_channels': 8})
    assert rows[1]['target_mean_abs_diff'] == 0 and rows[1]['loss_rel_change']['loss_pixel'] == 0
    assert 0 < rows[0]['teacher_share'] < 1 and rows[0]['losses']['loss_reko_vintage'] > 0
    if bf16:
        rows = teacher_target_cost(configs, precisions=('fp32', 'bf16'), **options,
                                   overrides={'model.generator.base_channels': 4,
                                              'model.teacher.generator.base_channels': 8,
                                              'model.discriminator.base_channels': 8})
        assert 0 < rows[1]['target_mean_abs_diff'] < 0.05
    else:
        with pytest.raises(ValueError, match='no bf16 units'):
            FrozenTeacher(teacher, ['vintage'], cfg, precision='bf16')


def test_a_student_of_a_non_affine_teacher_exports_within_the_bound(photos, tmp_path):
    """GAN Compression's teachers have non-affine InstanceNorm and a dropout slot: a
    teacher-target student initialised from one trains, and its ONNX export matches PyTorch
    within the export tolerance (half an 8-bit grey level)."""
    from reko_mm.deployment import TOLERANCE
    source = randomised(JunyanzResnetGenerator(ngf=8, num_blocks=9, norm='in', dropout_slot=True))
    torch.save(source.state_dict(), str(tmp_path / 'gc.pth'))
    teacher = str(tmp_path / 'teacher.pth')
    import_generator(str(tmp_path / 'gc.pth'), teacher, 'vintage', log=lambda _: None)
    run = tmp_path / 'run'
    cfg = vintagify_cfg('vintagify_7x_gan_compression.py', photos, teacher, run, **{
        'model.teacher.generator.norm_cfg.affine': False,
        'model.generator.norm_cfg.affine': False, 'model.student_init': dict(rule='norm_scale')})
    cfg.dump(str(tmp_path / 'config.py'))
    run_tool(['tools/train.py', str(tmp_path / 'config.py'), '--work-dir', str(run)])
    out = run_tool(['tools/deployment/export_student.py', str(tmp_path / 'config.py'),
                    str(run / 'iter_2.pth'), '--out-dir', str(tmp_path / 'export'),
                    '--formats', 'pth', 'onnx']).stdout
    diff = float(re.search(r'\.onnx\s+max abs difference vs PyTorch on 2 real test images: (\S+)',
                           out).group(1))
    assert diff <= TOLERANCE and f'fp32 exports match PyTorch within {TOLERANCE:.3g}' in out
