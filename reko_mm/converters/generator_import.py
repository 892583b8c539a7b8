"""Import a trained generator from the layouts users have into an MMagic checkpoint.

``import_generator(src, out, domain)`` reads a state dict (a junyanz/pytorch-CycleGAN-and-pix2pix
``latest_net_G*.pth``, a GAN Compression teacher, vintagify's generator, or MMagic's own keys),
recognises its layout from keys and shapes, and writes ``{'state_dict': {'generators.<domain>.*'},
'meta': {'generator_cfg': <MMagic generator config>, ...}}``. Before writing it proves the
conversion: the source layout, rebuilt in plain PyTorch (:mod:`.source_nets`) from the state dict,
and the converted MMagic generator must give the same image (max |diff| <= 1e-4).

Colour order: MMagic's loaders give BGR images, junyanz-trained weights expect RGB. By default the
first convolution's input channels and the last one's output channels are reversed, so that the
converted generator fed BGR gives the BGR image of what the original gives for RGB.
"""
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Tuple

import torch
import torch.nn as nn

from ..models.generators import build_generator
from ..utils.state_dict import diff_state, strip_module_prefix, strip_prefix
from .source_nets import JunyanzResnetGenerator, JunyanzUnetGenerator

CHANNEL_ORDERS = ('bgr', 'rgb')
TOLERANCE = 1e-4
BUFFERS = ('running_mean', 'running_var', 'num_batches_tracked')
_NORM_CFG = {'in': dict(type='IN'), 'in_affine': dict(type='IN', affine=True),
             'bn': dict(type='BN')}
_NORM_TEXT = {'in': 'InstanceNorm (not affine)', 'in_affine': 'InstanceNorm (affine)',
              'bn': 'BatchNorm'}
KNOWN_LAYOUTS = (
    'junyanz ResnetGenerator (CycleGAN; IN, affine IN or BN; any width and number of blocks; with '
    'or without a dropout slot, as in GAN Compression\'s teachers)',
    'vintagify ResnetGenerator (residual blocks as block.*)',
    'junyanz UnetGenerator (pix2pix; BN or IN; any num_downs)',
    "MMagic's ResnetGenerator / UnetGenerator keys (model.0.conv.*, model.model.0.conv.*)")

State = Dict[str, torch.Tensor]


class GeneratorImportError(ValueError):
    """A file the importer refuses, with what it found and the fix."""


@dataclass
class Detected:
    """A recognised generator: its layout, the network it was trained in, and MMagic's config."""
    layout: str
    description: str
    source_net: nn.Module  # the source layout with the source weights, strictly loaded
    generator_cfg: dict  # the MMagic generator the weights go into
    source_channel_order: str
    notes: List[str] = field(default_factory=list)


class LayoutMisfit(Exception):
    """Raised by a layout detector whose layout a state dict looks like but does not fit: which
    keys and shapes did not (for the refusal's message, when no layout takes the file)."""

    def __init__(self, layout: str, unexpected: List[str], missing: List[str],
                 shapes: List[str]):
        self.layout, self.unexpected, self.missing, self.shapes = \
            layout, unexpected, missing, shapes
        super().__init__(self.text())

    @property
    def size(self) -> int:
        return len(self.unexpected) + len(self.missing) + len(self.shapes)

    def text(self) -> str:
        bits = []
        if self.unexpected:
            bits.append(f'keys that did not fit: {self.unexpected[:4]}')
        if self.shapes:
            bits.append(f'shapes that did not fit: {self.shapes[:3]}')
        if self.missing:
            bits.append(f'keys it lacks: {self.missing[:4]}')
        return f'{self.layout}: ' + '; '.join(bits)


# --------------------------------------------------------------------------------- reading
def _is_state(obj) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and \
        all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def state_dict_candidates(obj, path: str = '', depth: int = 0) -> Iterator[Tuple[str, State]]:
    """``(name, state dict)`` of every tensor dict in a loaded file: the file itself, entries of
    a training state (``netG_A``, ``state_dict``...), and an MMagic model's ``generators.<d>``."""
    if _is_state(obj):
        state = strip_module_prefix(obj)
        domains = sorted({k.split('.')[1] for k in state
                          if k.startswith('generators.') and k.count('.') >= 2})
        if domains:
            for d in domains:
                yield (f'{path}/generators.{d}' if path else f'generators.{d}',
                       strip_prefix(state, f'generators.{d}.'))
        else:
            yield path or '(the whole file)', state
    elif isinstance(obj, Mapping) and depth < 3:
        for k, v in obj.items():
            if isinstance(v, Mapping):
                yield from state_dict_candidates(v, f'{path}/{k}' if path else str(k), depth + 1)


