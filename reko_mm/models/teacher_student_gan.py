"""A MMagic translation GAN (the student) distilled from a frozen teacher generator."""
import copy
import os.path as osp
from contextlib import ExitStack
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmagic.models.base_models import BaseTranslationModel
from mmagic.models.editors import CycleGAN, Pix2Pix
from mmagic.registry import MODELS, TASK_UTILS
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

from ..losses import RegionAwareDistillLoss  # noqa: F401  (registers the default loss)
from ..recorders import ModuleOutputRecorder  # noqa: F401  (registers the default recorder)

_SUPPORTED: Dict[str, type] = {}
DEFAULT_LOSS = dict(type='RegionAwareDistillLoss', num_regions=64, temperature=0.07,
                    loss_weight=1.0)


def teacher_generator_cfg(student_generator: dict, override: dict) -> dict:
    """The teacher's generator config: the student's, updated with ``override``.

    An override with a different ``type`` is taken as the whole config.
    """
    student_cfg = copy.deepcopy(dict(student_generator))
    override = copy.deepcopy(dict(override))
    if 'type' in override and override['type'] != student_cfg.get('type'):
        return override
    student_cfg.update(override)
    return student_cfg


def student_model_cfg(reko_model_cfg: dict) -> dict:
    """The plain MMagic model config of a ``TeacherStudentGAN`` config (the student alone)."""
    cfg = copy.deepcopy(dict(reko_model_cfg))
    for key in ('teacher', 'distill'):
        cfg.pop(key, None)
    cfg['type'] = cfg.pop('student_type')
    return cfg


def student_config(cfg):
    """A copy of a whole config with a ``TeacherStudentGAN`` model replaced by its plain
    student (unchanged for a plain config): what evaluation and export build."""
    cfg = copy.deepcopy(cfg)
    if cfg.model.get('type') == 'TeacherStudentGAN':
        cfg.model = student_model_cfg(cfg.model)
    return cfg


def _supported_student(student_type: str):
    def register(cls):
        _SUPPORTED[student_type] = cls
        return cls
    return register


