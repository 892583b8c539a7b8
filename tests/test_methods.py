"""Every comparison-method config builds; on the synthetic sets each runs a training step through
MMagic's runner and logs its terms; learnable parts train and stay out of the student."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

import reko_mm  # noqa: F401
from mmagic.registry import MODELS
from mmengine.registry import init_default_scope

from conftest import ROOT

init_default_scope('mmagic')
METHODS = ['hinton', 'at', 'gan_compression', 'srpkd', 'cat', 'vid', 'omgd', 'gcc', 'reko_omgd',
           'reko_gcc']
SETTINGS = {  # config prefix: (teacher config, synthetic data fixture or None)
    'cyclegan_horse2zebra_7x': ('cyclegan_horse2zebra_teacher.py', None),
    'pix2pix_edges2shoes_4x': ('pix2pix_edges2shoes_teacher.py', None),
    'synthetic/cyclegan_synthetic_7x': ('synthetic/cyclegan_synthetic_teacher.py',
                                        'synthetic_unpaired'),
    'synthetic/pix2pix_synthetic_4x': ('synthetic/pix2pix_synthetic_teacher.py',
                                       'synthetic_paired'),
    'pix2pixhd_edges2shoes_28x': ('pix2pixhd_edges2shoes_teacher.py', None),
    'synthetic/pix2pixhd_synthetic_28x': ('synthetic/pix2pixhd_synthetic_teacher.py',
                                          'synthetic_paired'),
}
# What each method logs per domain (besides the model's own losses).
TERMS = {
    'hinton': ['hinton'], 'at': ['at'], 'gan_compression': ['gan_compression'],
    'srpkd': ['srpkd', 'srpkd_kd'], 'cat': ['cat'], 'vid': ['vid'],
    'omgd': ['omgd_ssim', 'omgd_tv', 'omgd_cd'],
    'gcc': ['gcc_gram', 'gcc_content', 'gcc_d_gram', 'gcc_d_content'],
    'reko_omgd': ['reko', 'omgd_ssim', 'omgd_tv', 'omgd_cd'],
    'reko_gcc': ['reko', 'gcc_gram', 'gcc_content', 'gcc_d_gram', 'gcc_d_content'],
}
LEARNABLE = {'gan_compression', 'vid', 'omgd', 'gcc', 'reko_omgd', 'reko_gcc'}


def config_path(setting, method):
    return osp.join(ROOT, 'configs', 'reko', f'{setting}_{method}.py')


def test_every_method_has_every_setting():
    found = {osp.relpath(p, osp.join(ROOT, 'configs', 'reko'))
             for p in glob.glob(osp.join(ROOT, 'configs', 'reko', '**', '*.py'), recursive=True)}
    for setting in SETTINGS:
        for method in METHODS:
            assert f'{setting}_{method}.py' in found


@pytest.fixture(scope='module')
def teacher_ckpts(tmp_path_factory):
    """A full-model checkpoint (generators and discriminators) of each setting's teacher."""
    from mmengine.runner import save_checkpoint
    out = {}
    work = tmp_path_factory.mktemp('teachers')
    for setting, (teacher_cfg, _) in SETTINGS.items():
        torch.manual_seed(0)
        model = MODELS.build(Config.fromfile(osp.join(ROOT, 'configs', 'reko', teacher_cfg)).model)
        path = str(work / (setting.replace('/', '_') + '.pth'))
        save_checkpoint({'state_dict': model.state_dict(), 'meta': {}}, path)
        out[setting] = path
        del model
    return out


@pytest.mark.parametrize('setting', ['cyclegan_horse2zebra_7x', 'pix2pix_edges2shoes_4x',
                                     'pix2pixhd_edges2shoes_28x'])
def test_real_data_method_configs_build(setting, teacher_ckpts):
    for method in METHODS:
        cfg = Config.fromfile(config_path(setting, method))
        assert cfg.model.type == 'TeacherStudentGAN'
        cfg.model.teacher.ckpt = teacher_ckpts[setting]
        model = MODELS.build(cfg.model)
        assert sorted(model.distill.terms) == sorted(TERMS[method]), method
        if method in LEARNABLE:
            assert model.distill.trainable_parameters(), method
            assert 'distill' in cfg.optim_wrapper.generators.modules
        if method == 'cat' and setting.startswith('cyclegan'):
            assert cfg.train_dataloader.batch_size >= 2
        del model