def load_source(path: str) -> object:
    """The file, read by :func:`reko_mm.utils.safe_torch_load` (torch's weights-only unpickler):
    tensors and plain containers, never arbitrary pickled objects (files from the internet can
    run code when unpickled)."""
    from ..utils.safe_load import UnsafeCheckpointError, safe_torch_load
    if not osp.isfile(path):
        raise FileNotFoundError(f'generator checkpoint not found: {osp.abspath(path)}')
    try:
        return safe_torch_load(path, what='generator file')
    except UnsafeCheckpointError as err:
        raise GeneratorImportError(
            f'{err} In the environment that made it, save the weights alone: '
            "torch.save(net.state_dict(), 'G.pth').") from None
    except Exception as err:  # noqa: BLE001 (torch raises several types for bad files)
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise GeneratorImportError(f'could not read {path} as a PyTorch file ({text}); is it '
                                   'complete (not truncated) and a .pth / .pt file?') from None


# ------------------------------------------------------------------------------ detection
def _conv_weights(state: State) -> List[Tuple[str, torch.Tensor]]:
    return [(k, v) for k, v in state.items() if k.endswith('weight') and v.dim() == 4]


def discriminator_reason(state: State) -> Optional[str]:
    """Why ``state`` looks like a PatchGAN discriminator rather than a generator, or None."""
    convs = _conv_weights(state)
    if not convs:
        return None
    last_key, last = convs[-1]
    first_key, first = convs[0]
    if last.shape[0] == 1 and last.shape[-1] == 4:
        return (f'it looks like a PatchGAN discriminator: its last convolution {last_key} '
                f'{tuple(last.shape)} maps to 1 channel (a real/fake score map), not to image '
                f'channels; its first one {first_key} reads {first.shape[1]} channels')
    return None


def _block_indices(state: State, pattern: str) -> List[int]:
    found = {int(m.group(1)) for k in state for m in [re.match(pattern, k)] if m}
    return sorted(found)


def _fit(layout: str, net: nn.Module, state: State) -> nn.Module:
    """``net`` with ``state`` loaded strictly, in eval mode; :class:`LayoutMisfit` if a key or
    shape does not fit."""
    own = net.state_dict()
    diff = diff_state(own, state)
    order = {k: i for i, k in enumerate(list(own) + [k for k in state if k not in own])}
    misfit = LayoutMisfit(
        layout,
        unexpected=sorted(diff.unexpected, key=order.get),  # in the file's order
        missing=sorted(diff.missing, key=order.get),
        shapes=[f'{k} {tuple(state[k].shape)} (expected {tuple(own[k].shape)})'
                for k in sorted(diff.wrong, key=order.get)])
    if misfit.size:
        raise misfit
    net.load_state_dict(state, strict=True)
    return net.eval()


def _clean_norm_buffers(state: State, norm: str, notes: List[str]) -> State:
    state = dict(state)
    if norm != 'bn':
        dropped = [k for k in state if k.rsplit('.', 1)[-1] in BUFFERS]
        for k in dropped:
            del state[k]
        if dropped:
            notes.append(f'dropped {len(dropped)} InstanceNorm running-statistics buffers (an '
                         'old PyTorch saved them; junyanz drops them too)')
    else:
        added = 0
        for k in [k for k in state if k.endswith('.running_mean')]:
            key = k[:-len('running_mean')] + 'num_batches_tracked'
            if key not in state:
                state[key] = torch.tensor(0, dtype=torch.long)
                added += 1
        if added:
            notes.append(f'added {added} BatchNorm num_batches_tracked counters (absent in the '
                         'file; they do not change the output)')
    return state


