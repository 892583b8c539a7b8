"""A MMagic translation GAN (the student) distilled from a frozen teacher generator."""
import copy
import os.path as osp
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmagic.models.base_models import BaseTranslationModel
from mmagic.models.editors import CycleGAN, Pix2Pix
from mmagic.registry import MODELS
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import _DropoutNd

from .. import losses as _losses  # noqa: F401  (registers the losses)
from ..recorders import ModuleOutputRecorder  # noqa: F401  (registers the default recorder)
from . import connectors as _connectors  # noqa: F401  (registers the connectors)
from . import feature_nets as _feature_nets  # noqa: F401  (registers the feature networks)
from .distillers import TranslationDistiller, normalise
from .editors import Pix2PixHD

_SUPPORTED: Dict[str, type] = {}
TEACHER_KEYS = ('generator', 'discriminator', 'ckpt', 'save_in_ckpt', 'norm', 'dropout')
TEACHER_NORMS = ('batch', 'running')
# Keys an older reko-mm (before the distiller) saved in the model's state_dict.
LEGACY_DISTILL_PREFIX = 'distill_losses.'


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


def read_model_state(ckpt: str, what: str = 'teacher checkpoint',
                     config_key: str = 'model.teacher.ckpt') -> Dict[str, torch.Tensor]:
    """The ``state_dict`` of a checkpoint (``module.`` prefixes removed), with clear errors."""
    if not ckpt:
        raise ValueError(
            f'{config_key} is not set: ReKo distils from a trained teacher. Train one '
            '(e.g. `python tools/train.py configs/reko/<...>_teacher.py`) and pass '
            f'`--cfg-options {config_key}=work_dirs/<...>/iter_<N>.pth`.')
    if '://' not in ckpt and not osp.isfile(ckpt):
        raise FileNotFoundError(f'{what} not found: {osp.abspath(ckpt)} ({config_key}='
                                f'{ckpt!r}). Set {config_key} to an existing file or URL.')
    try:
        checkpoint = CheckpointLoader.load_checkpoint(ckpt, map_location='cpu')
    except Exception as err:  # network errors, corrupt files, ...
        raise RuntimeError(f'could not load the {what} {ckpt!r}: {err}') from err
    state = checkpoint.get('state_dict', checkpoint)
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}


def _supported_student(student_type: str):
    def register(cls):
        _SUPPORTED[student_type] = cls
        return cls
    return register


