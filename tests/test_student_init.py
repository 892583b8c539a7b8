"""A student initialised from its teacher's most important channels (model.student_init): the
kept weights are the teacher's at the selected indices, checked against slices rebuilt here from
the state dicts' key layout (not from reko_mm's channel groups)."""
import re

import pytest
import torch

import reko_mm  # noqa: F401
from mmagic.registry import MODELS
from mmengine.registry import init_default_scope

from reko_mm.apis import student_config
from reko_mm.models.student_init import init_student_from_teacher
from test_distil_your_model import vintage_teacher, vintagify_cfg, photos  # noqa: F401
from test_import_generator import randomised

init_default_scope('mmagic')
AFFINE_IN = dict(type='IN', affine=True)


def resnet(ngf, norm=AFFINE_IN, blocks=2, dropout=False):
    return MODELS.build(dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                             base_channels=ngf, norm_cfg=norm, use_dropout=dropout,
                             num_blocks=blocks))


def pix2pixhd(ngf, blocks=1):
    return MODELS.build(dict(type='Pix2PixHDGenerator', base_channels=ngf, num_down=2,
                             num_blocks=blocks, norm_cfg=AFFINE_IN))


def unet(ngf, num_down=6, dropout=True):
    return MODELS.build(dict(type='UnetGenerator', in_channels=3, out_channels=3,
                             num_down=num_down, base_channels=ngf, norm_cfg=dict(type='BN'),
                             use_dropout=dropout))


def top(score, k, rule):
    assert rule in ('norm_scale', 'l1')
    return sorted(torch.sort(score, descending=True, stable=True).indices[:k].tolist())


def norm_key(sd, prefix, name):
    """mmcv's ConvModule names its norm after the type: ``in`` or ``bn``."""
    return next((k for k in (f'{prefix}.in.{name}', f'{prefix}.bn.{name}') if k in sd), None)


def out_score(sd, prefix, rule, transposed=False):
    """A conv's output-channel score, from its state-dict entries."""
    if rule == 'norm_scale' and norm_key(sd, prefix, 'weight'):
        return sd[norm_key(sd, prefix, 'weight')].abs()
    w = sd[f'{prefix}.conv.weight'].abs()
    return w.sum(dim=(0, 2, 3)) if transposed else w.sum(dim=(1, 2, 3))


def check_conv(t, s, prefix, out_idx, in_idx, transposed=False):
    w = t[f'{prefix}.conv.weight']
    o, i = torch.tensor(out_idx), torch.tensor(in_idx)
    want = w[i][:, o] if transposed else w[o][:, i]
    assert torch.equal(s[f'{prefix}.conv.weight'], want), prefix
    if f'{prefix}.conv.bias' in t:
        assert torch.equal(s[f'{prefix}.conv.bias'], t[f'{prefix}.conv.bias'][o]), prefix
    names = ('weight', 'bias', 'running_mean', 'running_var')
    keys = [norm_key(t, prefix, n) for n in names if norm_key(t, prefix, n)]
    for key in keys:
        assert torch.equal(s[key], t[key][o]), key


def expected_resnet(t, s, rule, num_down, blocks):
    """ResNet / Pix2PixHD keys: model.0 (7x7), model.1..num_down (down), blocks
    model.{num_down+1+b}.block.{0,1}, ups, then the 7x7 output: returns the expected index of
    every layer's output, the residual trunk shared by the last down and every block.1."""
    widths = {k: v.shape[0] for k, v in s.items() if k.endswith('conv.weight')}
    first, last = num_down + 1, num_down + blocks
    trunk_prefixes = [f'model.{num_down}'] + [f'model.{b}.block.1' for b in
                                              range(first, last + 1)]
    trunk = sum(out_score(t, p, rule) for p in trunk_prefixes)
    trunk_idx = top(trunk, widths[f'model.{num_down}.conv.weight'], rule)
    layers = []
    prev = list(range(3))
    for i in range(num_down):  # 7x7 and downs
        p = f'model.{i}'
        idx = top(out_score(t, p, rule), widths[f'{p}.conv.weight'], rule)
        layers.append((p, idx, prev, False))
        prev = idx
    layers.append((f'model.{num_down}', trunk_idx, prev, False))
    for b in range(first, last + 1):
        p0 = f'model.{b}.block.0'
        inner = top(out_score(t, p0, rule), widths[f'{p0}.conv.weight'], rule)
        layers += [(p0, inner, trunk_idx, False), (f'model.{b}.block.1', trunk_idx, inner, False)]
    prev = trunk_idx
    for i in range(last + 1, last + 1 + num_down):  # ups: ConvTranspose2d, weight [in, out]
        p = f'model.{i}'
        n = s[f'{p}.conv.weight'].shape[1]
        idx = top(out_score(t, p, rule, transposed=True), n, rule)
        layers.append((p, idx, prev, True))
        prev = idx
    layers.append((f'model.{last + 1 + num_down}', list(range(3)), prev, False))
    return layers