def _detect_junyanz_resnet(state: State) -> Optional[Detected]:
    first = state.get('model.1.weight')
    if first is None or first.dim() != 4 or tuple(first.shape[2:]) != (7, 7):
        return None
    attrs = {m.group(1) for k in state for m in [re.match(r'model\.\d+\.(conv_block|block)\.', k)]
             if m}
    attr = 'block' if attrs == {'block'} else 'conv_block'
    blocks = _block_indices(state, rf'model\.(\d+)\.{attr}\.')
    num_blocks = len(blocks)
    if 'model.1.bias' not in state:
        norm = 'bn'
    else:
        norm = 'in_affine' if 'model.2.weight' in state else 'in'
    # junyanz's Sequential: pad, conv, norm, ReLU (0-3), two strided conv/norm/ReLU (4-9), then
    # the blocks from index 10; a dropout slot moves a block's second conv from .5 to .6
    second = state.get(f'model.10.{attr}.6.weight')
    dropout_slot = second is not None and second.dim() == 4
    notes: List[str] = []
    state = _clean_norm_buffers(state, norm, notes)
    # after the blocks (10 .. 9 + num_blocks): two up-convs with norm and ReLU (6 entries),
    # then pad and the 7x7 output conv at 10 + num_blocks + 7
    last = state.get(f'model.{17 + num_blocks}.weight')
    out_channels = int(last.shape[0]) if last is not None and last.dim() == 4 else 3
    ngf, in_channels = int(first.shape[0]), int(first.shape[1])
    name = 'vintagify ResnetGenerator' if attr == 'block' else 'junyanz ResnetGenerator'
    net = JunyanzResnetGenerator(in_channels, out_channels, ngf, num_blocks, norm, dropout_slot,
                                 attr)
    fitted = _fit(name, net, state)
    if dropout_slot:
        notes.append('every residual block has a dropout slot (no weights; GAN Compression '
                     "keeps one): converted without dropout, the teacher's usual setting")
    description = (f'{name}: ngf {ngf}, {num_blocks} residual blocks, {_NORM_TEXT[norm]}, '
                   f'{"a dropout slot in every block, " if dropout_slot else ""}'
                   f'{in_channels} -> {out_channels} channels')
    cfg = dict(type='ResnetGenerator', in_channels=in_channels, out_channels=out_channels,
               base_channels=ngf, norm_cfg=dict(_NORM_CFG[norm]), use_dropout=False,
               num_blocks=num_blocks, padding_mode='reflect',
               init_cfg=dict(type='normal', gain=0.02))
    return Detected(name, description, fitted, cfg, 'rgb', notes)


def _unet_depth(state: State, prefix: str, child: str) -> int:
    """Levels below ``prefix`` of a nested UNet: 1 + the longest chain of ``child`` steps into
    a further level (a ``child`` index followed by a layer name is a layer, not a level)."""
    depth = 0
    for k in state:
        if not k.startswith(prefix):
            continue
        rest, n = k[len(prefix):], 1
        while rest.startswith(child) and rest[len(child):].startswith('model.'):
            rest, n = rest[len(child):], n + 1
        depth = max(depth, n)
    return depth


def _detect_junyanz_unet(state: State) -> Optional[Detected]:
    first = state.get('model.model.0.weight')
    if first is None or first.dim() != 4 or tuple(first.shape[2:]) != (4, 4):
        return None
    num_downs = _unet_depth(state, 'model.model.1.', 'model.3.') + 1
    if 'model.model.0.bias' not in state:
        norm = 'bn'
    else:
        norm = 'in_affine' if 'model.model.1.model.2.weight' in state else 'in'
    notes: List[str] = []
    state = _clean_norm_buffers(state, norm, notes)
    up = state.get('model.model.3.weight')
    out_channels = int(up.shape[1]) if up is not None and up.dim() == 4 else 3
    ngf, in_channels = int(first.shape[0]), int(first.shape[1])
    name = 'junyanz UnetGenerator'
    if num_downs < 5:
        raise LayoutMisfit(name, [], [f'levels below model.model.1 (found {num_downs}, a junyanz '
                                  'UnetGenerator has at least 5)'], [])
    fitted = _fit(name, JunyanzUnetGenerator(in_channels, out_channels, num_downs, ngf, norm),
                  state)
    notes.append('dropout leaves no weights, so the file cannot say whether it was on: the '
                 "config has use_dropout=True, pix2pix's default (reko-mm runs a teacher's "
                 'dropout off unless model.teacher.dropout=True)')
    description = (f'{name}: ngf {ngf}, num_downs {num_downs} (input sides multiple of '
                   f'{2**num_downs}), {_NORM_TEXT[norm]}, {in_channels} -> {out_channels} '
                   'channels')
    cfg = dict(type='UnetGenerator', in_channels=in_channels, out_channels=out_channels,
               num_down=num_downs, base_channels=ngf, norm_cfg=dict(_NORM_CFG[norm]),
               use_dropout=True, init_cfg=dict(type='normal', gain=0.02))
    return Detected(name, description, fitted, cfg, 'rgb', notes)