class TeacherStudentGAN(BaseTranslationModel):
    """An MMagic translation model trained by distillation from a frozen teacher (ReKo, eq. 5).

    The model *is* the student: ``TeacherStudentGAN(student_type='CycleGAN', ...)`` builds a
    :class:`TeacherStudentCycleGAN`, a subclass of MMagic's ``CycleGAN`` that takes the same
    arguments, so optimizers, hooks, metrics and val/test loops work unchanged. Its
    ``state_dict`` holds exactly the keys of the plain student, so checkpoints strict-load into
    the no-KD config. On top it holds

    * ``teacher``: one generator per reachable domain, built from the student's generator config
      updated with ``teacher['generator']``, loaded from ``teacher['ckpt']``, frozen, run without
      gradients on the same real images;
    * ``distill``: a :class:`TranslationDistiller` (terms, connectors, frozen projection heads).
      Its state is saved by :class:`~reko_mm.engine.DistillCheckpointHook` in the checkpoint's
      own ``'distill'`` entry, so ``--resume`` restores it exactly.

    Features and images are recorded only on the translation of the *real* image (not on the
    cycle or identity passes); the distillation losses are added to the generator loss.

    Args:
        student_type (str): the MMagic model distilled (see :data:`SUPPORTED_STUDENTS`).
        teacher (dict): ``generator`` (overrides on the student generator config; a dict with a
            different ``type`` replaces it), ``discriminator`` (likewise, for methods that read
            the teacher's discriminator), ``ckpt`` (checkpoint of the same model type; keys
            ``generators.<domain>.*`` are read), ``norm`` (BatchNorm statistics of the teacher:
            ``'batch'``, the batch's own as MMagic's Pix2Pix evaluates, or ``'running'``),
            ``dropout`` (dropout on in the teacher; default False: deterministic features),
            ``save_in_ckpt`` (keep the teacher in saved checkpoints; default False).
        distill (dict): see :mod:`reko_mm.models.distillers.distill_config`.
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

    conditional_discriminator = False  # Pix2Pix: the discriminator sees cat(source, image)

    def __init__(self, *args, teacher: dict, distill: dict,
                 student_type: Optional[str] = None, **kwargs):
        super().__init__(*args, **kwargs)
        teacher = dict(teacher)
        unknown = sorted(set(teacher) - set(TEACHER_KEYS))
        if unknown:
            raise ValueError(f'unknown keys in model.teacher: {unknown}; valid keys: '
                             f'{list(TEACHER_KEYS)}')
        self.save_teacher = teacher.get('save_in_ckpt', False)
        self.teacher_ckpt = teacher.get('ckpt')
        self.teacher_norm = teacher.get('norm', 'batch')
        if self.teacher_norm not in TEACHER_NORMS:
            raise ValueError(f'model.teacher.norm must be one of {TEACHER_NORMS}, got '
                             f'{self.teacher_norm!r}')
        self.teacher_dropout = teacher.get('dropout', False)
        if not isinstance(self.teacher_dropout, bool):
            raise TypeError(f'model.teacher.dropout must be True or False, got '
                            f'{self.teacher_dropout!r}')
        self.teacher_gen_cfg = teacher_generator_cfg(self._gen_cfg, teacher.get('generator', {}))
        self.teacher = nn.ModuleDict(
            {d: MODELS.build(self.teacher_gen_cfg) for d in self._reachable_domains})
        state = read_model_state(self.teacher_ckpt)
        self._load_teacher(state)
        self.teacher.requires_grad_(False)
        for m in self.teacher.modules():
            m._is_init = True  # keep the loaded weights through init_weights()
            if isinstance(m, _BatchNorm):
                # 'batch': normalise with the batch's own statistics and never update the
                # running ones; 'running' (eval mode) uses them as they were loaded.
                m.track_running_stats = False
        self._set_teacher_mode()

        disc_cfg = self._disc_cfg and teacher_generator_cfg(self._disc_cfg,
                                                             teacher.get('discriminator', {}))
        generators = self.get_module(self.generators)
        distill = normalise(distill)
        # The build-time dry run needs an input the generator takes: a UNet halves it down to
        # 1x1 (2**num_down); 64 suits the others. Set probe_size to the training crop size to
        # check K against the real maps.
        distill.setdefault('probe_size', 2**self._gen_cfg['num_down']
                           if self._gen_cfg.get('type') == 'UnetGenerator' else 64)
        self.distill = MODELS.build(
            dict(type=distill.pop('type', 'TranslationDistiller'), **distill),
            default_args=dict(
                students={d: generators[d] for d in self._reachable_domains},
                teachers=dict(self.teacher),
                context=dict(discriminator_cfg=disc_cfg, teacher_state=state,
                             teacher_ckpt=self.teacher_ckpt,
                             conditional_discriminator=self.conditional_discriminator)))
        del state

        self._real_inputs = []
        self._first_step_checked = False
        self._distill_state_saver: Optional[str] = None
        self._register_state_dict_hook(_drop_non_student_keys)
        self._register_load_state_dict_pre_hook(self._fill_non_student_keys, with_module=False)

    # ------------------------------------------------------------------ build
    def _load_teacher(self, state: Dict[str, torch.Tensor]) -> None:
        ckpt = self.teacher_ckpt
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
        print_log(f'distillation: loaded teacher generators {list(self.teacher)} from {ckpt} '
                  f'(BatchNorm statistics: {self.teacher_norm}, dropout: '
                  f'{"on" if self.teacher_dropout else "off"})', logger='current')

    # ------------------------------------------------------------- training
    def _set_teacher_mode(self) -> None:
        self.teacher.eval()
        for m in self.teacher.modules():
            if isinstance(m, _BatchNorm) and self.teacher_norm == 'batch':
                m.train()  # batch statistics; running ones are not updated (see __init__)
            elif isinstance(m, _DropoutNd) and self.teacher_dropout:
                m.train()

    def train(self, mode: bool = True):
        super().train(mode)
        self._set_teacher_mode()
        return self

    def register_distill_state_saver(self, name: str) -> None:
        """Say who saves :attr:`distill`'s state with each checkpoint (``DistillCheckpointHook``
        does, under mmengine's Runner). Training refuses to start without one."""
        self._distill_state_saver = name

    def _check_first_step(self, optim_wrapper) -> None:
        if self._first_step_checked:
            return
        if self._distill_state_saver is None and self.distill.state_dict():
            raise RuntimeError(
                "TeacherStudentGAN: nothing saves the distillation's state (projection heads, "
                'connectors) with the checkpoints, so --resume would silently restart it. Add '
                "dict(type='DistillCheckpointHook') to custom_hooks (tools/train.py adds it), "
                'or, in a loop of your own, save model.distill.state_dict() yourself and call '
                "model.register_distill_state_saver('my loop').")
        owned = set()
        wrappers = optim_wrapper.values() if hasattr(optim_wrapper, 'values') else [optim_wrapper]
        for wrapper in wrappers:
            for group in wrapper.optimizer.param_groups:
                owned.update(id(p) for p in group['params'])
        orphans = [n for n, p in self.distill.trainable_parameters() if id(p) not in owned]
        if orphans:
            raise ValueError(
                f'trainable distillation parameters with no optimizer: distill.{orphans[0]}'
                f'{f" and {len(orphans) - 1} more" if len(orphans) > 1 else ""}. They would '
                'stay at their initial values. Train them with the student:\n'
                "  optim_wrapper = dict(generators=dict(modules=['generators', 'distill']),\n"
                "                       discriminators=dict(modules='discriminators'))\n"
                "(or --cfg-options \"optim_wrapper.generators.modules=['generators','distill']\" "
                'optim_wrapper.discriminators.modules=discriminators)')
        self._first_step_checked = True

    def _capture_real_inputs(self, module, args, output) -> None:
        inputs = output['inputs'] if isinstance(output, dict) else output[0]
        values = inputs.values() if isinstance(inputs, dict) else [inputs]
        self._real_inputs = [v for v in values if isinstance(v, torch.Tensor)]

    def _is_real(self, img: torch.Tensor) -> bool:
        return any(img is real for real in self._real_inputs)

    def train_step(self, data, optim_wrapper):
        self._check_first_step(optim_wrapper)
        # The data preprocessor's outputs are the real images; the translation of exactly
        # these tensors (not the cycle pass, not the identity pass) is distilled.
        handle = self.data_preprocessor.register_forward_hook(self._capture_real_inputs)
        try:
            return super().train_step(data, optim_wrapper)
        finally:
            handle.remove()
            self._real_inputs = []
            self.distill.reset()

    def forward_train(self, img, target_domain, **kwargs):
        if not self._is_real(img):
            return super().forward_train(img, target_domain=target_domain, **kwargs)
        with self.distill.recording(target_domain, 'student'):
            results = super().forward_train(img, target_domain=target_domain, **kwargs)
        with torch.no_grad(), self.distill.recording(target_domain, 'teacher'):
            teacher_img = self.teacher[target_domain](img, **kwargs)
        self.distill.keep(target_domain, real=img, student_img=results['target'],
                          teacher_img=teacher_img)
        return results

    def distill_loss(self) -> Dict[str, torch.Tensor]:
        """``{'loss_<term>_<domain>': value}`` of the recorded real-image translations.

        Raises when a reachable domain was not recorded: training would otherwise silently go
        on as a plain student.
        """
        missing = [d for d in self._reachable_domains if d not in self.distill.kept_domains()]
        if missing:
            raise RuntimeError(
                f'distillation is off for {missing} in this step: the generator was never called '
                'on the real input images that the data preprocessor returned (reko-mm '
                'recognises them by identity), so no features were recorded. This happens when '
                'an MMagic change or a data preprocessor copies the inputs between the '
                'preprocessor and the generator; please report it with your MMagic version. '
                'Refusing to train a plain student silently.')
        return self.distill.compute_losses()

    def _get_gen_loss(self, outputs):
        loss_g, log_vars_g = super()._get_gen_loss(outputs)
        loss_kd, log_kd = self.parse_losses(self.distill_loss())
        log_vars_g['loss'] = log_vars_g['loss'] + log_kd.pop('loss')
        log_vars_g.update(log_kd)
        return loss_g + loss_kd, log_vars_g

    # ---------------------------------------------------------- checkpoints
    def load_distill_state_dict(self, state: Dict[str, torch.Tensor], source: str = '') -> None:
        """Strictly load :attr:`distill`'s state (saved by ``DistillCheckpointHook``)."""
        own = self.distill.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
        if missing or unexpected or wrong:
            raise ValueError(
                f"the distillation state in {source or 'the checkpoint'} does not match this "
                f'config: missing {missing[:4]}, unexpected {unexpected[:4]}, shapes differ at '
                f'{wrong[:4]}. Was it saved by another distillation config? Resume it with the '
                'config it was trained with, or start a new run (--work-dir).')
        self.distill.load_state_dict(state, strict=True)

    def _fill_non_student_keys(self, state_dict, prefix, local_metadata, strict, missing_keys,
                               unexpected_keys, error_msgs):
        # Older reko-mm checkpoints kept ReKo's heads as distill_losses.<domain>_<i>.*: read
        # them into the ReKo term once, with a log line.
        legacy = {k: state_dict.pop(k) for k in list(state_dict)
                  if k.startswith(prefix + LEGACY_DISTILL_PREFIX)}
        if legacy:
            if 'reko' not in self.distill.terms:
                raise ValueError(
                    f'the checkpoint has {len(legacy)} distill_losses.* keys of an older reko-mm '
                    "ReKo run, but this config has no 'reko' term; resume it with its ReKo config")
            for k, v in legacy.items():
                rest = k[len(prefix + LEGACY_DISTILL_PREFIX):]
                key, _, param = rest.partition('.')
                state_dict[f'{prefix}distill.terms.reko.{key}.loss.{param}'] = v
            print_log(f'read {len(legacy)} distillation keys of an older reko-mm checkpoint '
                      "(distill_losses.*) into the 'reko' term; checkpoints saved from now on "
                      "keep them in their 'distill' entry", logger='current')
        # The teacher comes from teacher.ckpt, the distillation state from the checkpoint's
        # 'distill' entry: keep the current ones where the state_dict has none.
        for name in ('teacher', 'distill'):
            if any(k.startswith(f'{prefix}{name}.') for k in state_dict):
                continue
            for k, v in getattr(self, name).state_dict().items():
                state_dict[f'{prefix}{name}.{k}'] = v


