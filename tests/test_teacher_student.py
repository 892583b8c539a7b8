"""TeacherStudentGAN: what is recorded, what is trained, what is saved, what is refused."""
import copy

import pytest
import torch

import reko_mm  # noqa: F401
from mmagic.registry import MODELS
from mmengine.registry import init_default_scope
from mmengine.runner import save_checkpoint
from mmengine.optim import OptimWrapper, OptimWrapperDict

from reko_mm.models import TeacherStudentCycleGAN, TeacherStudentGAN, TeacherStudentPix2Pix

init_default_scope('mmagic')


def resnet(ngf):
    return dict(type='ResnetGenerator', in_channels=3, out_channels=3, base_channels=ngf,
                norm_cfg=dict(type='IN'), use_dropout=False, num_blocks=3,
                padding_mode='reflect', init_cfg=dict(type='normal', gain=0.02))


def unet(ngf, dropout=False, num_down=5):
    return dict(type='UnetGenerator', in_channels=3, out_channels=3, num_down=num_down,
                base_channels=ngf, norm_cfg=dict(type='BN'), use_dropout=dropout,
                init_cfg=dict(type='normal', gain=0.02))


def cyclegan_cfg(ngf, **extra):
    cfg = dict(
        type='CycleGAN', data_preprocessor=dict(type='DataPreprocessor'),
        generator=resnet(ngf),
        discriminator=dict(type='PatchDiscriminator', in_channels=3, base_channels=8,
                           num_conv=3, norm_cfg=dict(type='IN'),
                           init_cfg=dict(type='normal', gain=0.02)),
        default_domain='b', reachable_domains=['a', 'b'], related_domains=['a', 'b'])
    cfg.update(extra)
    return cfg


