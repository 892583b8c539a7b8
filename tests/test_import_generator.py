"""import_generator: the layouts users bring, converted exactly, in MMagic's colour order, and
every file it should refuse refused before anything is written."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn

import reko_mm  # noqa: F401
from mmagic.registry import MODELS
from mmengine.registry import init_default_scope

from conftest import run_tool
from reko_mm.converters import (GeneratorImportError, JunyanzResnetGenerator,
                                JunyanzUnetGenerator, import_generator)

init_default_scope('mmagic')


def randomised(net: nn.Module, seed: int = 0, side: int = 64) -> nn.Module:
    """``net`` with random weights everywhere, norm scales included, so that a wrongly paired
    layer or a wrong channel order shows in the output; BatchNorm statistics are those of
    random inputs (as a trained network's fit its activations)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if t.dtype.is_floating_point and not name.endswith(('running_mean', 'running_var')):
                values = torch.randn(t.shape, generator=gen) * 0.2
                if name.endswith('weight') and t.dim() == 1:
                    values = values + 1.0
                t.copy_(values)
        bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
        if bns:
            for m in bns:
                m.momentum = None  # cumulative average
            net.train()
            for _ in range(3):
                net(torch.rand(4, 3, side, side, generator=gen) * 2 - 1)
            for m in bns:
                m.momentum = 0.1
    return net.eval()


def save(tmp_path, obj, name='G.pth'):
    path = str(tmp_path / name)
    torch.save(obj, path)
    return path


def converted(out: str, domain: str = 'zebra') -> nn.Module:
    ckpt = torch.load(out, map_location='cpu', weights_only=True)
    net = MODELS.build(ckpt['meta']['generator_cfg'])
    prefix = f'generators.{domain}.'
    net.load_state_dict({k[len(prefix):]: v for k, v in ckpt['state_dict'].items()},
                        strict=True)
    return net.eval()


# The key names of checkpoint-formats.md, which pin the rebuilt layouts to the real files.
LAYOUTS = {
    'resnet_in': (lambda: JunyanzResnetGenerator(ngf=8, num_blocks=9, norm='in'),
                  ['model.1.weight', 'model.1.bias', 'model.10.conv_block.1.weight',
                   'model.10.conv_block.5.weight', 'model.19.weight', 'model.22.weight',
                   'model.26.weight']),
    'resnet_in_dropout_slot': (
        lambda: JunyanzResnetGenerator(ngf=8, num_blocks=3, norm='in', dropout_slot=True),
        ['model.10.conv_block.6.weight', 'model.13.weight', 'model.20.weight']),
    'resnet_bn': (lambda: JunyanzResnetGenerator(ngf=8, num_blocks=2, norm='bn'),
                  ['model.2.running_mean', 'model.10.conv_block.2.weight',
                   'model.10.conv_block.6.running_var', 'model.13.weight', 'model.19.weight']),
    'vintagify': (lambda: JunyanzResnetGenerator(ngf=8, num_blocks=9, norm='in_affine',
                                                 block_attr='block'),
                  ['model.2.weight', 'model.10.block.1.weight', 'model.10.block.2.weight',
                   'model.10.block.5.weight', 'model.10.block.6.bias', 'model.20.weight',
                   'model.23.bias', 'model.26.weight']),
    'unet_bn_dropout': (lambda: JunyanzUnetGenerator(num_downs=6, ngf=4, norm='bn',
                                                     use_dropout=True),
                        ['model.model.0.weight', 'model.model.3.bias',
                         'model.model.1.model.1.weight', 'model.model.1.model.2.running_mean',
                         'model.model.1.model.3.model.1.weight', 'model.model.1.model.5.weight',
                         'model.model.1.model.6.weight',
                         'model.model.1.model.3.model.3.model.3.model.3.model.3.weight',
                         'model.model.1.model.3.model.3.model.3.model.3.model.4.weight']),
    'unet_in': (lambda: JunyanzUnetGenerator(num_downs=5, ngf=4, norm='in'),
                ['model.model.0.bias', 'model.model.1.model.1.bias']),
}


@pytest.mark.parametrize('layout', sorted(LAYOUTS))
def test_junyanz_layouts_round_trip_exactly(layout, tmp_path):
    make, documented_keys = LAYOUTS[layout]
    source = randomised(make())
    state = source.state_dict()
    assert set(documented_keys) <= set(state), sorted(set(documented_keys) - set(state))
    out = str(tmp_path / 'teacher.pth')
    lines = []
    meta = import_generator(save(tmp_path, state), out, 'zebra', log=lines.append)
    assert 'detected' in lines[0] and meta['max_abs_diff'] <= 1e-4
    net = converted(out)
    assert sum(p.numel() for p in net.parameters()) == \
        sum(p.numel() for p in source.parameters())
    side = 2**meta['generator_cfg']['num_down'] if 'unet' in layout else 32
    x = torch.rand(2, 3, side, side, generator=torch.Generator().manual_seed(3)) * 2 - 1
    with torch.no_grad():
        expected = source(x.clone())
        got = net(x.flip(1)).flip(1)  # BGR in, BGR out
    assert (expected - got).abs().max() < 1e-4


def test_the_colour_order_is_mmagics_bgr_on_a_red_and_blue_image(tmp_path):
    """A photo saved to disk, read by MMagic's loader (BGR) into the converted generator, gives
    the BGR image of the original generator's output for the same photo read as RGB."""
    from mmagic.datasets.transforms import LoadImageFromFile
    img_rgb = np.zeros((32, 32, 3), np.uint8)
    img_rgb[:, :16, 0] = 255  # red left half
    img_rgb[:, 16:, 2] = 255  # blue right half
    img_rgb[8:24, 8:24, 1] = 128
    photo = str(tmp_path / 'photo.png')
    cv2.imwrite(photo, img_rgb[..., ::-1])
    source = randomised(JunyanzResnetGenerator(ngf=8, num_blocks=2, norm='in_affine'))
    src = save(tmp_path, source.state_dict())

    def as_input(hwc):
        return torch.from_numpy(np.ascontiguousarray(hwc)).permute(2, 0, 1)[None].float() \
            / 127.5 - 1

    bgr = LoadImageFromFile(key='img')(dict(img_path=photo))['img']
    assert (bgr[:, :16, 2] == 255).all()  # MMagic reads BGR: red is the last channel
    with torch.no_grad():
        want_rgb = source(as_input(img_rgb))[0].permute(1, 2, 0).numpy()
        for order, fed in (('bgr', bgr), ('rgb', img_rgb)):
            out = str(tmp_path / f'{order}.pth')
            import_generator(src, out, 'zebra', channel_order=order, log=lambda _: None)
            got = converted(out)(as_input(fed))[0].permute(1, 2, 0).numpy()
            if order == 'bgr':
                got = got[..., ::-1]
            assert np.abs(got - want_rgb).max() < 1e-4, order
        # and the colour order matters for this image: BGR fed unconverted is another picture
        assert np.abs(source(as_input(bgr))[0].permute(1, 2, 0).numpy()[..., ::-1]
                      - want_rgb).max() > 0.05


def test_mmagic_keys_and_old_files_are_read(tmp_path):
    # MMagic's own generator keys: BGR already, kept as they are
    mm = randomised(MODELS.build(dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                                      base_channels=8, norm_cfg=dict(type='IN', affine=True),
                                      num_blocks=2)))
    out = str(tmp_path / 'mm.pth')
    lines = []
    meta = import_generator(save(tmp_path, mm.state_dict(), 'mm_G.pth'), out, 'zebra',
                            log=lines.append)
    assert meta['layout'] == 'MMagic ResnetGenerator' and meta['source_channel_order'] == 'bgr'
    assert any('weights kept as they are' in line for line in lines)
    for k, v in converted(out).state_dict().items():
        assert torch.equal(v, mm.state_dict()[k]), k
    # a DataParallel prefix, and the InstanceNorm buffers an old PyTorch saved
    source = randomised(JunyanzResnetGenerator(ngf=8, num_blocks=2, norm='in'))
    state = {f'module.{k}': v for k, v in source.state_dict().items()}
    state['module.model.2.running_mean'] = torch.zeros(8)
    state['module.model.2.running_var'] = torch.ones(8)
    lines = []
    import_generator(save(tmp_path, state, 'old.pth'), str(tmp_path / 'old_out.pth'), 'zebra',
                     log=lines.append)
    assert any('dropped 2 InstanceNorm running-statistics buffers' in line for line in lines)
    # BatchNorm without num_batches_tracked (files of PyTorch < 0.4.1)
    bn = randomised(JunyanzUnetGenerator(num_downs=5, ngf=4, norm='bn'))
    state = {k: v for k, v in bn.state_dict().items() if not k.endswith('num_batches_tracked')}
    lines = []
    import_generator(save(tmp_path, state, 'bn.pth'), str(tmp_path / 'bn_out.pth'), 'photo',
                     log=lines.append)
    assert any('added' in line and 'num_batches_tracked' in line for line in lines)


