"""TeacherStudentGAN: what is recorded, what is trained, what is saved, what is refused."""
import copy

import pytest
import torch

import reko_mm  # noqa: F401
from mmagic.registry import MODELS
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint, save_checkpoint
from mmengine.optim import OptimWrapper, OptimWrapperDict

from reko_mm.models import TeacherStudentCycleGAN, TeacherStudentGAN, TeacherStudentPix2Pix

init_default_scope('mmagic')


def resnet(ngf):
    return dict(type='ResnetGenerator', in_channels=3, out_channels=3, base_channels=ngf,
                norm_cfg=dict(type='IN'), use_dropout=False, num_blocks=3,
                padding_mode='reflect', init_cfg=dict(type='normal', gain=0.02))


def unet(ngf):
    return dict(type='UnetGenerator', in_channels=3, out_channels=3, num_down=5,
                base_channels=ngf, norm_cfg=dict(type='BN'), use_dropout=False,
                init_cfg=dict(type='normal', gain=0.02))


def cyclegan_cfg(ngf, **extra):
    cfg = dict(
        type='CycleGAN', data_preprocessor=dict(type='DataPreprocessor'),
        generator=resnet(ngf),
        discriminator=dict(type='PatchDiscriminator', in_channels=3, base_channels=8,
                           num_conv=2, norm_cfg=dict(type='IN'),
                           init_cfg=dict(type='normal', gain=0.02)),
        default_domain='b', reachable_domains=['a', 'b'], related_domains=['a', 'b'])
    cfg.update(extra)
    return cfg


def pix2pix_cfg(ngf, **extra):
    cfg = dict(
        type='Pix2Pix', data_preprocessor=dict(type='DataPreprocessor'), generator=unet(ngf),
        discriminator=dict(type='PatchDiscriminator', in_channels=6, base_channels=8,
                           num_conv=2, norm_cfg=dict(type='BN'),
                           init_cfg=dict(type='normal', gain=0.02)),
        loss_config=dict(pixel_loss_weight=100.0), default_domain='photo',
        reachable_domains=['photo'], related_domains=['photo', 'mask'])
    cfg.update(extra)
    return cfg


def teacher_ckpt(tmp_path, cfg, name='teacher.pth'):
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    path = str(tmp_path / name)
    save_checkpoint({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path, model


LAYERS = [dict(student='model.4', teacher='model.4'), dict(student='model.6', teacher='model.6')]


def reko_cfg(student_cfg, ckpt, teacher_ngf, layers=LAYERS, student_type='CycleGAN', **loss):
    cfg = copy.deepcopy(student_cfg)
    cfg.update(type='TeacherStudentGAN', student_type=student_type,
               teacher=dict(generator=dict(base_channels=teacher_ngf), ckpt=ckpt),
               distill=dict(layers=layers, loss=dict(type='RegionAwareDistillLoss',
                                                     num_regions=loss.get('k', 16))))
    return cfg


@pytest.fixture
def cyclegan(tmp_path):
    ckpt, teacher = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    torch.manual_seed(1)
    model = MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16))
    model.init_weights()
    return model, teacher, ckpt