def _norm_of_mmagic(state: State, prefix: str) -> str:
    if any(k.startswith(prefix + 'bn.') for k in state):
        return 'bn'
    return 'in_affine' if prefix + 'in.weight' in state else 'in'


def _detect_mmagic(state: State) -> Optional[Detected]:
    first = state.get('model.0.conv.weight')
    if first is not None and first.dim() == 4:
        num_blocks = len(_block_indices(state, r'model\.(\d+)\.block\.0\.conv\.weight'))
        norm = _norm_of_mmagic(state, 'model.0.')
        last = state.get(f'model.{5 + num_blocks}.conv.weight')
        cfg = dict(type='ResnetGenerator', in_channels=int(first.shape[1]),
                   out_channels=int(last.shape[0]) if last is not None else 3,
                   base_channels=int(first.shape[0]), norm_cfg=dict(_NORM_CFG[norm]),
                   use_dropout='model.3.block.2.conv.weight' in state, num_blocks=num_blocks,
                   padding_mode='reflect', init_cfg=dict(type='normal', gain=0.02))
        text = f'{num_blocks} residual blocks'
    else:
        first = state.get('model.model.0.conv.weight')
        if first is None or first.dim() != 4:
            return None
        num_down = _unet_depth(state, 'model.model.1.', 'model.1.') + 1
        norm = _norm_of_mmagic(state, 'model.model.1.model.0.')
        up = state.get('model.model.2.conv.weight')
        cfg = dict(type='UnetGenerator', in_channels=int(first.shape[1]),
                   out_channels=int(up.shape[1]) if up is not None else 3, num_down=num_down,
                   base_channels=int(first.shape[0]), norm_cfg=dict(_NORM_CFG[norm]),
                   use_dropout=True, init_cfg=dict(type='normal', gain=0.02))
        text = f'num_down {num_down}'
    name = f"MMagic {cfg['type']}"
    fitted = _fit(name, build_generator(cfg), state)
    description = (f"{name}: base_channels {cfg['base_channels']}, {text}, {_NORM_TEXT[norm]}, "
                   f"{cfg['in_channels']} -> {cfg['out_channels']} channels")
    return Detected(name, description, fitted, cfg, 'bgr', [])


# Each detector returns None for a state dict not of its layout (its first keys differ), the
# Detected generator, or raises LayoutMisfit where the layout is the file's but it does not fit.
DETECTORS: Tuple[Callable[[State], Optional[Detected]], ...] = (
    _detect_junyanz_resnet, _detect_junyanz_unet, _detect_mmagic)


def detect(state: State) -> Detected:
    """The layout of a generator state dict; :class:`GeneratorImportError` if none takes it."""
    reason = discriminator_reason(state)
    misfits: List[LayoutMisfit] = []
    for detector in DETECTORS:
        try:
            found = detector(state)
        except LayoutMisfit as misfit:
            misfits.append(misfit)
            continue
        if found is not None:
            return found
    if reason:
        raise GeneratorImportError(f'not a generator: {reason}. Give the generator file '
                                   '(junyanz: latest_net_G_A.pth / latest_net_G.pth, not '
                                   'latest_net_D*.pth).')
    if misfits:
        closest = min(misfits, key=lambda m: m.size).text()
    else:
        closest = f'no layout recognised its first keys {list(state)[:4]}'
    raise GeneratorImportError(
        f'not a generator layout reko-mm knows. Closest: {closest}. Known layouts: '
        + '; '.join(KNOWN_LAYOUTS) + '. A truncated or edited file fails here too.')


