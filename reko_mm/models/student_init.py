"""A student that starts from its teacher: the narrow generator's weights sliced from the
teacher's most important channels (``model.student_init``).

Each generator is read as a list of convolutions, each writing one *channel group* and reading
one group or a concatenation of groups. Layers that write the same group share one channel
set: the residual trunk of a ResNet / Pix2PixHD generator (the last down-sampling and the second
convolution of every residual block are added together), and a UNet's skip connections (the
up-convolution reads ``cat(down output, inner up output)``). A group's channels are scored by a
rule, the student's width of them kept (in the teacher's order), and every convolution, its bias
and its norm sliced at the kept indices: a kept weight is the teacher's weight.

Rules:

- ``'norm_scale'`` (network slimming, Liu et al. 2017): ``|gamma|`` of the norm after each
  convolution writing the group, summed over those convolutions; a convolution without an
  affine norm scores its output channels by the L1 norm of their filters instead.
- ``'l1'`` (Li et al. 2017): the L1 norm of the filters writing each channel, summed.
- ``'random'``: a random channel set (seeded), the control.

The image channels (the first layer's input, the last layer's output) are kept whole.
"""
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

STUDENT_INIT_RULES = ('norm_scale', 'l1', 'random')
STUDENT_INIT_KEYS = ('rule', 'seed')
IMAGE_GROUPS = ('in', 'out')


@dataclass
class Layer:
    """One convolution of a generator: the group it writes and the groups it reads."""
    name: str
    conv: nn.Module  # nn.Conv2d or nn.ConvTranspose2d
    norm: Optional[nn.Module]
    reads: Tuple[str, ...]
    writes: str


def _conv_module(name: str, module: nn.Module, reads: Sequence[str], writes: str) -> Layer:
    """A Layer of an mmcv ``ConvModule``."""
    norm = getattr(module, 'norm', None) if getattr(module, 'with_norm', False) else None
    return Layer(name, module.conv, norm, tuple(reads), writes)


def _sequential_resnet_layers(gen: nn.Module) -> List[Layer]:
    """MMagic's ResnetGenerator and reko-mm's Pix2PixHDGenerator: ``gen.model`` holds
    ConvModules, then ResidualBlockWithDropouts (the trunk), then ConvModules."""
    from mmagic.models.editors.cyclegan.cyclegan_modules import ResidualBlockWithDropout
    from mmcv.cnn import ConvModule

    mods = list(gen.model)
    first_block = next((i for i, m in enumerate(mods)
                        if isinstance(m, ResidualBlockWithDropout)), None)
    layers: List[Layer] = []
    group = 'in'
    for i, m in enumerate(mods):
        name = f'model.{i}'
        if isinstance(m, ResidualBlockWithDropout):
            convs = [(j, c) for j, c in enumerate(m.block) if isinstance(c, ConvModule)]
            (j1, c1), (j2, c2) = convs
            layers.append(_conv_module(f'{name}.block.{j1}', c1, ['trunk'], f'block{i}'))
            layers.append(_conv_module(f'{name}.block.{j2}', c2, [f'block{i}'], 'trunk'))
            group = 'trunk'
        elif isinstance(m, ConvModule):
            if i == len(mods) - 1:
                writes = 'out'
            elif first_block is not None and i == first_block - 1:
                writes = 'trunk'
            else:
                writes = f'layer{i}'
            layers.append(_conv_module(name, m, [group], writes))
            group = writes
        else:
            raise ValueError(f'{type(gen).__name__}.model.{i} is a {type(m).__name__}, which '
                             'student_init does not know how to slice')
    return layers


def _unet_layers(gen: nn.Module) -> List[Layer]:
    """MMagic's UnetGenerator: nested UnetSkipConnectionBlocks; block b's down convolution
    writes ``down{b}``; its up convolution reads ``cat(down{b}, up{b+1})`` (the innermost only
    ``down{b}``) and writes ``up{b}`` (the outermost: the image)."""
    from mmcv.cnn import ConvModule

    blocks, block, prefix = [], gen.model, 'model'
    while block is not None:
        blocks.append((prefix, block))
        subs = [(j, m) for j, m in enumerate(block.model) if type(m).__name__ ==
                'UnetSkipConnectionBlock']
        block, prefix = (subs[0][1], f'{prefix}.model.{subs[0][0]}') if subs else (None, None)
    layers: List[Layer] = []
    for b, (prefix, block) in enumerate(blocks):
        convs = [(j, m) for j, m in enumerate(block.model) if isinstance(m, ConvModule)]
        (jd, down), (ju, up) = convs
        innermost = b == len(blocks) - 1
        layers.append(_conv_module(f'{prefix}.model.{jd}', down,
                                   ['in' if b == 0 else f'down{b - 1}'], f'down{b}'))
        layers.append(_conv_module(f'{prefix}.model.{ju}', up,
                                   [f'down{b}'] + ([] if innermost else [f'up{b + 1}']),
                                   'out' if b == 0 else f'up{b}'))
    return layers


