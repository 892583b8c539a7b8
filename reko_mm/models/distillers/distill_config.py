"""Parse and check ``model.distill``: which terms read what. Everything wrong fails here, at build.

A distillation is a set of named *terms*::

    distill = dict(
        layers=[dict(student='model.5', teacher='model.5'), 'model.11'],   # default taps
        losses=dict(
            reko=dict(loss=dict(type='RegionAwareDistillLoss', num_regions=64)),
            kd=dict(inputs='images', loss=dict(type='OutputL1Loss', loss_weight=10.0)),
            cd=dict(inputs=dict(layers=['model.5']), connector=dict(type='ConvBNReLUConnector'),
                    loss=dict(type='ChannelDistillLoss'), reduce='sum')),
        feature_nets=dict(vgg=dict(type='FrozenVGG16', weights='vgg16.pth')),
        probe_size=64)

The older form ``distill=dict(layers=[...], loss=dict(...))`` (one loss for every tap) is still
read, with a warning, as the term ``reko`` (or the loss's name for another loss type); the
shipped configs write ``losses=dict(reko=dict(inputs=dict(layers=[...]), loss=...))``
(``configs/reko/_base_/methods/reko.py``). A term set to ``None`` is off.
"""
import copy
import logging
import re
from typing import Dict, List, NamedTuple, Optional, Tuple, Union

from mmengine.logging import print_log

DISTILL_KEYS = ('type', 'layers', 'loss', 'losses', 'feature_nets', 'probe_size', 'recorder')
TERM_KEYS = ('inputs', 'connector', 'loss', 'reduce')
INPUT_KINDS = ('layers', 'images', 'student_image', 'feature_net')
REDUCTIONS = ('mean', 'sum')
_TERM_NAME = re.compile(r'^[a-z][a-z0-9_]*$')


class TermSpec(NamedTuple):
    """One parsed term: what it reads, and how its losses are combined over taps."""
    name: str
    kind: str  # one of INPUT_KINDS
    taps: List  # (student, teacher) layer pairs, feature-net layer names, or ['image']
    feature_net: Optional[str]
    connector: Optional[dict]
    loss: dict
    reduce: str


def parse_layers(layers, where: str = 'model.distill.layers') -> List[Tuple[str, str]]:
    """``[(student_name, teacher_name)]`` from a list of names or ``dict(student=, teacher=)``."""
    if isinstance(layers, str):
        raise TypeError(f'{where} must be a list of layer names, got the string {layers!r}; '
                        f'write {where.rsplit(".", 1)[-1]}=[{layers!r}].')
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError(f'{where} must be a non-empty list, e.g. '
                         "[dict(student='model.11', teacher='model.11')]; got " + repr(layers))
    pairs = []
    for layer in layers:
        if isinstance(layer, str):
            pairs.append((layer, layer))
        elif isinstance(layer, dict) and set(layer) <= {'student', 'teacher'} and \
                isinstance(layer.get('student'), str):
            pairs.append((layer['student'], layer.get('teacher', layer['student'])))
        else:
            raise ValueError(f'each {where} entry is a module name or '
                             f"dict(student=NAME, teacher=NAME), got {layer!r}")
    return pairs


def _legacy_term_name(loss_type: str) -> str:
    if loss_type == 'RegionAwareDistillLoss':
        return 'reko'
    name = re.sub(r'Loss$', '', loss_type)
    return re.sub(r'(?<!^)(?=[A-Z])', '_', name).lower() or 'distill'


def normalise(distill: dict, allow_empty: bool = False) -> dict:
    """A copy of ``model.distill`` with the legacy ``loss`` folded into ``losses`` and every
    key checked. ``allow_empty``: a distillation with no terms is allowed (the teacher-target
    baseline, where the teacher's translation is the target and nothing else is distilled)."""
    if not isinstance(distill, dict):
        raise TypeError(f'model.distill must be a dict, got {type(distill).__name__}')
    distill = copy.deepcopy(dict(distill))
    unknown = sorted(set(distill) - set(DISTILL_KEYS))
    if unknown:
        raise ValueError(f'unknown keys in model.distill: {unknown}; valid keys: '
                         f'{list(DISTILL_KEYS)} (see docs/methods.md)')
    losses = distill.pop('losses', None) or {}
    if not isinstance(losses, dict):
        raise TypeError('model.distill.losses must be a dict of named terms, e.g. '
                        "losses=dict(reko=dict(loss=dict(type='RegionAwareDistillLoss'))); got "
                        + repr(losses))
    losses = {k: v for k, v in losses.items() if v is not None}
    legacy = distill.pop('loss', None)
    if legacy is not None:
        if isinstance(legacy, dict) and 'type' not in legacy and 'reko' in losses:
            keys = ' '.join(f'model.distill.losses.reko.loss.{k}={v!r}' for k, v in legacy.items())
            raise ValueError(
                f'model.distill.loss={legacy!r} sets keys of the older form of the ReKo term; '
                f'in this config it is model.distill.losses.reko. Write: --cfg-options {keys}')
        if not isinstance(legacy, dict) or 'type' not in legacy:
            raise ValueError("model.distill.loss must be a loss config with a 'type', got "
                             f'{legacy!r}')
        name = _legacy_term_name(legacy['type'])
        if name in losses:
            raise ValueError(
                f'model.distill has both loss={legacy["type"]} and losses.{name}: the older '
                f"'loss' key is the term '{name}'. Keep one of them.")
        print_log(f'model.distill.loss (with model.distill.layers) is the older form of the term '
                  f"'{name}': it is read as model.distill.losses.{name} = dict(loss=..., "
                  f"inputs=dict(layers=...)), the form to write from now on (see docs/reko.md).",
                  logger='current', level=logging.WARNING)
        losses = {name: dict(loss=legacy), **losses}
    if not losses and not allow_empty:
        raise ValueError('model.distill has no terms (no loss, and losses is empty): that is the '
                         'no-KD student; use its _nokd config instead of TeacherStudentGAN.')
    distill['losses'] = losses
    return distill