def pix2pix_cfg(ngf, dropout=False, num_down=5, **extra):
    cfg = dict(
        type='Pix2Pix', data_preprocessor=dict(type='DataPreprocessor'),
        generator=unet(ngf, dropout, num_down),
        discriminator=dict(type='PatchDiscriminator', in_channels=6, base_channels=8,
                           num_conv=3, norm_cfg=dict(type='BN'),
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


def reko_cfg(student_cfg, ckpt, teacher_ngf, layers=LAYERS, student_type='CycleGAN', k=16,
             distill=None, **teacher):
    cfg = copy.deepcopy(student_cfg)
    cfg.update(type='TeacherStudentGAN', student_type=student_type,
               teacher=dict(generator=dict(base_channels=teacher_ngf), ckpt=ckpt, **teacher),
               distill=distill or dict(layers=layers, loss=dict(type='RegionAwareDistillLoss',
                                                                num_regions=k)))
    return cfg


def build(cfg, seed=1):
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    model.register_distill_state_saver('test')
    return model


@pytest.fixture
def cyclegan(tmp_path):
    ckpt, teacher = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    return build(reko_cfg(cyclegan_cfg(8), ckpt, 16)), teacher, ckpt


def batch(domains=('a', 'b'), n=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    from mmagic.structures import DataSample
    inputs = {f'img_{d}': [torch.randint(0, 255, (3, size, size), generator=g).float()
                           for _ in range(n)] for d in domains}
    return dict(inputs=inputs, data_samples=[DataSample() for _ in range(n)])


def optims(model, lr=1e-3, gen_modules=('generators', )):
    def wrap(params):
        return OptimWrapper(torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999)))
    gen_params = [p for name in gen_modules for p in getattr(model, name).parameters()
                  if p.requires_grad]
    return OptimWrapperDict(generators=wrap(gen_params),
                            discriminators=wrap(model.discriminators.parameters()))


def step(model, data, opt, it=0):
    from mmengine import MessageHub
    MessageHub.get_current_instance().update_info('iter', it)
    return model.train_step(data, opt)


def test_dispatch_and_is_the_mmagic_model(cyclegan):
    model, _, _ = cyclegan
    from mmagic.models.editors import CycleGAN
    assert type(model) is TeacherStudentCycleGAN
    assert isinstance(model, TeacherStudentGAN) and isinstance(model, CycleGAN)
    assert list(model.distill.terms) == ['reko']
    assert sorted(model.distill.terms['reko']) == ['a_0', 'a_1', 'b_0', 'b_1']
    loss = model.distill.term('reko', 'a', 0).loss
    assert (loss.student_channels, loss.teacher_channels) == (32, 64)


def test_legacy_and_named_term_configs_are_the_same_distillation(tmp_path):
    """distill=dict(layers, loss) (today's configs) is the term 'reko' of the new form: same
    projection heads and the same loss values on a fixed batch."""
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    legacy = build(reko_cfg(cyclegan_cfg(8), ckpt, 16))
    named = build(reko_cfg(cyclegan_cfg(8), ckpt, 16, distill=dict(
        layers=LAYERS, losses=dict(reko=dict(loss=dict(type='RegionAwareDistillLoss',
                                                       num_regions=16))))))
    for (k, v), (k2, v2) in zip(legacy.state_dict().items(), named.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    for (k, v), (k2, v2) in zip(legacy.distill.state_dict().items(),
                                named.distill.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    logs = [step(m, batch(), optims(m, lr=0.0)) for m in (legacy, named)]
    for d in 'ab':
        assert float(logs[0][f'loss_reko_{d}']) == float(logs[1][f'loss_reko_{d}']) > 0


def test_teacher_loaded_frozen_and_survives_init_weights(cyclegan):
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
    original = type(model.distill).compute_losses

    def spy(self):
        seen.update({d: {side: {n: f.detach().clone() for n, f in r[side].items()}
                         for side in ('student', 'teacher')}
                     for d, r in self._records.items()})
        seen.update({f'{d}_img': (r['student_img'].detach().clone(), r['teacher_img'].clone())
                     for d, r in self._records.items()})
        return original(self)
    monkeypatch.setattr(type(model.distill), 'compute_losses', spy)
    model.train()
    step(model, data, optims(model, lr=0.0))
    pre = model.data_preprocessor(data, True)['inputs']
    for target, source in (('b', 'a'), ('a', 'b')):
        real = pre[f'img_{source}']
        student = model.distill._recorders['student'][target]
        teacher = model.distill._recorders['teacher'][target]
        with torch.no_grad():
            with student['model.4'].recording(), student['model.6'].recording():
                s_img = model.generators[target](real)
            with teacher['model.4'].recording(), teacher['model.6'].recording():
                t_img = model.teacher[target](real)
        for name in ('model.4', 'model.6'):
            assert torch.allclose(seen[target]['student'][name], student[name].get(), atol=1e-5), \
                f'student feature of {target} is not the real translation'
            assert torch.allclose(seen[target]['teacher'][name], teacher[name].get(), atol=1e-5)
        assert torch.allclose(seen[f'{target}_img'][0], s_img, atol=1e-5)
        assert torch.allclose(seen[f'{target}_img'][1], t_img, atol=1e-5)


def test_reko_term_is_the_mean_over_taps_of_the_loss(cyclegan):
    """loss_reko_<d> = mean over layer pairs of RegionAwareDistillLoss on the recorded pair."""
    model, _, _ = cyclegan
    data = batch()
    log = step(model, data, optims(model, lr=0.0))
    pre = model.data_preprocessor(data, True)['inputs']
    for target, source in (('b', 'a'), ('a', 'b')):
        real = pre[f'img_{source}']
        values = []
        for i, name in enumerate(('model.4', 'model.6')):
            s_rec = model.distill._recorders['student'][target][name]
            t_rec = model.distill._recorders['teacher'][target][name]
            with torch.no_grad():
                with s_rec.recording():
                    model.generators[target](real)
                with t_rec.recording():
                    model.teacher[target](real)
                values.append(model.distill.term('reko', target, i).loss(s_rec.get(), t_rec.get()))
        expected = sum(values) / 2
        assert float(log[f'loss_reko_{target}']) == pytest.approx(float(expected), rel=1e-5)


def test_gen_loss_has_reko_terms_and_gradients_reach_student_only(cyclegan):
    model, _, _ = cyclegan
    model.train()
    proj_before = {k: v.clone() for k, v in model.distill.state_dict().items()}
    teacher_before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    opt = optims(model)
    for it in range(3):
        log = step(model, batch(seed=it), opt, it)
    assert {'loss_reko_a', 'loss_reko_b'} <= set(log)
    assert float(log['loss_reko_a']) > 0
    for k, v in model.distill.state_dict().items():
        assert torch.equal(v, proj_before[k]), f'projector {k} changed'
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher_before[k]), f'teacher {k} changed'
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is None for p in model.distill.parameters())


def test_reko_loss_changes_student_update(cyclegan):
    """With alpha = 0 vs alpha > 0, the same step moves the student differently."""
    model, _, ckpt = cyclegan
    other = build(reko_cfg(cyclegan_cfg(8), ckpt, 16), seed=3)
    other.load_state_dict(model.state_dict())
    other.distill.load_state_dict(model.distill.state_dict())
    for term in other.distill.terms['reko'].values():
        term.loss.loss_weight = 0.0
    results = []
    for m in (model, other):
        m.train()
        torch.manual_seed(5)
        step(m, batch(), optims(m))
        results.append(torch.cat([p.detach().flatten() for p in m.generators['a'].parameters()]))
    assert not torch.allclose(results[0], results[1])


@pytest.mark.parametrize('break_it', ['never_real', 'preprocessor_copies'])
def test_distillation_never_switches_itself_off(cyclegan, monkeypatch, break_it):
    """When the real-image check fails, the step raises instead of training a plain student."""
    model, _, _ = cyclegan
    if break_it == 'never_real':
        monkeypatch.setattr(TeacherStudentGAN, '_is_real', lambda self, img: False)
    else:  # a preprocessor (or an MMagic change) that hands the generators copies
        original = TeacherStudentGAN._capture_real_inputs

        def capture_copies(self, module, args, output):
            original(self, module, args, output)
            self._real_inputs = [t.clone() for t in self._real_inputs]
        monkeypatch.setattr(TeacherStudentGAN, '_capture_real_inputs', capture_copies)
    with pytest.raises(RuntimeError, match=r"distillation is off for \['a', 'b'\].*Refusing"):
        step(model, batch(), optims(model))


def test_state_dict_is_the_plain_student_and_strict_loads(cyclegan, tmp_path):
    model, _, _ = cyclegan
    sd = model.state_dict()
    plain = MODELS.build(cyclegan_cfg(8))
    assert sorted(sd) == sorted(plain.state_dict())
    plain.load_state_dict(sd, strict=True)
    x = torch.randn(1, 3, 32, 32)
    model.eval()
    plain.eval()
    with torch.no_grad():
        for d in ('a', 'b'):
            assert torch.equal(model.generators[d](x), plain.generators[d](x))
    # and the plain student's weights load strictly back into a TeacherStudentGAN, whose
    # teacher and distillation state are kept
    again = build(reko_cfg(cyclegan_cfg(8), model.teacher.ckpt, 16), seed=7)
    heads = copy.deepcopy(again.distill.state_dict())
    again.load_state_dict(plain.state_dict(), strict=True)
    for k, v in again.distill.state_dict().items():
        assert torch.equal(v, heads[k])


def test_old_checkpoint_heads_are_read_into_the_reko_term(cyclegan, caplog):
    """Checkpoints from before the distiller kept the heads as distill_losses.<d>_<i>.*"""
    model, _, ckpt = cyclegan
    old = dict(model.state_dict())
    for key, value in model.distill.state_dict().items():
        _, _, rest = key.partition('terms.reko.')
        tap, _, param = rest.partition('.loss.')
        old[f'distill_losses.{tap}.{param}'] = value + 1.0  # distinguishable
    fresh = build(reko_cfg(cyclegan_cfg(8), ckpt, 16), seed=9)
    fresh.load_state_dict(old, strict=True)
    for key, value in model.distill.state_dict().items():
        assert torch.equal(fresh.distill.state_dict()[key], value + 1.0), key


def test_refuses_to_train_when_nothing_saves_the_distillation_state(tmp_path):
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    torch.manual_seed(1)
    model = MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16))
    with pytest.raises(RuntimeError, match=r"nothing saves the distillation's state.*"
                                           r"DistillCheckpointHook"):
        step(model, batch(), optims(model))