def test_a_training_state_gives_its_one_generator_or_names_the_choices(tmp_path):
    g_a = randomised(JunyanzResnetGenerator(ngf=8, num_blocks=2), seed=1)
    g_b = randomised(JunyanzResnetGenerator(ngf=8, num_blocks=2), seed=2)
    opt = torch.optim.Adam(g_a.parameters())
    g_a(torch.zeros(1, 3, 16, 16)).mean().backward()
    opt.step()
    one = save(tmp_path, dict(epoch=3, netG_A=g_a.state_dict(), optimizer=opt.state_dict()),
               'one.pth')
    lines = []
    meta = import_generator(one, str(tmp_path / 'one_out.pth'), 'zebra', log=lines.append)
    assert meta['source_key'] == 'netG_A'
    assert any('also holds' in line for line in lines)
    two = save(tmp_path, dict(epoch=3, netG_A=g_a.state_dict(), netG_B=g_b.state_dict()),
               'two.pth')
    with pytest.raises(GeneratorImportError, match=r"holds 2 generators: 'netG_A' .*'netG_B'.*"
                                                   r'--key'):
        import_generator(two, str(tmp_path / 'two_out.pth'), 'zebra')
    assert not osp.exists(tmp_path / 'two_out.pth')
    import_generator(two, str(tmp_path / 'two_b.pth'), 'horse', key='netG_B',
                     log=lambda _: None)
    with torch.no_grad():
        # rounding alone reaches 1.5e-5 here (instance norm of a 16x16 map, channels summed in
        # another order); another generator or channel order is off by tenths
        x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
        assert torch.allclose(converted(str(tmp_path / 'two_b.pth'), 'horse')(x.flip(1)).flip(1),
                              g_b.eval()(x), atol=1e-4)
    # a whole MMagic CycleGAN checkpoint: one generator per domain
    cyc = MODELS.build(dict(
        type='CycleGAN', data_preprocessor=dict(type='DataPreprocessor'),
        generator=dict(type='ResnetGenerator', in_channels=3, out_channels=3, base_channels=8,
                       num_blocks=2),
        discriminator=dict(type='PatchDiscriminator', in_channels=3, base_channels=8,
                           num_conv=3, norm_cfg=dict(type='IN')),
        default_domain='b', reachable_domains=['a', 'b'], related_domains=['a', 'b']))
    full = save(tmp_path, dict(state_dict=cyc.state_dict(), meta={}), 'cyclegan.pth')
    with pytest.raises(GeneratorImportError, match=r"'state_dict/generators.a'.*--key"):
        import_generator(full, str(tmp_path / 'c.pth'), 'b')
    meta = import_generator(full, str(tmp_path / 'c.pth'), 'b', key='state_dict/generators.b',
                            log=lambda _: None)
    assert meta['layout'] == 'MMagic ResnetGenerator'