def _drop_non_student_keys(module, state_dict, prefix, local_metadata):
    """The model's state_dict is the plain student's: no teacher (unless ``save_in_ckpt``), no
    distillation parts (``DistillCheckpointHook`` saves those in their own entry)."""
    drop = ('distill.', ) if getattr(module, 'save_teacher', False) else ('teacher.', 'distill.')
    for k in [k for k in state_dict if k[len(prefix):].startswith(drop)]:
        del state_dict[k]
    return state_dict


@MODELS.register_module()
@_supported_student('CycleGAN')
class TeacherStudentCycleGAN(TeacherStudentGAN, CycleGAN):
    """Distillation of MMagic's ``CycleGAN``: both generators, each with its own terms."""


@MODELS.register_module()
@_supported_student('Pix2Pix')
class TeacherStudentPix2Pix(TeacherStudentGAN, Pix2Pix):
    """Distillation of MMagic's ``Pix2Pix``: the one generator."""

    conditional_discriminator = True


@MODELS.register_module()
@_supported_student('Pix2PixHD')
class TeacherStudentPix2PixHD(TeacherStudentGAN, Pix2PixHD):
    """Distillation of :class:`~reko_mm.models.Pix2PixHD`: the one generator."""

    conditional_discriminator = True


MODELS.register_module(module=TeacherStudentGAN)
SUPPORTED_STUDENTS: Sequence[str] = tuple(_SUPPORTED)
