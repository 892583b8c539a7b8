"""What is compared with what: taps, connectors, losses and frozen feature networks."""
import inspect
from contextlib import ExitStack, contextmanager
from typing import Dict, Iterator, List, Optional, Tuple

import torch
import torch.nn as nn
from mmagic.registry import MODELS, TASK_UTILS
from mmengine.logging import print_log

from . import distill_config
from .distill_config import TermSpec

CHANNEL_ARGS = ('student_channels', 'teacher_channels')


def _accepts(cls, name: str) -> bool:
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return False
    return name in params


def _build(cfg: dict, fill: Dict[str, object]) -> nn.Module:
    """Build ``cfg`` with the ``fill`` arguments its constructor takes and the config lacks."""
    cls = MODELS.get(cfg['type'])
    if cls is None:
        raise KeyError(f"{cfg['type']!r} is not registered in MMagic's MODELS (is reko_mm "
                       'imported? check the spelling)')
    extra = {k: v for k, v in fill.items() if k not in cfg and _accepts(cls, k)}
    return MODELS.build(dict(cfg, **extra))


class DistillTerm(nn.Module):
    """One term at one domain and tap: an optional connector (on the student side) and a loss."""

    def __init__(self, loss: nn.Module, connector: Optional[nn.Module] = None):
        super().__init__()
        self.connector = connector
        self.loss = loss
        try:
            self._takes_image = 'image' in inspect.signature(loss.forward).parameters
        except (TypeError, ValueError):
            self._takes_image = False

    def forward(self, student: torch.Tensor, teacher: Optional[torch.Tensor] = None,
                image: Optional[torch.Tensor] = None) -> torch.Tensor:
        if self.connector is not None:
            student = self.connector(student)
        args = (student, ) if teacher is None else (student, teacher)
        kwargs = dict(image=image) if self._takes_image else {}
        return self.loss(*args, **kwargs)