GENERATOR_LAYOUTS = {
    'ResnetGenerator': _sequential_resnet_layers,
    'Pix2PixHDGenerator': _sequential_resnet_layers,
    'UnetGenerator': _unet_layers,
}


def generator_layers(gen: nn.Module) -> List[Layer]:
    """The convolutions of a generator with their channel groups (see the module doc)."""
    kind = type(gen).__name__
    if kind not in GENERATOR_LAYOUTS:
        raise ValueError(f'student_init: a {kind} generator is not supported; it slices '
                         f'{sorted(GENERATOR_LAYOUTS)} (MMagic\'s ResNet and UNet generators, '
                         "reko-mm's Pix2PixHD global generator)")
    return GENERATOR_LAYOUTS[kind](gen)


def _is_transposed(conv: nn.Module) -> bool:
    return isinstance(conv, nn.ConvTranspose2d)


def _out_dim(conv: nn.Module) -> int:
    return 1 if _is_transposed(conv) else 0


def _out_channels(layer: Layer) -> int:
    return layer.conv.weight.shape[_out_dim(layer.conv)]


def _affine(norm: Optional[nn.Module]) -> bool:
    return norm is not None and getattr(norm, 'weight', None) is not None


def _norm_kind(norm: Optional[nn.Module]) -> str:
    if norm is None:
        return 'none'
    if isinstance(norm, _BatchNorm):
        return 'BN'
    if isinstance(norm, _InstanceNorm):
        return 'IN'
    return type(norm).__name__


def _filter_l1(conv: nn.Module) -> torch.Tensor:
    w = conv.weight.detach().float().cpu()
    dims = [d for d in range(w.dim()) if d != _out_dim(conv)]
    return w.abs().sum(dim=dims)


def channel_scores(layers: Sequence[Layer], rule: str) -> Dict[str, torch.Tensor]:
    """Per group, the score of each of its channels in ``layers`` (the teacher's), on the CPU
    (the channel indices are chosen there, wherever the model is)."""
    scores: Dict[str, torch.Tensor] = {}
    for layer in layers:
        if layer.writes in IMAGE_GROUPS:
            continue
        if rule == 'norm_scale' and _affine(layer.norm):
            s = layer.norm.weight.detach().float().abs().cpu()
        else:
            s = _filter_l1(layer.conv)
        scores[layer.writes] = scores.get(layer.writes, 0) + s
    return scores


def ranked_by_divided_out_norms(teacher_gen: nn.Module, rule: str) -> List[str]:
    """The teacher's convolutions whose channels ``rule`` ranks by their filters' L1 norm
    although an InstanceNorm follows them: InstanceNorm divides every channel by its own
    spread, so the filter's norm says nothing of what the channel contributes, and the channels
    kept there are as good as random. ``'norm_scale'`` falls back to the L1 norm where the norm
    has no scale (non-affine InstanceNorm, MMagic's CycleGAN default); ``'l1'`` uses it
    everywhere."""
    if rule not in ('norm_scale', 'l1'):
        return []
    return [layer.name for layer in generator_layers(teacher_gen)
            if layer.writes not in IMAGE_GROUPS and isinstance(layer.norm, _InstanceNorm) and
            (rule == 'l1' or not _affine(layer.norm))]