GAN_COMPRESSION = dict(layers=['model.4', 'model.6'], losses=dict(gan_compression=dict(
    connector=dict(type='Conv1x1Connector'), loss=dict(type='FeatureMSELoss'), reduce='sum')))
VID = dict(layers=['model.4'], losses=dict(vid=dict(
    connector=dict(type='VIDRegressor'), loss=dict(type='VIDLoss'))))


@pytest.mark.parametrize('distill', [GAN_COMPRESSION, VID], ids=['gan_compression', 'vid'])
def test_learnable_parts_train_with_the_student(tmp_path, distill):
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    model = build(reko_cfg(cyclegan_cfg(8), ckpt, 16, distill=distill))
    params = dict(model.distill.trainable_parameters())
    assert params, 'the term has trainable parts'
    before = {k: v.detach().clone() for k, v in params.items()}
    step(model, batch(), optims(model, gen_modules=('generators', 'distill')))
    changed = [k for k, v in params.items() if not torch.equal(v, before[k])]
    assert sorted(changed) == sorted(params), 'every connector / loss parameter is updated'
    # and none of it is part of the student
    assert not any(k.startswith('distill.') for k in model.state_dict())


def test_trainable_parameter_without_optimizer_is_refused(tmp_path):
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    model = build(reko_cfg(cyclegan_cfg(8), ckpt, 16, distill=GAN_COMPRESSION))
    with pytest.raises(ValueError,
                       match=r"(?s)trainable distillation parameters with no optimizer: "
                             r"distill\.terms\.gan_compression\.a_0\.connector\.weight"
                             r".*modules=\['generators', 'distill'\]"):
        step(model, batch(), optims(model))