def _run_one_step(config, data_root, teacher, work_dir, options=None):
    from mmengine.runner import Runner
    from reko_mm.engine import add_checkpoint_hooks
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({'train_dataloader.dataset.data_root': data_root,
                         'train_dataloader.batch_size': 2, 'train_cfg.max_iters': 1,
                         'model.teacher.ckpt': teacher, 'default_hooks.logger.interval': 1,
                         'default_hooks.checkpoint.interval': 1, 'custom_hooks': [],
                         **(options or {})})
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = re.sub(r'\W', '_', str(work_dir))
    add_checkpoint_hooks(cfg)
    runner = Runner.from_cfg(cfg)
    model = runner.model
    before = {n: p.detach().clone() for n, p in model.distill.trainable_parameters()}
    log = {}

    from mmengine.hooks import Hook

    class KeepLog(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            log.update({k: float(v) for k, v in outputs.items()})
    runner.register_hook(KeepLog(), 'LOWEST')
    runner.train()
    after = dict(model.distill.trainable_parameters())
    changed = {n for n, p in after.items() if not torch.equal(p.detach(), before[n])}
    return model, log, changed, torch.load(osp.join(work_dir, 'iter_1.pth'), weights_only=False)


@pytest.mark.parametrize('method', METHODS)
@pytest.mark.parametrize('setting', ['synthetic/cyclegan_synthetic_7x',
                                     'synthetic/pix2pix_synthetic_4x',
                                     'synthetic/pix2pixhd_synthetic_28x'])
def test_method_trains_one_step_on_the_synthetic_set(setting, method, teacher_ckpts, request,
                                                     tmp_path):
    data = request.getfixturevalue(SETTINGS[setting][1])
    model, log, changed, ckpt = _run_one_step(config_path(setting, method), data,
                                              teacher_ckpts[setting], tmp_path)
    domains = model._reachable_domains
    for term in TERMS[method]:
        for d in domains:
            value = log[f'loss_{term}_{d}']
            assert value == value and abs(value) < 1e6, (term, d, value)  # finite
    if method in LEARNABLE:
        assert changed == {n for n, _ in model.distill.trainable_parameters()}
    # the checkpoint is the plain student; the distillation state has its own entry
    plain = MODELS.build(Config.fromfile(
        osp.join(ROOT, 'configs', 'reko', setting + '_nokd.py')).model)
    assert sorted(ckpt['state_dict']) == sorted(plain.state_dict())
    plain.load_state_dict(ckpt['state_dict'], strict=True)
    assert sorted(ckpt['distill']['state_dict']) == sorted(model.distill.state_dict())
    if 'omgd' in method:  # no VGG16 weights here: the two VGG terms are off, and labelled so
        assert ckpt['distill']['disabled_terms'].keys() == {'omgd_style', 'omgd_feature'}
        assert 'off: omgd_style, omgd_feature' in ckpt['distill']['label']


def test_omgd_vgg_terms_run_with_a_local_weights_file(synthetic_unpaired, teacher_ckpts,
                                                      tmp_path):
    """With a local VGG16 file the style and feature terms are on (random weights stand in for
    ImageNet's here: the loading code is what is tested)."""
    import torchvision
    features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs['D'])
    weights = tmp_path / 'vgg16_features.pth'
    torch.save({f'features.{k}': v for k, v in features.state_dict().items()}, weights)
    setting = 'synthetic/cyclegan_synthetic_7x'
    model, log, _, ckpt = _run_one_step(
        config_path(setting, 'omgd'), synthetic_unpaired, teacher_ckpts[setting],
        tmp_path / 'run', {'model.distill.feature_nets.vgg.weights': str(weights)})
    for term in ('omgd_style', 'omgd_feature'):
        for d in model._reachable_domains:
            assert log[f'loss_{term}_{d}'] > 0
    assert not ckpt['distill']['disabled_terms']
    assert not any(k.startswith('feature_nets.') for k in ckpt['distill']['state_dict'])
    vgg = model.distill.feature_nets['vgg'].features
    assert torch.equal(vgg[0].weight, features[0].weight)
    assert not any(p.requires_grad for p in vgg.parameters())


def test_gcc_needs_the_teacher_discriminator(tmp_path):
    from mmengine.runner import save_checkpoint
    setting = 'synthetic/cyclegan_synthetic_7x'
    teacher = MODELS.build(Config.fromfile(osp.join(
        ROOT, 'configs', 'reko', SETTINGS[setting][0])).model)
    generators_only = str(tmp_path / 'generators_only.pth')
    save_checkpoint({'state_dict': {k: v for k, v in teacher.state_dict().items()
                                    if k.startswith('generators.')}}, generators_only)
    cfg = Config.fromfile(config_path(setting, 'gcc'))
    cfg.model.teacher.ckpt = generators_only
    with pytest.raises(KeyError, match=r'has no discriminator for domain .*GCC reads the '
                                       r"teacher's discriminator"):
        MODELS.build(cfg.model)


def test_cat_refuses_batch_size_one(synthetic_unpaired, teacher_ckpts, tmp_path):
    setting = 'synthetic/cyclegan_synthetic_7x'
    with pytest.raises(ValueError, match=r'one image per process.*train_dataloader\.batch_size'):
        _run_one_step(config_path(setting, 'cat'), synthetic_unpaired, teacher_ckpts[setting],
                      tmp_path, {'train_dataloader.batch_size': 1})