def test_files_it_does_not_recognise_are_refused_before_anything_is_written(tmp_path):
    out = tmp_path / 'never.pth'
    good = randomised(JunyanzResnetGenerator(ngf=8, num_blocks=2)).state_dict()
    cases = []
    # a discriminator given as the generator (junyanz's NLayerDiscriminator layout)
    disc = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(8, 16, 4, 2, 1),
                         nn.InstanceNorm2d(16), nn.LeakyReLU(0.2), nn.Conv2d(16, 1, 4, 1, 1))
    cases.append(({f'model.{k}': v for k, v in disc.state_dict().items()},
                  r'not a generator: .*PatchGAN discriminator.*model\.5\.weight'))
    # a truncated state dict: the last layers are gone
    cases.append(({k: v for k, v in good.items() if not k.startswith('model.19')},
                  r'Closest: junyanz ResnetGenerator: keys it lacks: \[.model\.19\.weight'))
    # a foreign network
    cases.append((nn.Linear(4, 2).state_dict(), r'no layout recognised .*Known layouts'))
    # a wrong shape
    bad = dict(good)
    bad['model.11.conv_block.1.weight'] = torch.zeros(16, 32, 3, 3)
    cases.append((bad, r'shapes that did not fit: .*model\.11\.conv_block\.1\.weight'))
    for i, (state, message) in enumerate(cases):
        with pytest.raises(GeneratorImportError, match=message):
            import_generator(save(tmp_path, state, f'case{i}.pth'), str(out), 'zebra')
    # a file cut short on disk
    whole = open(save(tmp_path, good, 'whole.pth'), 'rb').read()
    cut = tmp_path / 'cut.pth'
    cut.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(GeneratorImportError, match='could not read .* truncated'):
        import_generator(str(cut), str(out), 'zebra')
    # a pickled module is not unpickled
    with pytest.raises(GeneratorImportError, match='holds objects that only code could build'):
        import_generator(save(tmp_path, JunyanzResnetGenerator(ngf=8, num_blocks=1),
                              'module.pth'), str(out), 'zebra')
    assert not out.exists()
    # what the user had is never overwritten
    out.write_text('mine')
    with pytest.raises(FileExistsError, match='does not overwrite'):
        import_generator(save(tmp_path, good, 'good.pth'), str(out), 'zebra')
    assert out.read_text() == 'mine'
    with pytest.raises(GeneratorImportError, match='--domain'):
        import_generator(save(tmp_path, good, 'good.pth'), str(tmp_path / 'x.pth'), 'a b')