@pytest.mark.parametrize('rule', ['norm_scale', 'l1'])
@pytest.mark.parametrize('kind', ['resnet', 'pix2pixhd'])
def test_resnet_students_hold_the_teachers_weights_at_the_selected_channels(kind, rule):
    # widths that do not divide evenly: 16 -> 6 (trunk 64 -> 24), 8 -> 3 (trunk 32 -> 12)
    teacher, student = (randomised(resnet(16)), resnet(6)) if kind == 'resnet' else \
        (randomised(pix2pixhd(8)), pix2pixhd(3))
    report = init_student_from_teacher(student, teacher, rule)
    t, s = teacher.state_dict(), student.state_dict()
    num_down, blocks = (2, 2) if kind == 'resnet' else (2, 1)
    layers = expected_resnet(t, s, rule, num_down, blocks)
    for prefix, out_idx, in_idx, transposed in layers:
        check_conv(t, s, prefix, out_idx, in_idx, transposed)
    assert report['trunk']['kept'] == s[f'model.{num_down}.conv.weight'].shape[0]
    if rule == 'norm_scale':  # the kept channels hold more than their share of the |scale|
        assert report['trunk']['score_share'] > report['trunk']['kept'] / report['trunk']['of']


def test_unet_skips_keep_one_channel_set_on_both_sides():
    rule = 'norm_scale'
    teacher, student = randomised(unet(8)), unet(5)
    init_student_from_teacher(student, teacher, rule)
    t, s = teacher.state_dict(), student.state_dict()
    # block b's prefix: model + '.model.1' * b; its down conv at .model.0, up at .model.2
    # (the innermost's at .model.1); num_down 6: blocks 0..5
    n = 6
    prefixes = ['model' + '.model.1' * b for b in range(n)]
    down, up = {}, {}
    for b, p in enumerate(prefixes):
        k = s[f'{p}.model.0.conv.weight'].shape[0]
        down[b] = top(out_score(t, f'{p}.model.0', rule), k, rule)
    for b in range(n - 1, -1, -1):
        p = prefixes[b]
        u = f'{p}.model.{1 if b == n - 1 else 2}'
        k = s[f'{u}.conv.weight'].shape[1]
        up[b] = list(range(3)) if b == 0 else top(out_score(t, u, rule, transposed=True), k,
                                                  rule)
        # the up conv reads cat(down_b, up_{b+1}): the teacher's offsets of the second part
        t_down = t[f'{p}.model.0.conv.weight'].shape[0]
        reads = down[b] + ([] if b == n - 1 else [t_down + i for i in up[b + 1]])
        check_conv(t, s, u, up[b], reads, transposed=True)
        check_conv(t, s, f'{p}.model.0', down[b], list(range(3)) if b == 0 else down[b - 1])
    # BatchNorm running statistics come along
    key = f'{prefixes[1]}.model.0.bn.running_var'
    assert torch.equal(s[key], t[key][torch.tensor(down[1])])


@pytest.mark.parametrize('make', [resnet, unet])
def test_a_student_of_the_teachers_width_is_the_teacher(make):
    teacher, student = randomised(make(8)).eval(), make(8).eval()
    init_student_from_teacher(student, teacher, 'norm_scale')
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(student(x), teacher(x))


def test_random_rule_is_seeded_and_differs_from_the_importance_rules():
    teacher = randomised(resnet(16))
    a, b, c = resnet(6), resnet(6), resnet(6)
    ra = init_student_from_teacher(a, teacher, 'random', seed=1)
    rb = init_student_from_teacher(b, teacher, 'random', seed=1)
    rc = init_student_from_teacher(c, teacher, 'random', seed=2)
    assert ra == rb and ra['trunk']['indices'] != rc['trunk']['indices']
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values()))
    rn = init_student_from_teacher(resnet(6), teacher, 'norm_scale')
    assert rn['trunk']['indices'] != ra['trunk']['indices']


def test_students_that_cannot_be_sliced_from_the_teacher_are_refused():
    teacher = randomised(resnet(8, blocks=3))
    cases = [
        (unet(4), "not supported|not the teacher's architecture"),
        (resnet(4, blocks=2), "not the teacher's architecture"),
        (resnet(16, blocks=3), 'wider than its teacher'),
        (resnet(4, norm=dict(type='BN'), blocks=3), 'bias in only one|normalised by'),
        (resnet(4, norm=dict(type='IN'), blocks=3), r"affine=True\), as the teacher's\): that "
                                                    r'adds [\d,]+ parameters'),
    ]
    for student, match in cases:
        with pytest.raises(ValueError, match=match):
            init_student_from_teacher(student, teacher, 'norm_scale')
    with pytest.raises(ValueError, match='must be one of'):
        init_student_from_teacher(resnet(4, blocks=3), teacher, 'largest')
    with pytest.raises(ValueError, match='not supported'):
        init_student_from_teacher(torch.nn.Conv2d(3, 3, 1), teacher, 'l1')