def find_generator(obj, key: Optional[str] = None, src: str = 'the file'
                   ) -> Tuple[str, Detected, List[str]]:
    """``(name, detected, other entries)`` of the one generator in a loaded file.

    A training state holding several generators (CycleGAN's two, or a whole MMagic model) is
    refused unless ``key`` names one."""
    candidates = list(state_dict_candidates(obj))
    if not candidates:
        raise GeneratorImportError(f'{src} holds no tensors: it is not a state dict')
    names = [n for n, _ in candidates]
    if key is not None:
        chosen = [(n, s) for n, s in candidates if n == key]
        if not chosen:
            raise GeneratorImportError(f'--key {key!r} is not in {src}; its state dicts are '
                                       f'{names[:12]}')
        return key, detect(chosen[0][1]), []
    if len(candidates) == 1:
        return names[0], detect(candidates[0][1]), []
    found, refusals = [], []
    for name, state in candidates:
        try:
            found.append((name, detect(state)))
        except GeneratorImportError as err:
            refusals.append((name, str(err)))
    if len(found) == 1:
        others = [n for n in names if n != found[0][0]]
        return found[0][0], found[0][1], others
    if not found:
        raise GeneratorImportError(f'{src} holds no generator reko-mm knows; of its state dicts, '
                                   + ' | '.join(f'{n}: {r}' for n, r in refusals[:3]))
    raise GeneratorImportError(
        f'{src} holds {len(found)} generators: ' +
        '; '.join(f'{n!r} ({d.description})' for n, d in found) +
        '. Choose one with --key, e.g. --key ' + found[0][0])


# ----------------------------------------------------------------------------- conversion
def _convs(net: nn.Module) -> List[Tuple[str, nn.Module]]:
    return [(n, m) for n, m in net.named_modules()
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]


def reverse_colour_channels(net: nn.Module) -> Tuple[str, str]:
    """Reverse the input channels of ``net``'s first convolution and the output channels of its
    last one (RGB <-> BGR), in place; return their names."""
    convs = _convs(net)
    (first_name, first), (last_name, last) = convs[0], convs[-1]
    first_in = first.weight.shape[1 if isinstance(first, nn.Conv2d) else 0]
    last_out = last.weight.shape[0 if isinstance(last, nn.Conv2d) else 1]
    if first_in != 3 or last_out != 3:
        raise GeneratorImportError(
            f'the colour order can only be changed for a 3 -> 3 channel generator (its first '
            f'convolution reads {first_in}, its last writes {last_out}); pass --channel-order '
            'rgb to keep the weights as they are.')
    with torch.no_grad():
        first.weight.copy_(first.weight.flip(1 if isinstance(first, nn.Conv2d) else 0))
        last.weight.copy_(last.weight.flip(0 if isinstance(last, nn.Conv2d) else 1))
        if last.bias is not None:
            last.bias.copy_(last.bias.flip(0))
    return first_name, last_name


def to_mmagic(detected: Detected) -> nn.Module:
    """The MMagic generator of ``detected.generator_cfg`` holding the source weights (paired
    layer by layer: both networks register the same layers in the same order)."""
    net = build_generator(detected.generator_cfg)
    src, dst = detected.source_net.state_dict(), net.state_dict()
    if len(src) != len(dst):
        raise GeneratorImportError(f'internal: {detected.layout} has {len(src)} entries but '
                                   f'MMagic {detected.generator_cfg["type"]} {len(dst)}')
    mapped = {}
    for (sk, sv), (dk, dv) in zip(src.items(), dst.items()):
        if sk.rsplit('.', 1)[-1] != dk.rsplit('.', 1)[-1] or sv.shape != dv.shape:
            raise GeneratorImportError(f'internal: {detected.layout} entry {sk} '
                                       f'{tuple(sv.shape)} pairs with MMagic {dk} '
                                       f'{tuple(dv.shape)}')
        mapped[dk] = sv
    net.load_state_dict(mapped, strict=True)
    return net.eval()


def probe_input(detected: Detected, seed: int = 0) -> torch.Tensor:
    """A reproducible input in [-1, 1] of a size the generator takes (a UNet needs sides that
    are multiples of 2**num_down)."""
    cfg = detected.generator_cfg
    side = 2**cfg['num_down'] if cfg['type'] == 'UnetGenerator' else 64
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(2, cfg['in_channels'], side, side, generator=gen) * 2 - 1