VINTAGIFY = importlib.util.find_spec('vintagify')


@pytest.mark.skipif(VINTAGIFY is None, reason='vintagify is not installed (tools/setup_env.sh '
                    'installs it with --no-deps)')
def test_the_real_vintagify_teacher_through_the_command_line(tmp_path):
    src = osp.join(VINTAGIFY.submodule_search_locations[0], 'resources', 'G_A2B_epoch33.pth')
    out = tmp_path / 'vintagify_vintage.pth'
    proc = run_tool(['tools/model_converters/import_generator.py', src, str(out),
                     '--domain', 'vintage'], timeout=300, fresh=True)
    assert 'detected vintagify ResnetGenerator: ngf 64, 9 residual blocks, InstanceNorm ' \
           '(affine)' in proc.stdout
    ckpt = torch.load(str(out), map_location='cpu', weights_only=True)
    assert ckpt['meta']['params'] == 11_388_675 and ckpt['meta']['max_abs_diff'] < 1e-5
    assert ckpt['meta']['generator_cfg']['norm_cfg'] == dict(type='IN', affine=True)
    again = run_tool(['tools/model_converters/import_generator.py', src, str(out),
                      '--domain', 'vintage'], check=False)
    assert again.returncode != 0 and 'does not overwrite' in again.stdout


def _mmagic_generator(kind):
    from reko_mm.models.generators import build_generator
    if kind == 'resnet':
        cfg = dict(type='ResnetGenerator', in_channels=3, out_channels=3, base_channels=8,
                   norm_cfg=dict(type='IN', affine=True), use_dropout=False, num_blocks=2,
                   padding_mode='reflect')
    else:
        cfg = dict(type='UnetGenerator', in_channels=3, out_channels=3, num_down=6,
                   base_channels=4, norm_cfg=dict(type='BN'), use_dropout=True)
    return randomised(build_generator(cfg))