def parse_term(name: str, term: dict, default_layers: Optional[List[Tuple[str, str]]],
               feature_nets: Dict[str, dict]) -> TermSpec:
    where = f'model.distill.losses.{name}'
    if not _TERM_NAME.match(name):
        raise ValueError(f'{where}: term names are lower-case identifiers (they name the logged '
                         f"loss_<term>_<domain>), got {name!r}")
    if not isinstance(term, dict):
        raise TypeError(f'{where} must be a dict with a loss, got {term!r}')
    unknown = sorted(set(term) - set(TERM_KEYS))
    if unknown:
        raise ValueError(f'unknown keys in {where}: {unknown}; valid keys: {list(TERM_KEYS)}')
    loss = term.get('loss')
    if not isinstance(loss, dict) or 'type' not in loss:
        raise ValueError(f"{where}.loss must be a loss config with a 'type', got {loss!r}")
    reduce = term.get('reduce', 'mean')
    if reduce not in REDUCTIONS:
        raise ValueError(f'{where}.reduce must be one of {REDUCTIONS}, got {reduce!r}')
    inputs: Union[str, dict] = term.get('inputs', 'layers')
    feature_net = None
    if inputs == 'layers':
        if not default_layers:
            raise ValueError(f"{where} reads the default layers, but model.distill.layers is not "
                             "set: set it, or give the term inputs=dict(layers=[...]).")
        kind, taps = 'layers', list(default_layers)
    elif inputs in ('images', 'student_image'):
        kind, taps = inputs, ['image']
    elif isinstance(inputs, dict) and set(inputs) == {'layers'}:
        kind, taps = 'layers', parse_layers(inputs['layers'], f'{where}.inputs.layers')
    elif isinstance(inputs, dict) and set(inputs) <= {'feature_net', 'layers'} and \
            'feature_net' in inputs:
        kind, feature_net = 'feature_net', inputs['feature_net']
        if feature_net not in feature_nets:
            raise KeyError(f'{where}.inputs.feature_net={feature_net!r} is not in '
                           f'model.distill.feature_nets (has {sorted(feature_nets)})')
        net_layers = inputs.get('layers', feature_nets[feature_net].get('layers'))
        if isinstance(net_layers, str) or not net_layers:
            raise ValueError(f'{where}.inputs.layers must be a non-empty list of the feature '
                             f'network\'s layer names, got {net_layers!r}')
        taps = list(net_layers)
    else:
        raise ValueError(
            f"{where}.inputs must be 'layers', 'images', 'student_image', dict(layers=[...]) "
            f"or dict(feature_net=NAME, layers=[...]); got {inputs!r}")
    connector = term.get('connector')
    if connector is not None:
        if not isinstance(connector, dict) or 'type' not in connector:
            raise ValueError(f"{where}.connector must be a config with a 'type', got "
                             f'{connector!r}')
        if kind != 'layers':
            raise ValueError(f'{where}: connectors adapt generator features; a term reading '
                             f'{kind} takes none.')
    return TermSpec(name, kind, taps, feature_net, connector, loss, reduce)


def layer_pairs(specs) -> List[Tuple[str, str]]:
    """The ``(student, teacher)`` layer pairs the ``specs`` (:class:`TermSpec`) read, sorted."""
    return sorted({tap for s in specs if s.kind == 'layers' for tap in s.taps})


def teacher_layers(distill: dict) -> List[str]:
    """The teacher layers ``model.distill``'s terms read (sorted names): what a cache of the
    teacher's features has to hold for it."""
    distill = normalise(distill, allow_empty=True)
    default = parse_layers(distill['layers']) if distill.get('layers') is not None else None
    nets = dict(distill.get('feature_nets') or {})
    specs = [parse_term(n, t, default, nets) for n, t in distill['losses'].items()]
    return sorted({t for _, t in layer_pairs(specs)})