def test_pix2pix_records_and_distills(tmp_path):
    ckpt, _ = teacher_ckpt(tmp_path, pix2pix_cfg(16))
    layer = [dict(student='model.model.1.model.0', teacher='model.model.1.model.0')]
    model = build(reko_cfg(pix2pix_cfg(8), ckpt, 16, layers=layer, student_type='Pix2Pix'))
    assert type(model) is TeacherStudentPix2Pix
    loss = model.distill.term('reko', 'photo').loss
    assert (loss.student_channels, loss.teacher_channels) == (16, 32)
    model.train()
    log = step(model, batch(('photo', 'mask')), optims(model))
    assert 'loss_reko_photo' in log and float(log['loss_reko_photo']) > 0


def _teacher_out(model, x):
    with torch.no_grad():
        return model.teacher['photo'](x)


@pytest.mark.parametrize('norm', ['batch', 'running'])
def test_pix2pix_teacher_mode_with_shipped_bn_dropout_unet(tmp_path, norm):
    """The shipped Pix2Pix UNet has BatchNorm and dropout: the teacher's BN statistics follow
    teacher.norm, dropout is off unless asked for, and its running statistics never change."""
    # num_down 6 (64 x 64 images) as the synthetic Pix2Pix config: one block with dropout
    ckpt, plain_teacher = teacher_ckpt(tmp_path, pix2pix_cfg(16, dropout=True, num_down=6))
    layer = [dict(student='model.model.1.model.0', teacher='model.model.1.model.0')]
    model = build(reko_cfg(pix2pix_cfg(8, dropout=True, num_down=6), ckpt, 16, layers=layer,
                           student_type='Pix2Pix', norm=norm))
    assert any(isinstance(m, torch.nn.Dropout) for m in model.teacher.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.teacher.modules())
    running = {k: v.clone() for k, v in model.teacher.state_dict().items() if 'running' in k}
    model.train()
    x = torch.randn(4, 3, 64, 64)
    out1, out2 = _teacher_out(model, x), _teacher_out(model, x)
    assert torch.equal(out1, out2), 'dropout is off: the teacher is deterministic'
    reference = copy.deepcopy(plain_teacher.generators['photo'])
    reference.eval()  # running statistics, no dropout
    if norm == 'batch':  # batch statistics, no dropout: as in training, minus dropout
        for m in reference.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.train()
    with torch.no_grad():
        expected = reference(x)
    assert torch.allclose(out1, expected, atol=1e-5)
    other_batch = torch.cat([x[:2], torch.randn(2, 3, 64, 64)])
    differs = not torch.allclose(_teacher_out(model, other_batch)[:2], out1[:2], atol=1e-5)
    assert differs == (norm == 'batch'), 'batch statistics depend on the batch'
    step(model, batch(('photo', 'mask'), n=4, size=64), optims(model))
    for k, v in model.teacher.state_dict().items():
        if 'running' in k:
            assert torch.equal(v, running[k]), f'{k} was updated'
    on = build(reko_cfg(pix2pix_cfg(8, dropout=True, num_down=6), ckpt, 16, layers=layer,
                        student_type='Pix2Pix', norm=norm, dropout=True))
    on.train()
    assert not torch.equal(_teacher_out(on, x), _teacher_out(on, x)), 'dropout=True samples'


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
    with pytest.raises(KeyError,
                       match=r"'model\.44' is not a submodule.*Closest valid names: 'model\.4'"):
        MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16, layers=['model.44']))
    missing = str(tmp_path / 'nope' / 'teacher.pth')
    with pytest.raises(FileNotFoundError, match=missing):
        MODELS.build(reko_cfg(cyclegan_cfg(8), missing, 16))
    with pytest.raises(ValueError, match=r'does not match.*shape mismatch: .*generators\.a\.model'
                                         r'\.0\.conv\.weight \(16, 3, 7, 7\) in the checkpoint vs '
                                         r'\(32, 3, 7, 7\) in the config'):
        MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 32))
    with pytest.raises(ValueError, match=r"student_type='StyleGAN2' is not supported.*"
                                         r"\['CycleGAN', 'Pix2Pix', 'Pix2PixHD'\]"):
        MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16, student_type='StyleGAN2'))
    with pytest.raises(ValueError, match=r"student layer 'model.1'.*teacher layer 'model.4'.*"
                                         r"same spatial size"):
        MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16,
                              layers=[dict(student='model.1', teacher='model.4')]))
    with pytest.raises(ValueError, match='model.teacher.ckpt is not set'):
        MODELS.build(reko_cfg(cyclegan_cfg(8), None, 16))
    other, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16, reachable_domains=['x', 'b'],
                                                     related_domains=['x', 'b']), 'other.pth')
    with pytest.raises(KeyError, match=r"no generator for domain 'a'.*\['b', 'x'\]"):
        MODELS.build(reko_cfg(cyclegan_cfg(8), other, 16))
    with pytest.raises(ValueError,
                       match=r"model.teacher.norm must be one of \('batch', 'running'\)"):
        MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16, norm='eval'))


