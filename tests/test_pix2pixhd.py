"""Pix2PixHD in MMagic form: the architecture, its losses, training and testing through the
tools, distillation, strict-loading students and export."""
import re

import pytest
import torch
import torch.nn.functional as F

import reko_mm  # noqa: F401
from mmagic.registry import MODELS
from mmengine.registry import init_default_scope

from conftest import data_options, run_tool, train

init_default_scope('mmagic')
TEACHER = 'configs/reko/synthetic/pix2pixhd_synthetic_teacher.py'
REKO = 'configs/reko/synthetic/pix2pixhd_synthetic_28x.py'
NOKD = 'configs/reko/synthetic/pix2pixhd_synthetic_28x_nokd.py'


def small_model(**loss_config):
    return MODELS.build(dict(
        type='Pix2PixHD', data_preprocessor=dict(type='DataPreprocessor'),
        generator=dict(type='Pix2PixHDGenerator', base_channels=4),
        discriminator=dict(type='MultiScaleDiscriminator', in_channels=6, base_channels=4),
        loss_config=loss_config, default_domain='photo', reachable_domains=['photo'],
        related_domains=['photo', 'mask']))


def test_architecture():
    gen = MODELS.build(dict(type='Pix2PixHDGenerator', base_channels=8))
    names = [type(m).__name__ for m in gen.model]
    assert names == ['ConvModule'] * 4 + ['ResidualBlockWithDropout'] * 9 + ['ConvModule'] * 4
    assert gen.model[0].conv.kernel_size == (7, 7) and gen.model[0].with_explicit_padding
    assert [gen.model[i].conv.stride for i in (1, 2, 3)] == [(2, 2)] * 3
    assert all(isinstance(gen.model[i].conv, torch.nn.ConvTranspose2d) for i in (13, 14, 15))
    assert isinstance(gen.model[0].norm, torch.nn.InstanceNorm2d)
    assert gen(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 32, 32)
    disc = MODELS.build(dict(type='MultiScaleDiscriminator', in_channels=6, base_channels=4))
    out = disc(torch.zeros(2, 6, 64, 64))
    assert len(out) == 3 and all(len(s) == 5 for s in out)  # 3 scales x (4 blocks + output)
    assert [s[-1].shape[1] for s in out] == [1, 1, 1]
    assert [s[0].shape[-1] for s in out] == [33, 17, 9]  # 2x average pooling between scales


def test_losses_are_lsgan_and_feature_matching():
    """_get_gen_loss / _get_disc_loss against pix2pixHD's formulas written out."""
    torch.manual_seed(0)
    model = small_model()
    src, real = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    fake = model.generators['photo'](src)
    outputs = dict(real_mask=src, real_photo=real, fake_photo=fake)
    disc = model.discriminators['photo']
    loss_g, log = model._get_gen_loss(outputs)
    pf, pr = disc(torch.cat([src, fake], 1)), disc(torch.cat([src, real], 1))
    gan = sum(F.mse_loss(s[-1], torch.ones_like(s[-1])) for s in pf)
    fm = sum(10.0 * (1 / 3) * (4 / 4) * F.l1_loss(a, b.detach())
             for fs, rs in zip(pf, pr) for a, b in zip(fs[:-1], rs[:-1]))
    assert float(log['loss_gan_g']) == pytest.approx(float(gan), rel=1e-5)
    assert float(log['loss_feat_match']) == pytest.approx(float(fm), rel=1e-5)
    assert float(loss_g) == pytest.approx(float(gan + fm), rel=1e-5)
    assert 'loss_pixel' not in log and 'loss_vgg' not in log  # pix2pixHD has no L1
    loss_d, log_d = model._get_disc_loss(outputs)
    d_fake = sum(F.mse_loss(s[-1], torch.zeros_like(s[-1])) for s in
                 disc(torch.cat([src, fake.detach()], 1)))
    d_real = sum(F.mse_loss(s[-1], torch.ones_like(s[-1])) for s in pr)
    assert float(loss_d) == pytest.approx(float(0.5 * (d_fake + d_real)), rel=1e-5)