# every layout docs/distill_your_model.md lists, as a user's file
CLI_LAYOUTS = dict(LAYOUTS, **{
    'pix2pix_unet_256': (lambda: JunyanzUnetGenerator(num_downs=8, ngf=8, norm='bn',
                                                      use_dropout=True), []),
    'unet_in_dropout': (lambda: JunyanzUnetGenerator(num_downs=7, ngf=4, norm='in',
                                                     use_dropout=True), []),
    'mmagic_resnet': (lambda: _mmagic_generator('resnet'), []),
    'mmagic_unet': (lambda: _mmagic_generator('unet'), []),
})


@pytest.mark.parametrize('layout', sorted(CLI_LAYOUTS))
def test_every_documented_layout_through_the_command_line(layout, tmp_path):
    """As a user runs it: a new interpreter, MMagic's registry scope not set by anything else
    (a pix2pix UNet once failed there: 'Cannot find None in registry')."""
    src = save(tmp_path, CLI_LAYOUTS[layout][0]().state_dict())
    out = tmp_path / 'teacher.pth'
    proc = run_tool(['tools/model_converters/import_generator.py', src, str(out),
                     '--domain', 'photo'], timeout=300, fresh=True)
    assert 'verified: ' in proc.stdout and 'max |source - converted|' in proc.stdout, \
        proc.stdout[-3000:]
    meta = torch.load(str(out), map_location='cpu', weights_only=True)['meta']
    assert meta['max_abs_diff'] <= 1e-4 and meta['generator_cfg']['type'] in (
        'ResnetGenerator', 'UnetGenerator')


@pytest.mark.parametrize('norm', ['bn', 'in'])
@pytest.mark.parametrize('dropout', [False, True])
def test_unets_of_every_depth_that_fits_convert_exactly(norm, dropout, tmp_path):
    """num_downs 5 (the least junyanz builds) to 9 (unet_512), BN and IN, with and without
    dropout: converted and verified, the depth and the dropout in the generator config."""
    for num_downs in range(5, 10):
        source = randomised(JunyanzUnetGenerator(num_downs=num_downs, ngf=2, norm=norm,
                                                 use_dropout=dropout), side=2**num_downs)
        out = tmp_path / f'unet{num_downs}.pth'
        meta = import_generator(save(tmp_path, source.state_dict(), f'src{num_downs}.pth'),
                                str(out), 'photo', log=lambda _: None)
        assert meta['generator_cfg']['num_down'] == num_downs
        assert meta['max_abs_diff'] <= 1e-4, num_downs


@pytest.mark.skipif(VINTAGIFY is None, reason='vintagify is not installed (tools/setup_env.sh '
                    'installs it with --no-deps)')
def test_the_imported_vintagify_teacher_computes_what_vintagifys_own_network_does(tmp_path):
    """The self-check rebuilds vintagify's layout from its state dict; padding and activations
    cannot be seen in a state dict. So, once, against the wheel's own network (its
    generator.py, loaded alone: the package's other modules need what --no-deps left out)."""
    folder = VINTAGIFY.submodule_search_locations[0]
    spec = importlib.util.spec_from_file_location('vintagify_generator',
                                                  osp.join(folder, 'generator.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    theirs = module.ResnetGenerator()
    weights = osp.join(folder, 'resources', 'G_A2B_epoch33.pth')
    theirs.load_state_dict(torch.load(weights, map_location='cpu', weights_only=True))
    out = tmp_path / 'teacher.pth'
    import_generator(weights, str(out), 'vintage', log=lambda _: None)
    ours = converted(str(out), 'vintage')
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        want = theirs.eval()(x)  # RGB in, RGB out
        got = ours(x.flip(1)).flip(1)  # the imported teacher takes and gives BGR
    assert (want - got).abs().max() < 1e-4