class TeacherStudentGAN(BaseTranslationModel):
    """An MMagic translation model trained with ReKo from a frozen teacher (eq. 5).

    The model *is* the student: ``TeacherStudentGAN(student_type='CycleGAN', ...)`` builds a
    :class:`TeacherStudentCycleGAN`, a subclass of MMagic's ``CycleGAN`` that takes the same
    arguments, so optimizers, hooks, metrics and val/test loops work unchanged, and its
    checkpoints hold the student under the same keys as a plain ``CycleGAN``. On top it holds

    * ``teacher``: one generator per reachable domain, built from the student's generator
      config updated with ``teacher['generator']``, loaded from ``teacher['ckpt']``, frozen,
      always in eval mode, run without gradients on the same real images;
    * ``distill_losses``: one loss (with its own frozen projector) per domain and layer pair.

    Features are recorded only on the translation of the *real* image (not on the cycle or
    identity passes), and ``alpha * mean over layer pairs`` of the losses is added to the
    generator loss, logged as ``loss_reko_<domain>``.

    Args:
        student_type (str): the MMagic model distilled (see :data:`_SUPPORTED`).
        teacher (dict): ``generator`` (overrides on the student generator config; a dict with a
            different ``type`` replaces it), ``ckpt`` (local path or URL of a checkpoint of the
            same model type; keys ``generators.<domain>.*`` are read), ``save_in_ckpt`` (keep
            the teacher in saved checkpoints; default False).
        distill (dict): ``layers``: a list of ``dict(student=NAME, teacher=NAME)`` module names
            relative to a generator (e.g. ``'model.11'``); ``loss``: loss config, its channels
            are filled in from the networks; ``probe_size``: input size for the build-time
            shape check (default 64, or 2**num_down for a UNet).
        *args, **kwargs: the student model's own arguments.
    """

    def __new__(cls, *args, student_type: Optional[str] = None, **kwargs):
        if cls is TeacherStudentGAN:
            if student_type not in _SUPPORTED:
                raise ValueError(
                    f'student_type={student_type!r} is not supported by TeacherStudentGAN; '
                    f'supported: {sorted(_SUPPORTED)}.')
            cls = _SUPPORTED[student_type]
        return super().__new__(cls)

    def __init__(self, *args, teacher: dict, distill: dict,
                 student_type: Optional[str] = None, **kwargs):
        super().__init__(*args, **kwargs)
        teacher = dict(teacher)
        self.save_teacher = teacher.pop('save_in_ckpt', False)
        self.teacher_ckpt = teacher.pop('ckpt', None)
        self.teacher_gen_cfg = teacher_generator_cfg(self._gen_cfg, teacher.pop('generator', {}))
        if teacher:
            raise ValueError(f'unknown keys in model.teacher: {sorted(teacher)}; expected '
                             "'generator', 'ckpt', 'save_in_ckpt'")
        self.teacher = nn.ModuleDict(
            {d: MODELS.build(self.teacher_gen_cfg) for d in self._reachable_domains})
        self._load_teacher(self.teacher_ckpt)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        for m in self.teacher.modules():  # keep the loaded weights through init_weights()
            m._is_init = True

        self.distill_layers = self._parse_layers(distill.get('layers'))
        self.distill_losses = nn.ModuleDict()
        self._recorders: Dict[str, List[Tuple[ModuleOutputRecorder, ModuleOutputRecorder]]] = {}
        self._build_distillation(distill)

        self._real_inputs: List[torch.Tensor] = []
        self._distill_feats: Dict[str, List[Tuple[torch.Tensor, torch.Tensor]]] = {}
        self._register_state_dict_hook(_drop_teacher_keys)
        self._register_load_state_dict_pre_hook(self._fill_teacher_keys, with_module=False)

    # ------------------------------------------------------------------ build
    def _load_teacher(self, ckpt: Optional[str]) -> None:
        if not ckpt:
            raise ValueError(
                'model.teacher.ckpt is not set: ReKo distils from a trained teacher. Train one '
                '(e.g. `python tools/train.py configs/reko/<...>_teacher.py`) and pass '
                '`--cfg-options model.teacher.ckpt=work_dirs/<...>/iter_<N>.pth`.')
        is_url = '://' in ckpt
        if not is_url and not osp.isfile(ckpt):
            raise FileNotFoundError(
                f'teacher checkpoint not found: {osp.abspath(ckpt)} (model.teacher.ckpt='
                f'{ckpt!r}). Set model.teacher.ckpt to an existing file or URL.')
        try:
            checkpoint = CheckpointLoader.load_checkpoint(ckpt, map_location='cpu')
        except Exception as err:  # network errors, corrupt files, ...
            raise RuntimeError(f'could not load the teacher checkpoint {ckpt!r}: {err}') from err
        state = checkpoint.get('state_dict', checkpoint)
        state = {k[len('module.'):] if k.startswith('module.') else k: v
                 for k, v in state.items()}
        found = sorted({k.split('.')[1] for k in state if k.startswith('generators.')})
        for domain, gen in self.teacher.items():
            prefix = f'generators.{domain}.'
            sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            if not sub:
                raise KeyError(
                    f'teacher checkpoint {ckpt} has no generator for domain {domain!r} '
                    f'(no keys {prefix}*); it has generators for {found}. Use a checkpoint of '
                    f'the same model and domains.')
            own = gen.state_dict()
            missing = sorted(set(own) - set(sub))
            unexpected = sorted(set(sub) - set(own))
            wrong = sorted(k for k in set(own) & set(sub) if own[k].shape != sub[k].shape)
            if missing or unexpected or wrong:
                detail = []
                if wrong:
                    detail.append('shape mismatch: ' + ', '.join(
                        f'{prefix}{k} {tuple(sub[k].shape)} in the checkpoint vs '
                        f'{tuple(own[k].shape)} in the config' for k in wrong[:5]))
                if missing:
                    detail.append(f'missing from the checkpoint: {[prefix + k for k in missing[:5]]}')
                if unexpected:
                    detail.append(f'not in the config: {[prefix + k for k in unexpected[:5]]}')
                raise ValueError(
                    f'teacher checkpoint {ckpt} does not match the teacher generator config '
                    f'{self.teacher_gen_cfg}: ' + '; '.join(detail) +
                    '. Set model.teacher.generator to the architecture the teacher was '
                    'trained with.')
            gen.load_state_dict(sub, strict=True)
        print_log(f'ReKo: loaded teacher generators {list(self.teacher)} from {ckpt}',
                  logger='current')

    @staticmethod
    def _parse_layers(layers) -> List[Tuple[str, str]]:
        if not layers:
            raise ValueError('model.distill.layers is empty: give at least one '
                             "dict(student='model.11', teacher='model.11')")
        pairs = []
        for layer in layers:
            if isinstance(layer, str):
                pairs.append((layer, layer))
            elif isinstance(layer, dict) and set(layer) <= {'student', 'teacher'} and \
                    'student' in layer:
                pairs.append((layer['student'], layer.get('teacher', layer['student'])))
            else:
                raise ValueError(f'each model.distill.layers entry is a module name or '
                                 f"dict(student=NAME, teacher=NAME), got {layer!r}")
        return pairs

    def _probe_size(self, distill: dict) -> int:
        if distill.get('probe_size'):
            return distill['probe_size']
        return 2**self._gen_cfg['num_down'] if 'num_down' in self._gen_cfg else 64

    def _build_distillation(self, distill: dict) -> None:
        loss_cfg = dict(copy.deepcopy(distill.get('loss', DEFAULT_LOSS)))
        loss_cfg.setdefault('type', 'RegionAwareDistillLoss')
        recorder_type = distill.get('recorder', 'ModuleOutputRecorder')
        size = self._probe_size(distill)
        generators = self.get_module(self.generators)
        for domain in self._reachable_domains:
            pairs = []
            for s_name, t_name in self.distill_layers:
                pairs.append((
                    TASK_UTILS.build(dict(type=recorder_type, model=generators[domain],
                                          name=s_name, owner=f'student generator {domain!r}')),
                    TASK_UTILS.build(dict(type=recorder_type, model=self.teacher[domain],
                                          name=t_name, owner=f'teacher generator {domain!r}'))))
            self._recorders[domain] = pairs
        # One dry run per network tells the channels (and checks the spatial sizes agree).
        domain = self._reachable_domains[0]
        s_shapes = self._probe_shapes(generators[domain], [p[0] for p in self._recorders[domain]], size)
        t_shapes = self._probe_shapes(self.teacher[domain], [p[1] for p in self._recorders[domain]], size)
        for (s_name, t_name), s_shape, t_shape in zip(self.distill_layers, s_shapes, t_shapes):
            if s_shape[2:] != t_shape[2:]:
                raise ValueError(
                    f'student layer {s_name!r} gives {tuple(s_shape)} but teacher layer '
                    f'{t_name!r} gives {tuple(t_shape)} for a {size}x{size} input: ReKo needs '
                    'the same spatial size; pick layers at the same depth.')
        for domain in self._reachable_domains:
            for i, (s_shape, t_shape) in enumerate(zip(s_shapes, t_shapes)):
                cfg = dict(loss_cfg, student_channels=s_shape[1], teacher_channels=t_shape[1])
                self.distill_losses[f'{domain}_{i}'] = MODELS.build(cfg)

    @staticmethod
    def _probe_shapes(net: nn.Module, recorders, size: int) -> List[torch.Size]:
        in_channels = next(m for m in net.modules() if isinstance(m, nn.Conv2d)).in_channels
        was_training = net.training
        net.eval()
        try:
            with torch.no_grad(), ExitStack() as stack:
                for r in recorders:
                    stack.enter_context(r.recording())
                param = next(net.parameters())
                net(torch.zeros(1, in_channels, size, size, dtype=param.dtype,
                                device=param.device))
            return [r.get().shape for r in recorders]
        finally:
            net.train(was_training)
            for r in recorders:
                r.clear()

    # ------------------------------------------------------------- training
    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        return self

    def _capture_real_inputs(self, module, args, output) -> None:
        inputs = output['inputs'] if isinstance(output, dict) else output[0]
        values = inputs.values() if isinstance(inputs, dict) else [inputs]
        self._real_inputs = [v for v in values if isinstance(v, torch.Tensor)]

    def _is_real(self, img: torch.Tensor) -> bool:
        return any(img is real for real in self._real_inputs)

    def train_step(self, data, optim_wrapper):
        # The data preprocessor's outputs are the real images; the translation of exactly
        # these tensors (not the cycle pass, not the identity pass) is distilled.
        handle = self.data_preprocessor.register_forward_hook(self._capture_real_inputs)
        try:
            return super().train_step(data, optim_wrapper)
        finally:
            handle.remove()
            self._real_inputs = []
            self._distill_feats = {}

    def forward_train(self, img, target_domain, **kwargs):
        if not self._is_real(img):
            return super().forward_train(img, target_domain=target_domain, **kwargs)
        pairs = self._recorders[target_domain]
        with ExitStack() as stack:
            for rec, _ in pairs:
                stack.enter_context(rec.recording())
            results = super().forward_train(img, target_domain=target_domain, **kwargs)
        with torch.no_grad(), ExitStack() as stack:
            for _, rec in pairs:
                stack.enter_context(rec.recording())
            self.teacher[target_domain](img, **kwargs)
        self._distill_feats[target_domain] = [(s.get(), t.get()) for s, t in pairs]
        for s, t in pairs:
            s.clear()
            t.clear()
        return results

    def distill_loss(self) -> Dict[str, torch.Tensor]:
        """``loss_reko_<domain>``: mean over layer pairs of the recorded features' losses."""
        losses = {}
        for domain, feats in self._distill_feats.items():
            terms = [self.distill_losses[f'{domain}_{i}'](s, t) for i, (s, t) in enumerate(feats)]
            losses[f'loss_reko_{domain}'] = sum(terms) / len(terms)
        return losses

    def _get_gen_loss(self, outputs):
        loss_g, log_vars_g = super()._get_gen_loss(outputs)
        reko = self.distill_loss()
        if reko:
            loss_reko, log_reko = self.parse_losses(reko)
            loss_g = loss_g + loss_reko
            log_vars_g['loss'] = log_vars_g['loss'] + log_reko.pop('loss')
            log_vars_g.update(log_reko)
        return loss_g, log_vars_g

    # ---------------------------------------------------------- checkpoints
    def _fill_teacher_keys(self, state_dict, prefix, local_metadata, strict, missing_keys,
                           unexpected_keys, error_msgs):
        # Checkpoints leave the teacher out (it comes from teacher.ckpt): keep the loaded one.
        if any(k.startswith(prefix + 'teacher.') for k in state_dict):
            return
        for k, v in self.teacher.state_dict().items():
            state_dict[f'{prefix}teacher.{k}'] = v


def _drop_teacher_keys(module, state_dict, prefix, local_metadata):
    if getattr(module, 'save_teacher', False):
        return state_dict
    for k in [k for k in state_dict if k.startswith(prefix + 'teacher.')]:
        del state_dict[k]
    return state_dict


@MODELS.register_module()
@_supported_student('CycleGAN')
class TeacherStudentCycleGAN(TeacherStudentGAN, CycleGAN):
    """ReKo on MMagic's ``CycleGAN``: both generators are distilled, each with its own loss."""


@MODELS.register_module()
@_supported_student('Pix2Pix')
class TeacherStudentPix2Pix(TeacherStudentGAN, Pix2Pix):
    """ReKo on MMagic's ``Pix2Pix``: the one generator is distilled."""


MODELS.register_module(module=TeacherStudentGAN)
SUPPORTED_STUDENTS: Sequence[str] = tuple(_SUPPORTED)