def batch(domains=('a', 'b'), n=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    from mmagic.structures import DataSample
    inputs = {f'img_{d}': [torch.randint(0, 255, (3, size, size), generator=g).float()
                           for _ in range(n)] for d in domains}
    return dict(inputs=inputs, data_samples=[DataSample() for _ in range(n)])


def optims(model, lr=1e-3):
    def wrap(m):
        return OptimWrapper(torch.optim.Adam(m.parameters(), lr=lr, betas=(0.5, 0.999)))
    return OptimWrapperDict(generators=wrap(model.generators),
                            discriminators=wrap(model.discriminators))


def step(model, data, opt, it=0):
    from mmengine import MessageHub
    MessageHub.get_current_instance().update_info('iter', it)
    return model.train_step(data, opt)


def test_dispatch_and_is_the_mmagic_model(cyclegan):
    model, _, _ = cyclegan
    from mmagic.models.editors import CycleGAN
    assert type(model) is TeacherStudentCycleGAN
    assert isinstance(model, TeacherStudentGAN) and isinstance(model, CycleGAN)
    assert sorted(model.distill_losses) == ['a_0', 'a_1', 'b_0', 'b_1']
    loss = model.distill_losses['a_0']
    assert (loss.student_channels, loss.teacher_channels) == (32, 64)


def test_teacher_loaded_frozen_eval_and_survives_init_weights(cyclegan):
    model, teacher, _ = cyclegan
    for d in ('a', 'b'):
        for (k, v), (k2, v2) in zip(model.teacher[d].state_dict().items(),
                                    teacher.generators[d].state_dict().items()):
            assert k == k2 and torch.equal(v, v2), k
    model.init_weights()
    assert torch.equal(model.teacher['a'].model[0].conv.weight,
                       teacher.generators['a'].model[0].conv.weight)
    model.train()
    assert not model.teacher.training and model.generators.training
    assert not any(p.requires_grad for p in model.teacher.parameters())


def test_records_translation_of_real_image_not_cycle_or_identity(cyclegan, monkeypatch):
    model, _, _ = cyclegan
    data = batch()
    seen = {}
    original = TeacherStudentGAN.distill_loss

    def spy(self):
        seen.update({d: [(s.detach().clone(), t.clone()) for s, t in f]
                     for d, f in self._distill_feats.items()})
        return original(self)
    monkeypatch.setattr(TeacherStudentGAN, 'distill_loss', spy)
    model.train()
    step(model, data, optims(model, lr=0.0))
    assert sorted(seen) == ['a', 'b']
    pre = model.data_preprocessor(data, True)['inputs']
    for target, source in (('b', 'a'), ('a', 'b')):
        real = pre[f'img_{source}']
        recs = [r for r, _ in model._recorders[target]]
        with torch.no_grad():
            with recs[0].recording(), recs[1].recording():
                model.generators[target](real)
            expected = [recs[0].get(), recs[1].get()]
            teacher_out = []
            trecs = [r for _, r in model._recorders[target]]
            with trecs[0].recording(), trecs[1].recording():
                model.teacher[target](real)
            teacher_out = [trecs[0].get(), trecs[1].get()]
        for (s, t), e, te in zip(seen[target], expected, teacher_out):
            assert torch.allclose(s, e, atol=1e-5), f'student feature of {target} is not the real translation'
            assert torch.allclose(t, te, atol=1e-5)


def test_gen_loss_has_reko_terms_and_gradients_reach_student_only(cyclegan):
    model, _, _ = cyclegan
    model.train()
    proj_before = {k: v.clone() for k, v in model.distill_losses.state_dict().items()}
    teacher_before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    opt = optims(model)
    for it in range(3):
        log = step(model, batch(seed=it), opt, it)
    assert {'loss_reko_a', 'loss_reko_b'} <= set(log)
    assert float(log['loss_reko_a']) > 0
    for k, v in model.distill_losses.state_dict().items():
        assert torch.equal(v, proj_before[k]), f'projector {k} changed'
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), f'teacher {k} changed'
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is None for p in model.distill_losses.parameters())


def test_reko_loss_changes_student_update(cyclegan, tmp_path):
    """With alpha = 0 vs alpha > 0, the same step moves the student differently."""
    model, _, ckpt = cyclegan
    torch.manual_seed(3)
    other = MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16))
    other.load_state_dict(model.state_dict())
    for loss in other.distill_losses.values():
        loss.loss_weight = 0.0
    results = []
    for m in (model, other):
        m.train()
        torch.manual_seed(5)
        step(m, batch(), optims(m))
        results.append(m.generators['a'].model[4].conv_block[0].conv.weight.detach().clone()
                       if hasattr(m.generators['a'].model[4], 'conv_block') else
                       next(m.generators['a'].parameters()).detach().clone())
    assert not torch.allclose(results[0], results[1])