def check_compatible(teacher: Sequence[Layer], student: Sequence[Layer], t_name: str,
                     s_name: str) -> None:
    """Refuse a student that is not the teacher's architecture, narrowed."""
    if [(t.name, t.reads, t.writes) for t in teacher] != \
            [(s.name, s.reads, s.writes) for s in student]:
        raise ValueError(
            f'student_init: the student ({s_name}, {len(student)} convolutions) is not the '
            f'teacher\'s architecture ({t_name}, {len(teacher)} convolutions) narrowed: their '
            'layers or connections differ (another number of blocks or down-samplings?). '
            'Give the student the teacher\'s generator config with a smaller base_channels.')
    for t, s in zip(teacher, student):
        if type(t.conv) is not type(s.conv) or t.conv.weight.shape[2:] != s.conv.weight.shape[2:]:
            raise ValueError(f'student_init: {s.name} is a {type(s.conv).__name__} '
                             f'{tuple(s.conv.weight.shape[2:])} in the student but a '
                             f'{type(t.conv).__name__} {tuple(t.conv.weight.shape[2:])} in the '
                             'teacher')
        if (t.conv.bias is None) != (s.conv.bias is None):
            raise ValueError(f'student_init: {s.name} has a bias in only one of teacher and '
                             'student (a different norm type changes MMagic\'s use_bias)')
        if _norm_kind(t.norm) != _norm_kind(s.norm):
            raise ValueError(f'student_init: {s.name} is normalised by {_norm_kind(t.norm)} in '
                             f'the teacher and {_norm_kind(s.norm)} in the student; use the '
                             "teacher's norm_cfg in the student's generator")


def _affine_refusal(student_gen: nn.Module, layers: Sequence[Layer]) -> str:
    extra = sum(2 * _out_channels(s) for s in layers if s.norm is not None)
    total = sum(p.numel() for p in student_gen.parameters())
    return (f"student_init: the teacher's norms are affine and the student's are not. The "
            "teacher's scale and shift of a channel cannot be folded into the next "
            'convolution across the ReLU between them, so the sliced student would not compute '
            "the teacher's channels. Make the student affine (its generator's "
            "norm_cfg=dict(type='IN', affine=True), as the teacher's): that adds "
            f'{extra:,} parameters ({100 * extra / total:.2f} % of its {total:,}).')


def _select(scores: torch.Tensor, k: int, rule: str, generator: torch.Generator) -> torch.Tensor:
    if rule == 'random':
        idx = torch.randperm(scores.numel(), generator=generator)[:k]
    else:
        idx = torch.sort(scores, descending=True, stable=True).indices[:k]
    return idx.sort().values


@torch.no_grad()
def init_student_from_teacher(student_gen: nn.Module, teacher_gen: nn.Module,
                              rule: str = 'norm_scale', seed: int = 0) -> Dict[str, dict]:
    """Overwrite ``student_gen``'s weights with ``teacher_gen``'s at the channels ``rule``
    keeps. Returns, per group, ``{'kept', 'of', 'indices', 'score_share'}``: the share is of the
    group's norm-scale score (``|gamma|``, or filter L1 without an affine norm), whatever the
    rule, so that rules can be compared by it.

    Raises ``ValueError`` for a rule it does not know, a student that is not the teacher's
    architecture narrowed, a student wider than the teacher, or an affine teacher with a
    non-affine student (see :func:`_affine_refusal`).
    """
    if rule not in STUDENT_INIT_RULES:
        raise ValueError(f'model.student_init.rule must be one of {list(STUDENT_INIT_RULES)}, '
                         f'got {rule!r}')
    t_layers, s_layers = generator_layers(teacher_gen), generator_layers(student_gen)
    check_compatible(t_layers, s_layers, type(teacher_gen).__name__, type(student_gen).__name__)
    if any(_affine(t.norm) and s.norm is not None and not _affine(s.norm)
           for t, s in zip(t_layers, s_layers)):
        raise ValueError(_affine_refusal(student_gen, s_layers))

    widths: Dict[str, Tuple[int, int]] = {}
    for t, s in zip(t_layers, s_layers):
        widths[t.writes] = (_out_channels(t), _out_channels(s))
    for group, (c_t, c_s) in widths.items():
        if c_s > c_t:
            raise ValueError(f'student_init: the student has {c_s} channels in {group}, the '
                             f'teacher {c_t}: a student wider than its teacher cannot be sliced '
                             'from it')
        if group in IMAGE_GROUPS and c_s != c_t:
            raise ValueError(f'student_init: the student writes {c_s} image channels, the '
                             f'teacher {c_t}')
    in_t, in_s = t_layers[0].conv.weight.shape[1 - _out_dim(t_layers[0].conv)], \
        s_layers[0].conv.weight.shape[1 - _out_dim(s_layers[0].conv)]
    if in_t != in_s:
        raise ValueError(f'student_init: the student reads {in_s} image channels, the teacher '
                         f'{in_t}')

    scores = channel_scores(t_layers, rule)
    mass = channel_scores(t_layers, 'norm_scale')  # what the report measures, for every rule
    gen = torch.Generator().manual_seed(seed)
    kept: Dict[str, torch.Tensor] = {'in': torch.arange(in_t)}
    report: Dict[str, dict] = {}
    for group, (c_t, c_s) in widths.items():
        if group in IMAGE_GROUPS:
            kept[group] = torch.arange(c_t)
            continue
        idx = _select(scores[group], c_s, rule, gen)
        kept[group] = idx
        share = float(mass[group][idx].sum() / mass[group].sum().clamp_min(1e-12))
        report[group] = dict(kept=c_s, of=c_t, indices=idx.tolist(), score_share=share)

    for t, s in zip(t_layers, s_layers):
        offsets, pieces = 0, []
        for g in t.reads:
            pieces.append(kept[g] + offsets)
            offsets += widths[g][0] if g in widths else in_t
        w = t.conv.weight
        # the Runner re-applies this after moving the model to its device
        in_idx, out_idx = torch.cat(pieces).to(w.device), kept[t.writes].to(w.device)
        if _is_transposed(t.conv):
            w = w.index_select(0, in_idx).index_select(1, out_idx)
        else:
            w = w.index_select(0, out_idx).index_select(1, in_idx)
        s.conv.weight.copy_(w)
        if t.conv.bias is not None:
            s.conv.bias.copy_(t.conv.bias.index_select(0, out_idx))
        if s.norm is not None:
            _slice_norm(t.norm, s.norm, out_idx)
    return report