def test_vgg_loss_needs_local_weights(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'needs ImageNet VGG19 weights from a local '
                                                r'file.*model\.loss_config\.vgg_weights'):
        small_model(vgg_loss_weight=10.0)
    with pytest.raises(ValueError,
                       match=r"unknown keys in Pix2PixHD loss_config: \['lambda_feat'\]"):
        small_model(lambda_feat=10.0)
    import torchvision
    features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs['E'])
    path = tmp_path / 'vgg19.pth'
    torch.save({f'features.{k}': v for k, v in features.state_dict().items()}, path)
    model = small_model(vgg_loss_weight=10.0, vgg_weights=str(path))
    with pytest.raises(FileNotFoundError, match=r"VGG19 loss weights file not found: .*nope\.pth"):
        small_model(vgg_loss_weight=10.0, vgg_weights=str(tmp_path / 'nope.pth'))
    vgg16 = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs['D'])
    torch.save(vgg16.state_dict(), tmp_path / 'vgg16.pth')  # another network: refused by name
    with pytest.raises(ValueError, match=r'vgg16\.pth is not a torchvision VGG19 state dict: '
                                         r'missing \[.*shape mismatch'):
        small_model(vgg_loss_weight=10.0, vgg_weights=str(tmp_path / 'vgg16.pth'))
    x = torch.rand(1, 3, 32, 32)
    outputs = dict(real_mask=x, real_photo=x, fake_photo=model.generators['photo'](x))
    _, log = model._get_gen_loss(outputs)
    assert float(log['loss_vgg']) > 0
    assert not any(p.requires_grad for p in model.vgg_loss.parameters())


def test_train_test_distil_and_strict_student_checkpoint(synthetic_paired, tmp_path):
    opts = data_options(synthetic_paired) + ['model.discriminator.base_channels=4']
    out = train(TEACHER, tmp_path / 'teacher', opts + ['model.generator.base_channels=8',
                                                       'train_cfg.max_iters=2'])
    assert re.search(r'loss_gan_g: [\d.]+\s+loss_feat_match: [\d.]+', out.stdout)
    teacher = tmp_path / 'teacher' / 'iter_2.pth'
    out = train(REKO, tmp_path / 'student', opts + [
        'model.generator.base_channels=4', 'model.teacher.generator.base_channels=8',
        f'model.teacher.ckpt={teacher}', 'train_cfg.max_iters=2'])
    values = [float(v) for v in re.findall(r'loss_reko_photo: ([\d.]+)', out.stdout)]
    assert len(values) == 2 and all(v > 0 for v in values)
    ckpt = torch.load(tmp_path / 'student' / 'iter_2.pth', weights_only=False)
    from mmengine.config import Config
    cfg = Config.fromfile(NOKD).model
    cfg.generator.base_channels, cfg.discriminator.base_channels = 4, 4
    plain = MODELS.build(cfg)
    assert type(plain).__name__ == 'Pix2PixHD'
    plain.load_state_dict(ckpt['state_dict'], strict=True)
    out = run_tool(['tools/test.py', REKO, str(tmp_path / 'student' / 'iter_2.pth'),
                    '--work-dir', str(tmp_path / 'test'), '--cfg-options',
                    f'test_dataloader.dataset.data_root={synthetic_paired}',
                    'model.generator.base_channels=4', 'model.discriminator.base_channels=4'])
    assert re.search(r'FID-Full/fid: [\d.]+', out.stdout)
    # the student exports to ONNX and TorchScript and matches PyTorch on real test images
    out = run_tool(['tools/deployment/export_student.py', REKO,
                    str(tmp_path / 'student' / 'iter_2.pth'), '--out-dir', str(tmp_path / 'x'),
                    '--cfg-options', f'test_dataloader.dataset.data_root={synthetic_paired}',
                    'model.generator.base_channels=4', 'model.discriminator.base_channels=4'])
    assert 'all 3 fp32 exports match PyTorch' in out.stdout, out.stdout[-2000:]