@MODELS.register_module()
class TranslationDistiller(nn.Module):
    """The distillation of a translation GAN: named terms, each ``loss_weight * loss`` of what it
    reads, logged as ``loss_<term>_<domain>``.

    A term reads one of (``inputs``):

    * ``'layers'`` (default) or ``dict(layers=[...])``: a ``(student, teacher)`` feature pair per
      tap, recorded on the translation of the real image; an optional learnable ``connector``
      maps the student feature first (its ``in_channels`` / ``out_channels`` are filled in);
    * ``'images'``: the student's and the teacher's image of that translation;
    * ``'student_image'``: the student's image alone (unary losses such as total variation);
    * ``dict(feature_net=NAME, layers=[...])``: both images through a frozen network of
      ``feature_nets`` (the student's with gradients, the teacher's without).

    One connector and loss are built per (term, domain, tap), so each CycleGAN direction and
    layer has its own projection head or adapter. Per domain the tap values are averaged
    (``reduce='mean'``, ReKo's ``1 / number of layers``) or summed (``'sum'``). Loss arguments
    ``student_channels`` / ``teacher_channels`` are filled in when the loss takes them. Losses
    run in float32 with autocast off.

    Learnable parts (connectors, loss parameters such as VID's variance) train with the student:
    name ``'distill'`` in the generators' optimizer. Frozen feature networks are rebuilt from
    their files and left out of :meth:`state_dict`.

    Built by :class:`TeacherStudentGAN` from ``model.distill``; ``students`` / ``teachers`` are the
    generators per distilled domain (hooked, never owned); ``teacher`` is the
    :class:`~reko_mm.models.FrozenTeacher`, handed to feature networks that ask for it (GCC's
    reads its discriminators). A distiller with no terms (the teacher-target baseline) records
    nothing and adds no loss.

    Examples:
        >>> distill = dict(layers=['model.5', 'model.11'],
        ...                losses=dict(at=dict(loss=dict(type='ATLoss', loss_weight=1000.0)),
        ...                            kd=dict(inputs='images',
        ...                                    loss=dict(type='OutputL1Loss', loss_weight=10.0))))
        >>> # logged per domain: loss_at_<domain>, loss_kd_<domain>
    """

    def __init__(self, losses: dict, layers=None, feature_nets: Optional[dict] = None,
                 probe_size: Optional[int] = None, recorder: str = 'ModuleOutputRecorder', *,
                 students: Dict[str, nn.Module], teachers: Dict[str, nn.Module],
                 teacher: Optional[nn.Module] = None):
        super().__init__()
        self.domains = list(students)
        default_layers = distill_config.parse_layers(layers) if layers is not None else None
        feature_nets = dict(feature_nets or {})
        self.specs: Dict[str, TermSpec] = {
            name: distill_config.parse_term(name, term, default_layers, feature_nets)
            for name, term in losses.items()}
        self.probe_size = probe_size or 64

        # -- frozen feature networks; terms reading an unavailable one are switched off, loudly
        self.feature_nets = nn.ModuleDict()
        self.disabled_terms: Dict[str, str] = {}
        for net_name, net_cfg in feature_nets.items():
            if not any(s.feature_net == net_name for s in self.specs.values()):
                continue
            net = _build(net_cfg, dict(teacher=teacher, domains=self.domains))
            net.requires_grad_(False)
            if getattr(net, 'available', True):
                self.feature_nets[net_name] = net
                continue
            for s in self.specs.values():
                if s.feature_net == net_name:
                    self.disabled_terms[s.name] = net.unavailable_reason
        for name, reason in self.disabled_terms.items():
            print_log(f'DISTILLATION TERM {name!r} IS OFF: {reason} The run is labelled '
                      f'{self.label!r} in its checkpoints.', logger='current', level=30)
        active = [s for s in self.specs.values() if s.name not in self.disabled_terms]
        if self.specs and not active:
            raise ValueError('every distillation term is switched off ('
                             f'{self.disabled_terms}); nothing would be distilled.')

        # -- recorders on the generators, at every tap some term reads
        pairs = distill_config.layer_pairs(active)
        self._recorders: Dict[str, Dict[str, Dict[str, object]]] = {'student': {}, 'teacher': {}}
        for side, nets in (('student', students), ('teacher', teachers)):
            names = sorted({p[0 if side == 'student' else 1] for p in pairs})
            for domain in self.domains:
                self._recorders[side][domain] = {
                    n: TASK_UTILS.build(dict(type=recorder, model=nets[domain], name=n,
                                             owner=f'{side} generator {domain!r}'))
                    for n in names}

        # -- one dry run of each network tells channels and spatial sizes
        shapes = {}
        if pairs:
            domain = self.domains[0]
            for side, nets in (('student', students), ('teacher', teachers)):
                shapes[side] = self._probe(nets[domain], self._recorders[side][domain])
        fnet_shapes = {name: self._probe_feature_net(net) for name, net in
                       self.feature_nets.items()}
        self._teacher_channels = {n: s[1] for n, s in shapes.get('teacher', {}).items()}
        self._student_of = {t: s for s, t in pairs}  # a student layer read with each teacher's

        # -- connectors and losses, per term, domain and tap (in this order: seeded runs build
        #    the same random projection heads as reko-mm did before the distiller existed)
        self.terms = nn.ModuleDict()
        for spec in active:
            per_tap = nn.ModuleDict()
            for domain in self.domains:
                for i, tap in enumerate(spec.taps):
                    per_tap[f'{domain}_{i}'] = self._build_term(spec, tap, shapes, fnet_shapes)
            self.terms[spec.name] = per_tap

        self._records: Dict[str, dict] = {}
        self._register_state_dict_hook(_drop_feature_net_keys)
        self._register_load_state_dict_pre_hook(self._fill_feature_net_keys, with_module=False)

    # ------------------------------------------------------------------------------- build
    def _probe(self, net: nn.Module, recorders: Dict[str, object]) -> Dict[str, torch.Size]:
        in_channels = next(m for m in net.modules() if isinstance(m, nn.Conv2d)).in_channels
        param = next(net.parameters())
        was_training = net.training
        net.eval()
        try:
            with torch.no_grad(), ExitStack() as stack:
                for r in recorders.values():
                    stack.enter_context(r.recording())
                net(torch.zeros(1, in_channels, self.probe_size, self.probe_size,
                                dtype=param.dtype, device=param.device))
            return {n: r.get().shape for n, r in recorders.items()}
        finally:
            net.train(was_training)
            for r in recorders.values():
                r.clear()

    def _probe_feature_net(self, net: nn.Module) -> Dict[str, torch.Size]:
        if not hasattr(net, 'layers'):
            return {}
        img = torch.zeros(1, 3, self.probe_size, self.probe_size)
        with torch.no_grad():
            return {k: v.shape for k, v in net(img, domain=self.domains[0], source=img).items()}

    def _build_term(self, spec: TermSpec, tap, shapes, fnet_shapes) -> DistillTerm:
        where = f'model.distill.losses.{spec.name}'
        fill: Dict[str, object] = {}
        connector = None
        if spec.kind == 'layers':
            (s_name, t_name) = tap
            s_shape, t_shape = shapes['student'][s_name], shapes['teacher'][t_name]
            if s_shape[2:] != t_shape[2:]:
                raise ValueError(
                    f'{where}: student layer {s_name!r} gives {tuple(s_shape)} but teacher layer '
                    f'{t_name!r} gives {tuple(t_shape)} for a {self.probe_size}x'
                    f'{self.probe_size} input; pick layers at the same depth (the same spatial '
                    'size).')
            s_channels, t_channels = s_shape[1], t_shape[1]
            if spec.connector is not None:
                connector = _build(spec.connector, dict(in_channels=s_channels,
                                                        out_channels=t_channels))
                s_channels = t_channels
            fill = dict(student_channels=s_channels, teacher_channels=t_channels)
            size = tuple(s_shape[2:])
        elif spec.kind == 'feature_net':
            f_shapes = fnet_shapes.get(spec.feature_net, {})
            if f_shapes and tap not in f_shapes:
                raise KeyError(f'{where}: feature network {spec.feature_net!r} has no layer '
                               f'{tap!r}; it returns {sorted(f_shapes)}')
            if tap in f_shapes:
                fill = dict(student_channels=f_shapes[tap][1], teacher_channels=f_shapes[tap][1])
                size = tuple(f_shapes[tap][2:])
            else:
                size = None
        else:
            size = (self.probe_size, self.probe_size)
        loss_cfg = dict(spec.loss)
        loss = _build(loss_cfg, fill)
        # Catch K > H*W (and similar) now, at the probe's size, not at the first step.
        if size is not None and hasattr(loss, 'num_selected'):
            try:
                loss.num_selected(*size)
            except ValueError as err:
                raise ValueError(
                    f'{where}: {err} (the feature map is {size[0]}x{size[1]} for a '
                    f'{self.probe_size}x{self.probe_size} input, model.distill.probe_size; set '
                    'probe_size to the training crop size if that is larger).') from None
        return DistillTerm(loss, connector)

    # ------------------------------------------------------------------------ recording
    @contextmanager
    def recording(self, domain: str, side: str) -> Iterator[None]:
        """Record the taps of the ``side`` ('student' / 'teacher') generator of ``domain``."""
        with ExitStack() as stack:
            for rec in self._recorders[side][domain].values():
                stack.enter_context(rec.recording())
            yield

    def teacher_layers(self, domain: str) -> List[str]:
        """The teacher layers the terms read at ``domain`` (sorted names)."""
        return sorted(self._recorders['teacher'][domain])

    def keep(self, domain: str, real: torch.Tensor, student_img: torch.Tensor,
             teacher_img: torch.Tensor,
             teacher_features: Optional[Dict[str, torch.Tensor]] = None) -> None:
        """Keep what one real-image translation recorded, for :meth:`compute_losses`;
        ``teacher_features`` (``{layer: N x C x h x w}``, the teacher's cached outputs) stand
        for the teacher's recordings when the teacher did not run."""
        feats = {}
        for side in ('student', 'teacher'):
            recs = self._recorders[side][domain]
            if side == 'teacher' and teacher_features is not None:
                feats[side] = self._cached(domain, teacher_features, feats['student'])
            else:
                feats[side] = {n: r.get() for n, r in recs.items()}
            for r in recs.values():
                r.clear()
        self._records[domain] = dict(real=real, student_img=student_img,
                                     teacher_img=teacher_img.detach(), **feats)

    def _cached(self, domain: str, cached: Dict[str, torch.Tensor],
                student: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """The teacher's cached features at the layers the terms read, checked against the
        teacher's channels and the student's feature maps."""
        missing = [n for n in self.teacher_layers(domain) if n not in cached]
        if missing:
            raise KeyError(
                f"the distillation terms read the teacher's layers {missing}, which the cached "
                f'features do not hold (they hold {sorted(cached)}): add them to '
                'train_dataloader.dataset.features and rebuild the cache '
                '(tools/dataset_converters/teacher_translations.py CONFIG)')
        pairs = self._student_of
        out = {}
        for n in self.teacher_layers(domain):
            f = cached[n]
            s = student[pairs[n]]
            if f.shape[1] != self._teacher_channels[n] or f.shape[0] != s.shape[0] or \
                    f.shape[2:] != s.shape[2:]:
                raise ValueError(
                    f"the teacher's cached {n!r} is {tuple(f.shape)} where the teacher gives "
                    f'{self._teacher_channels[n]} channels and the student\'s {pairs[n]!r} is '
                    f'{tuple(s.shape)}: the cache was built for another teacher layer or crop; '
                    'rebuild it for this config')
            out[n] = f
        return out

    def kept_domains(self) -> List[str]:
        return list(self._records)

    def reset(self) -> None:
        self._records = {}
        for side in self._recorders.values():
            for recs in side.values():
                for r in recs.values():
                    r.clear()

    # --------------------------------------------------------------------------- losses
    def compute_losses(self) -> Dict[str, torch.Tensor]:
        """``{'loss_<term>_<domain>': value}`` for every kept domain, in float32."""
        losses = {}
        for domain, rec in self._records.items():
            device_type = rec['real'].device.type
            with torch.autocast(device_type=device_type, enabled=False):
                fnet_cache: Dict[Tuple[str, str], Dict[str, torch.Tensor]] = {}
                for name, per_tap in self.terms.items():
                    spec = self.specs[name]
                    values = [per_tap[f'{domain}_{i}'](*self._inputs(spec, tap, rec, domain,
                                                                     fnet_cache),
                                                       image=rec['real'].float())
                              for i, tap in enumerate(spec.taps)]
                    total = sum(values)
                    losses[f'loss_{name}_{domain}'] = total / len(values) \
                        if spec.reduce == 'mean' else total
        return losses

    def _inputs(self, spec: TermSpec, tap, rec: dict, domain: str, cache) -> tuple:
        if spec.kind == 'layers':
            return rec['student'][tap[0]].float(), rec['teacher'][tap[1]].float()
        if spec.kind == 'images':
            return rec['student_img'].float(), rec['teacher_img'].float()
        if spec.kind == 'student_image':
            return (rec['student_img'].float(), )
        net = self.feature_nets[spec.feature_net]
        for side in ('student', 'teacher'):
            if (spec.feature_net, side) not in cache:
                img = rec[f'{side}_img'].float()
                kwargs = dict(domain=domain, source=rec['real'].float())
                if side == 'teacher':
                    with torch.no_grad():
                        cache[spec.feature_net, side] = net(img, **kwargs)
                else:
                    cache[spec.feature_net, side] = net(img, **kwargs)
        return cache[spec.feature_net, 'student'][tap], cache[spec.feature_net, 'teacher'][tap]

    # ---------------------------------------------------------------------------- tools
    def term(self, name: str, domain: str, tap: int = 0) -> DistillTerm:
        """The connector + loss of term ``name`` at ``domain`` and tap index ``tap``."""
        if name not in self.terms:
            raise KeyError(f'no distillation term {name!r}; terms: {list(self.terms)}')
        return self.terms[name][f'{domain}_{tap}']

    def terms_of_type(self, loss_type: str) -> List[str]:
        """Names of the active terms whose loss has type ``loss_type``."""
        return [n for n, s in self.specs.items()
                if n in self.terms and s.loss['type'] == loss_type]

    def layer_pairs(self, name: str) -> List[Tuple[str, str]]:
        spec = self.specs[name]
        if spec.kind != 'layers':
            raise ValueError(f'term {name!r} reads {spec.kind}, not generator layers')
        return list(spec.taps)

    def trainable_parameters(self) -> List[Tuple[str, nn.Parameter]]:
        return [(n, p) for n, p in self.named_parameters() if p.requires_grad]

    @property
    def label(self) -> str:
        """The run's distillation: its active terms, and the ones switched off."""
        active = [n for n in self.specs if n not in self.disabled_terms]
        text = '+'.join(active) or 'none'
        if self.disabled_terms:
            text += ' (off: ' + ', '.join(self.disabled_terms) + ')'
        return text

    # ---------------------------------------------------------------------- checkpoints
    def _fill_feature_net_keys(self, state_dict, prefix, local_metadata, strict, missing_keys,
                               unexpected_keys, error_msgs):
        # Feature networks come from their own files: keep the loaded ones.
        for k, v in self.feature_nets.state_dict().items():
            state_dict.setdefault(f'{prefix}feature_nets.{k}', v)


def _drop_feature_net_keys(module, state_dict, prefix, local_metadata):
    for k in [k for k in state_dict if k.startswith(prefix + 'feature_nets.')]:
        del state_dict[k]
    return state_dict