def test_checkpoint_loads_into_plain_cyclegan_with_same_outputs(cyclegan, tmp_path):
    model, _, _ = cyclegan
    sd = model.state_dict()
    assert not any(k.startswith('teacher.') for k in sd)
    assert any(k.startswith('distill_losses.') for k in sd)
    path = str(tmp_path / 'student.pth')
    save_checkpoint({'state_dict': sd, 'meta': {}}, path)
    plain = MODELS.build(cyclegan_cfg(8))
    load_checkpoint(plain, path, map_location='cpu')
    x = torch.randn(1, 3, 32, 32)
    model.eval()
    plain.eval()
    with torch.no_grad():
        for d in ('a', 'b'):
            assert torch.equal(model.generators[d](x), plain.generators[d](x))
    # and back into a TeacherStudentGAN: the projector is restored exactly
    again = MODELS.build(reko_cfg(cyclegan_cfg(8), model.teacher_ckpt, 16))
    again.load_state_dict(torch.load(path, weights_only=False)['state_dict'], strict=True)
    for k, v in model.distill_losses.state_dict().items():
        assert torch.equal(v, again.distill_losses.state_dict()[k])


def test_pix2pix_records_and_distills(tmp_path):
    ckpt, _ = teacher_ckpt(tmp_path, pix2pix_cfg(16))
    layer = [dict(student='model.model.1.model.0', teacher='model.model.1.model.0')]
    model = MODELS.build(reko_cfg(pix2pix_cfg(8), ckpt, 16, layers=layer, student_type='Pix2Pix'))
    assert type(model) is TeacherStudentPix2Pix
    loss = model.distill_losses['photo_0']
    assert (loss.student_channels, loss.teacher_channels) == (16, 32)
    model.train()
    log = step(model, batch(('photo', 'mask')), optims(model))
    assert 'loss_reko_photo' in log and float(log['loss_reko_photo']) > 0


def test_unet_recorded_feature_is_not_overwritten_in_place(tmp_path):
    """MMagic's UNet applies LeakyReLU(inplace) to the recorded tensor later in the forward."""
    from reko_mm.recorders import ModuleOutputRecorder
    gen = MODELS.build(unet(8)).eval()
    rec = ModuleOutputRecorder(gen, 'model.model.1.model.0')
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad(), rec.recording():
        gen(x)
    recorded = rec.get()
    with torch.no_grad():
        reference = gen.model.model[1].model[0](gen.model.model[0](x))
    assert torch.equal(recorded, reference)
    assert (recorded < 0).any(), 'the conv output has negatives'
    # an un-cloned hook output is overwritten by the next block's in-place LeakyReLU
    raw = []
    handle = gen.model.model[1].model[0].register_forward_hook(lambda m, i, o: raw.append(o))
    with torch.no_grad():
        gen(x)
    handle.remove()
    assert not torch.equal(raw[0], reference)
    rec.remove()
    with torch.no_grad(), rec.recording():
        gen(x)
    assert rec.data == []


def test_errors(tmp_path):
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    with pytest.raises(KeyError, match=r"'model\.44' is not a submodule.*Closest valid names: 'model\.4'"):
        MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16, layers=['model.44']))
    missing = str(tmp_path / 'nope' / 'teacher.pth')
    with pytest.raises(FileNotFoundError, match=missing):
        MODELS.build(reko_cfg(cyclegan_cfg(8), missing, 16))
    with pytest.raises(ValueError, match=r'does not match.*shape mismatch: .*generators\.a\.model\.0\.conv\.weight \(16, 3, 7, 7\) in the checkpoint vs \(32, 3, 7, 7\) in the config'):
        MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 32))
    with pytest.raises(ValueError, match=r"student_type='StyleGAN2' is not supported.*\['CycleGAN', 'Pix2Pix'\]"):
        MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16, student_type='StyleGAN2'))
    with pytest.raises(ValueError, match=r"student layer 'model.1'.*teacher layer 'model.4'.*same spatial size"):
        MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16,
                              layers=[dict(student='model.1', teacher='model.4')]))
    with pytest.raises(ValueError, match='model.teacher.ckpt is not set'):
        MODELS.build(reko_cfg(cyclegan_cfg(8), None, 16))
    other, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16, reachable_domains=['x', 'b'],
                                                     related_domains=['x', 'b']), 'other.pth')
    with pytest.raises(KeyError, match=r"no generator for domain 'a'.*\['b', 'x'\]"):
        MODELS.build(reko_cfg(cyclegan_cfg(8), other, 16))