def test_a_student_with_no_terms_that_only_starts_from_its_teacher(tmp_path, monkeypatch):
    """No distillation terms and model.student_init: the no-KD student, initialised from the
    teacher; it trains exactly as the plain Pix2Pix (the teacher never runs) and saves a plain
    checkpoint. Without student_init (and not a teacher-target model) no terms is refused."""
    from reko_mm.models import FrozenTeacher, init_student_from_teacher
    ckpt, _ = teacher_ckpt(tmp_path, pix2pix_cfg(16))
    cfg = reko_cfg(pix2pix_cfg(8), ckpt, 16, student_type='Pix2Pix', distill=dict(losses={}))
    with pytest.raises(ValueError, match='model.distill has no terms'):
        MODELS.build(cfg)
    from conftest import logged
    with logged() as out:
        model = build(dict(cfg, student_init=dict(rule='l1')))
    assert 'no distillation terms: the student trains as the plain Pix2Pix' in out.getvalue()
    assert not model.distill.terms
    ref = MODELS.build(pix2pix_cfg(8).get('generator'))
    init_student_from_teacher(ref, model.teacher['photo'], 'l1')
    for a, b in zip(model.generators['photo'].state_dict().values(), ref.state_dict().values()):
        assert torch.equal(a, b)
    # one step: the same losses and weights as the plain Pix2Pix from the same weights
    plain = MODELS.build(pix2pix_cfg(8))
    plain.load_state_dict(model.state_dict(), strict=True)

    def no_teacher(*args, **kwargs):
        raise AssertionError('the teacher ran')
    monkeypatch.setattr(FrozenTeacher, 'translate', no_teacher)
    model.train()
    plain.train()
    torch.manual_seed(5)
    log = step(model, batch(('photo', 'mask')), optims(model))
    torch.manual_seed(5)
    want = step(plain, batch(('photo', 'mask')), optims(plain))
    assert log.keys() == want.keys() and all(float(log[k]) == float(want[k]) for k in log)
    for (k, a), b in zip(model.state_dict().items(), plain.state_dict().values()):
        assert torch.equal(a, b), k