def _slice_norm(t: nn.Module, s: nn.Module, idx: torch.Tensor) -> None:
    if _affine(s):
        if _affine(t):
            s.weight.copy_(t.weight.index_select(0, idx))
            s.bias.copy_(t.bias.index_select(0, idx))
        else:  # a non-affine teacher norm is the identity scale and zero shift
            s.weight.fill_(1.0)
            s.bias.zero_()
    for name in ('running_mean', 'running_var'):
        t_buf, s_buf = getattr(t, name, None), getattr(s, name, None)
        if t_buf is not None and s_buf is not None:
            s_buf.copy_(t_buf.index_select(0, idx))
    if getattr(t, 'num_batches_tracked', None) is not None and \
            getattr(s, 'num_batches_tracked', None) is not None:
        s.num_batches_tracked.copy_(t.num_batches_tracked)


def normalise_student_init(cfg) -> Optional[dict]:
    """``model.student_init`` as a dict (``None``: random initialisation), with clear errors."""
    if cfg is None or cfg is False:
        return None
    if isinstance(cfg, str):
        cfg = dict(rule=cfg)
    cfg = dict(cfg)
    unknown = sorted(set(cfg) - set(STUDENT_INIT_KEYS))
    if unknown:
        raise ValueError(f'unknown keys in model.student_init: {unknown}; valid keys: '
                         f'{list(STUDENT_INIT_KEYS)}')
    cfg.setdefault('rule', 'norm_scale')
    cfg.setdefault('seed', 0)
    if cfg['rule'] not in STUDENT_INIT_RULES:
        raise ValueError(f'model.student_init.rule must be one of {list(STUDENT_INIT_RULES)}, '
                         f"got {cfg['rule']!r}")
    if not isinstance(cfg['seed'], int):
        raise TypeError(f"model.student_init.seed must be an int, got {cfg['seed']!r}")
    return cfg


def describe_init(report: Dict[str, dict]) -> str:
    """One line: how many channels of each width were kept and the share of the teacher's
    norm-scale score they hold."""
    by_width: Dict[Tuple[int, int], List[float]] = {}
    for r in report.values():
        by_width.setdefault((r['kept'], r['of']), []).append(r['score_share'])
    parts = [f"{k}/{n} ({len(v)} group{'s' if len(v) > 1 else ''}, "
             f"{100 * sum(v) / len(v):.0f} % of the |scale|)"
             for (k, n), v in sorted(by_width.items())]
    return 'channels kept: ' + ', '.join(parts)