def test_student_init_survives_init_weights_trains_and_saves_a_plain_student(
        photos, vintage_teacher, tmp_path):  # noqa: F811
    from test_distil_your_model import run
    teacher, _ = vintage_teacher
    cfg = vintagify_cfg('vintagify_7x.py', photos, teacher, tmp_path, iters=1,
                        **{'model.student_init': dict(rule='norm_scale')})
    from conftest import logged
    with logged() as out:
        model = MODELS.build(cfg.model)
    assert re.search(r'student photo -> vintage initialised from the teacher \(norm_scale, seed '
                     r'0\): channels kept: 4/8 \(2 groups, \d+ % of the \|scale\|\)',
                     out.getvalue()), out.getvalue()
    model.init_weights()  # MMagic's generators re-draw their weights here
    ref = MODELS.build(dict(cfg.model.generator))
    init_student_from_teacher(ref, model.teacher['vintage'], 'norm_scale')
    got = model.get_module(model.generators)['vintage']
    assert all(torch.equal(a, b) for a, b in zip(got.state_dict().values(),
                                                  ref.state_dict().values()))
    runner, logs, _ = run(cfg)
    assert len(logs) == 1 and logs[0]['loss_pixel'] > 0
    ckpt = torch.load(str(tmp_path / 'iter_1.pth'), map_location='cpu', weights_only=False)
    plain = MODELS.build(student_config(runner.cfg).model)
    plain.load_state_dict(ckpt['state_dict'], strict=True)
    with pytest.raises(ValueError, match='unknown keys in model.student_init'):
        MODELS.build(dict(cfg.model, student_init=dict(rule='l1', channels=3)))


def _planted(teacher, student, seed=0):
    """Zero the teacher outside one random channel set per group (the set the student's width
    holds), and make the kept norm scales the largest: the teacher then computes only with
    those channels, and a student sliced from it must compute exactly what it does."""
    from torch.nn.modules.batchnorm import _BatchNorm

    from reko_mm.models.student_init import IMAGE_GROUPS, _out_dim, generator_layers
    gen = torch.Generator().manual_seed(seed)
    widths = {s.writes: s.conv.weight.shape[_out_dim(s.conv)] for s in generator_layers(student)}
    layers = generator_layers(teacher)
    keep = {}
    with torch.no_grad():
        for layer in layers:
            if layer.writes in IMAGE_GROUPS:
                continue
            dim = _out_dim(layer.conv)
            n = layer.conv.weight.shape[dim]
            if layer.writes not in keep:
                keep[layer.writes] = torch.randperm(n, generator=gen)[:widths[layer.writes]]
            drop = torch.tensor(sorted(set(range(n)) - set(keep[layer.writes].tolist())))
            layer.conv.weight.index_fill_(dim, drop, 0.0)
            if layer.conv.bias is not None:
                layer.conv.bias[drop] = 0.0
            norm = layer.norm
            if norm is not None and getattr(norm, 'weight', None) is not None:
                norm.weight[drop] = 0.0
                norm.bias[drop] = 0.0
                norm.weight[keep[layer.writes]] = norm.weight[keep[layer.writes]].abs() + 0.5
            if isinstance(norm, _BatchNorm):
                norm.running_var[drop] = 1.0
    return keep


@pytest.mark.parametrize('kind', ['resnet_in_affine', 'resnet_in', 'resnet_bn', 'unet_bn',
                                  'unet_in', 'pix2pixhd'])
def test_a_teacher_computing_with_the_kept_channels_only_is_reproduced_exactly(kind):
    """Catches what index checks cannot: a wrong offset into a concatenation, a wrong
    dimension of a transposed convolution, a norm sliced at other channels than its conv."""
    norms = {'resnet_in_affine': AFFINE_IN, 'resnet_in': dict(type='IN'),
             'resnet_bn': dict(type='BN')}
    if kind.startswith('resnet'):
        teacher, student = (randomised(resnet(w, norm=norms[kind])) for w in (8, 3))
        side = 32
    elif kind == 'pix2pixhd':
        teacher, student = randomised(pix2pixhd(8)), pix2pixhd(3)
        side = 32
    else:
        norm = dict(type='BN') if kind == 'unet_bn' else dict(type='IN')

        def make(w):
            return MODELS.build(dict(type='UnetGenerator', in_channels=3, out_channels=3,
                                     num_down=5, base_channels=w, norm_cfg=norm,
                                     use_dropout=True))
        teacher, student = randomised(make(8), side=32), make(3)
        side = 32
    keep = _planted(teacher, student)
    report = init_student_from_teacher(student, teacher, rule='norm_scale')
    for group, r in report.items():
        assert r['indices'] == sorted(keep[group].tolist()), group
    x = torch.rand(2, 3, side, side) * 2 - 1
    teacher.eval(), student.eval()
    with torch.no_grad():
        assert torch.allclose(student(x), teacher(x), atol=1e-5)