def max_difference(detected: Detected, converted: nn.Module, reversed_colours: bool) -> float:
    """Max |source(x) - converted(x')| with x' the same image in the converted channel order."""
    x = probe_input(detected)
    with torch.no_grad():
        expected = detected.source_net(x.clone())
        got = converted(x.flip(1) if reversed_colours else x.clone())
        if reversed_colours:
            got = got.flip(1)
    return float((expected - got).abs().max())


def import_generator(src: str, out: str, domain: str, key: Optional[str] = None,
                     channel_order: str = 'bgr', source_channel_order: Optional[str] = None,
                     log: Callable[[str], None] = print) -> dict:
    """Convert the generator in ``src`` and write it to ``out`` as ``generators.<domain>.*``.

    Args:
        src (str): a state dict file (or a training state holding one generator).
        out (str): the MMagic checkpoint to write; refused if it exists.
        domain (str): the target domain the generator translates to (CycleGAN's ``G_A``, A -> B,
            is ``generators.<domain_b>``).
        key (str, optional): which state dict of a file holding several (as listed when it is
            refused).
        channel_order (str): the channel order of the images the converted generator will be
            fed: ``'bgr'`` (MMagic's loaders) or ``'rgb'``.
        source_channel_order (str, optional): the order the weights were trained on; defaults to
            the layout's (``'rgb'`` for junyanz-style files, ``'bgr'`` for MMagic's).
        log (callable): where progress lines go.

    Returns:
        dict: the ``meta`` written (layout, description, generator_cfg, max_abs_diff, ...).
    """
    for name, value in (('--channel-order', channel_order),
                        ('--source-channel-order', source_channel_order)):
        if value is not None and value not in CHANNEL_ORDERS:
            raise GeneratorImportError(f'{name} must be one of {CHANNEL_ORDERS}, got {value!r}')
    if not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', domain or ''):
        raise GeneratorImportError(f'--domain must be a domain name of the config you will train '
                                   f'(e.g. zebra, vintage), got {domain!r}')
    if osp.exists(out):
        raise FileExistsError(f'{out} exists; reko-mm does not overwrite it. Choose another OUT '
                              'or remove the file first.')
    obj = load_source(src)
    where, detected, others = find_generator(obj, key, src)
    log(f'{src}: detected {detected.description} (at {where!r})')
    if others:
        log(f'  the file also holds {others[:6]}: left out (training state)')
    for note in detected.notes:
        log(f'  {note}')
    source_order = source_channel_order or detected.source_channel_order
    reverse = source_order != channel_order
    converted = to_mmagic(detected)
    if reverse:
        first, last = reverse_colour_channels(converted)
        log(f'  colour order: weights trained on {source_order.upper()}, converted for '
            f'{channel_order.upper()} input (reversed the input channels of {first} and the '
            f'output channels of {last})')
    else:
        log(f'  colour order: {channel_order.upper()}, weights kept as they are')
    diff = max_difference(detected, converted, reverse)
    if not diff <= TOLERANCE:
        raise GeneratorImportError(
            f'verification failed: the converted MMagic generator differs from the source '
            f'layout by {diff:.3g} (> {TOLERANCE}) on a test input; nothing was written. Please '
            'report it with the file\'s first keys.')
    params = sum(p.numel() for p in converted.parameters())
    if detected.layout.startswith('MMagic'):  # the source is the same MMagic network
        log(f'  verified: loaded strictly into MMagic\'s {detected.generator_cfg["type"]} (its '
            'own layout: nothing converted but the colour order; max |source - converted| = '
            f'{diff:.2e}); {params / 1e6:.3f} M parameters')
    else:
        log(f'  verified: max |source - converted| = {diff:.2e} on a '
            f'{tuple(probe_input(detected).shape)} input; {params / 1e6:.3f} M parameters')
    meta = dict(generator_cfg=detected.generator_cfg, domain=domain, layout=detected.layout,
                description=detected.description, source=osp.abspath(src), source_key=where,
                channel_order=channel_order, source_channel_order=source_order,
                max_abs_diff=diff, params=params)
    state = {f'generators.{domain}.{k}': v.detach().clone()
             for k, v in converted.state_dict().items()}
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = out + '.part'
    torch.save(dict(meta=meta, state_dict=state), tmp)
    os.replace(tmp, out)
    log(f'wrote {out}: state_dict generators.{domain}.* ({len(state)} tensors), '
        f"meta['generator_cfg'] = {detected.generator_cfg}")
    return meta