def test_a_unet_without_num_down_takes_mmagics_default(tmp_path):
    """MMagic's UnetGenerator defaults to num_down=8: a config that leaves it out builds (the
    build-time probe is 256x256), as MMagic would build it."""
    gen = unet(2)
    del gen['num_down']
    ckpt, _ = teacher_ckpt(tmp_path, pix2pix_cfg(4, num_down=8))
    student = pix2pix_cfg(2)
    student['generator'] = gen
    model = build(reko_cfg(student, ckpt, 4, student_type='Pix2Pix', layers=[
        dict(student='model.model.1', teacher='model.model.1')]))
    assert model.distill.probe_size == 256


def test_a_teacher_config_that_contradicts_its_checkpoint_names_what_the_file_says(tmp_path):
    """An imported teacher carries its own generator_cfg; a config overriding it with another
    architecture (an affine teacher for a non-affine one) is refused with both, and the fix."""
    from reko_mm.converters import JunyanzResnetGenerator, import_generator
    src = JunyanzResnetGenerator(ngf=16, num_blocks=3, norm='in')
    torch.save(src.state_dict(), str(tmp_path / 'g.pth'))
    teacher = str(tmp_path / 'teacher.pth')
    import_generator(str(tmp_path / 'g.pth'), teacher, 'b', log=lambda _: None)
    cfg = reko_cfg(cyclegan_cfg(8, reachable_domains=['b'], related_domains=['b', 'a']), teacher,
                   16, domains=['b'])
    cfg['teacher']['generator'] = dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                                       base_channels=16, norm_cfg=dict(type='IN', affine=True),
                                       num_blocks=3, padding_mode='reflect')
    with pytest.raises(ValueError, match=r"(?s)does not match.*the checkpoint's own "
                                         r"meta\['generator_cfg'\] says it is .*'norm_cfg': "
                                         r"\{'type': 'IN'\}.*overrides \['norm_cfg'\]: drop "
                                         r"model\.teacher\.generator"):
        MODELS.build(cfg)


def test_student_init_says_when_its_rule_ranks_nothing(tmp_path):
    """A non-affine InstanceNorm teacher (MMagic's CycleGAN default) has no scale: norm_scale
    falls back to the filter L1 norm, which the norm divides out; the log says so."""
    from conftest import logged
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    cfg = dict(reko_cfg(cyclegan_cfg(8), ckpt, 16), student_init=dict(rule='norm_scale'))
    with logged() as log:
        build(cfg)
    assert "student_init rule='norm_scale': 11 of the teacher's convolutions are followed by " \
           'an InstanceNorm without a scale' in log.getvalue()
    assert "rule='random'" in log.getvalue()
