"""A MMagic translation GAN (the student) distilled from a frozen teacher generator."""
from contextlib import nullcontext
from typing import Dict, List, Optional, Sequence

import torch
from mmagic.models.base_models import BaseTranslationModel
from mmagic.models.editors import CycleGAN, Pix2Pix
from mmagic.registry import MODELS
from mmengine.logging import print_log

from .. import losses as _losses  # noqa: F401  (registers the losses)
from ..recorders import ModuleOutputRecorder  # noqa: F401  (registers the default recorder)
from . import connectors as _connectors  # noqa: F401  (registers the connectors)
from . import feature_nets as _feature_nets  # noqa: F401  (registers the feature networks)
from ..utils.state_dict import diff_state
from .distillers import normalise
from .editors import Pix2PixHD
from ..utils.data_check import UNET_NUM_DOWN
from .frozen_teacher import TEACHER_KEYS, FrozenTeacher, read_checkpoint, teacher_generator_cfg
from .student_init import (describe_init, init_student_from_teacher, normalise_student_init,
                           ranked_by_divided_out_norms)

_SUPPORTED: Dict[str, type] = {}
# Keys an older reko-mm (before the distiller) saved in the model's state_dict.
LEGACY_DISTILL_PREFIX = 'distill_losses.'


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

    * ``teacher``: a :class:`FrozenTeacher`, one generator per distilled domain, run without
      gradients on the same real images;
    * ``distill``: a :class:`TranslationDistiller` (terms, connectors, frozen projection heads).
      Its state is saved by :class:`~reko_mm.engine.DistillCheckpointHook` in the checkpoint's
      own ``'distill'`` entry, so ``--resume`` restores it exactly.

    Features and images are recorded only on the translation of the *real* image (not on the
    cycle or identity passes); the distillation losses are added to the generator loss. A
    CycleGAN direction without a teacher (``teacher.domains``) trains as in plain CycleGAN.

    With ``teacher.as_target=True`` (Pix2Pix / Pix2PixHD students) the teacher's translation of
    each source image replaces the target image: the student's L1 and GAN losses learn it (the
    discriminator's real pairs are ``(source, teacher(source))``), so the data needs source
    images only. The teacher runs once per step and its output and features serve the target
    and every distillation term; ``distill`` may then have no terms (the teacher-target
    baseline). Validation and test score the student against the teacher's translation, kept in
    each sample as ``teacher_<domain>``.

    With ``teacher.as_target='cached'`` the targets come with the data: the teacher's
    translations computed once (:class:`reko_mm.datasets.TeacherTranslationDataset`, each sample
    stamped with the teacher file's sha256, checked at every step). The teacher does not run in
    training, only in validation and test. Terms that read the teacher's layers take its cached
    outputs there (the dataset's ``features``, packed by ``PackInputsWithFeatures``); terms that
    read its image take the cached translation.

    Args:
        student_type (str): the MMagic model distilled (see :data:`SUPPORTED_STUDENTS`).
        teacher (dict): ``ckpt`` (a checkpoint with ``generators.<domain>.*``: the teacher's own
            MMagic checkpoint, or one written by ``tools/model_converters/import_generator.py``),
            ``generator`` (the teacher's generator config: overrides on the checkpoint's
            ``meta['generator_cfg']`` if it has one, else on the student's; a dict with another
            ``type`` replaces it), ``domains`` (the target domains to distil; default all the
            student's), ``as_target`` (see above; default False), ``discriminator`` (overrides
            on the student's discriminator config, for methods that read the teacher's
            discriminator), ``norm`` (BatchNorm statistics of the teacher: ``'batch'``, the
            batch's own as MMagic's Pix2Pix evaluates, or ``'running'``), ``dropout`` (dropout
            on in the teacher; default False: deterministic features), ``precision``
            (``'fp32'``, or ``'bf16'`` / ``'fp16'`` autocast for the teacher's forward; see
            :class:`FrozenTeacher`), ``save_in_ckpt`` (keep the teacher in saved checkpoints;
            default False).
        distill (dict): see :mod:`reko_mm.models.distillers.distill_config`.
        student_init (dict | str, optional): start each distilled student generator from its
            teacher's most important channels: ``dict(rule='norm_scale' | 'l1' | 'random',
            seed=0)`` (a rule name alone is accepted); see :mod:`reko_mm.models.student_init`.
            Default: MMagic's random initialisation. With ``student_init``, ``distill`` may
            have no terms: the student trains as the plain one, from its teacher's channels
            (the teacher does not run in training).
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
    paired = False  # Pix2Pix: one source image per target; the teacher can be the target
    student_class: type = BaseTranslationModel  # the MMagic model a subclass distils

    def __init__(self, *args, teacher: dict, distill: Optional[dict] = None,
                 student_type: Optional[str] = None, student_init=None, **kwargs):
        super().__init__(*args, **kwargs)
        teacher = dict(teacher)
        unknown = sorted(set(teacher) - set(TEACHER_KEYS))
        if unknown:
            raise ValueError(f'unknown keys in model.teacher: {unknown}; valid keys: '
                             f'{list(TEACHER_KEYS)}')
        self.save_teacher = teacher.get('save_in_ckpt', False)
        as_target = teacher.get('as_target', False)
        if as_target not in (False, True, 'cached') or isinstance(as_target, int) and \
                not isinstance(as_target, bool):
            raise TypeError(f"model.teacher.as_target must be True, False or 'cached', got "
                            f'{as_target!r}')
        self.as_target = bool(as_target)
        # 'cached': the targets come with the data (TeacherTranslationDataset), made by this
        # teacher; it runs in evaluation only
        self.cached_targets = as_target == 'cached'
        self._teacher_sha256 = None
        if self.as_target and not self.paired:
            raise ValueError(
                f'model.teacher.as_target=True needs a paired student (Pix2Pix, Pix2PixHD): the '
                "teacher's translation of a source image becomes its target. A "
                f'{self.student_class.__name__} student learns unpaired; give it '
                "student_type='Pix2Pix' with the generator you want (any MMagic generator), or "
                'drop as_target.')
        domains = self._distilled_domains(teacher.get('domains'))
        state, meta = read_checkpoint(teacher.get('ckpt'))
        gen_cfg = teacher_generator_cfg(self._gen_cfg, teacher.get('generator', {}),
                                        base=meta.get('generator_cfg'))
        disc_cfg = self._disc_cfg and teacher_generator_cfg(self._disc_cfg,
                                                            teacher.get('discriminator', {}))
        self.teacher = FrozenTeacher(
            teacher.get('ckpt'), domains, gen_cfg, disc_cfg, norm=teacher.get('norm', 'batch'),
            dropout=teacher.get('dropout', False),
            conditional_discriminator=self.conditional_discriminator, state=state,
            precision=teacher.get('precision', 'fp32'),
            saved_generator_cfg=meta.get('generator_cfg'))
        del state
        self._log_setup(meta, teacher)
        self.student_init = normalise_student_init(student_init)
        self._init_students_from_teacher(log=True)

        generators = self.get_module(self.generators)
        # no terms: the teacher-target baseline, or a plain student that only starts from its
        # teacher (student_init)
        distill = normalise(distill or {}, allow_empty=self.as_target or bool(self.student_init))
        # The build-time dry run needs an input both generators take: a UNet halves it down to
        # 1x1 (2**num_down); 64 suits the others. Set probe_size to the training crop size to
        # check K against the real maps.
        distill.setdefault('probe_size', max(
            2**int(cfg.get('num_down', UNET_NUM_DOWN))
            if cfg.get('type') == 'UnetGenerator' else 64 for cfg in (self._gen_cfg, gen_cfg)))
        self.distill = MODELS.build(
            dict(type=distill.pop('type', 'TranslationDistiller'), **distill),
            default_args=dict(students={d: generators[d] for d in domains},
                              teachers=dict(self.teacher), teacher=self.teacher))
        if self.cached_targets:
            if len(self.teacher) != 1:
                raise ValueError(f"model.teacher.as_target='cached' distils one direction; "
                                 f'this model distils {list(self.teacher)}')
            from ..utils.checkpoint import file_sha256
            self._teacher_sha256 = file_sha256(teacher['ckpt'])
        if not self.distill.terms and not self.as_target:
            print_log('  no distillation terms: the student trains as the plain '
                      f'{student_type} from the channels it took from its teacher (the teacher '
                      'does not run in training)', logger='current')

        self._real_inputs: List[torch.Tensor] = []
        self._teacher_images: Dict[str, torch.Tensor] = {}
        self._cached_features: Dict[str, Dict[str, torch.Tensor]] = {}
        self._first_step_checked = False
        self._distill_state_saver: Optional[str] = None
        self._register_state_dict_hook(_drop_non_student_keys)
        self._register_load_state_dict_pre_hook(self._fill_non_student_keys, with_module=False)

    # ------------------------------------------------------------------ build
    def _distilled_domains(self, domains) -> List[str]:
        reachable = list(self._reachable_domains)
        if domains is None:
            return reachable
        if isinstance(domains, str):
            domains = [domains]
        domains = list(domains)
        wrong = [d for d in domains if d not in reachable]
        if wrong or not domains:
            raise ValueError(
                f'model.teacher.domains={domains} must name at least one of the target domains '
                f'this model translates to, {reachable} (a CycleGAN\'s generator to domain B '
                'translates A -> B)' + (f'; not one of them: {wrong}' if wrong else
                                        ': distilling no direction is a plain student; use its '
                                        'no-KD config'))
        return list(dict.fromkeys(domains))

    def _source_domain(self, target: str) -> str:
        return self.get_other_domains(target)[0]

    def _log_setup(self, meta: dict, teacher: dict) -> None:
        print_log(f'distillation: loaded {self.teacher.describe()}', logger='current')
        if meta.get('layout'):
            print_log(f"  the teacher was imported from {meta.get('source')} "
                      f"({meta.get('description')}; channel order {meta.get('channel_order')})",
                      logger='current')
        others = [d for d in self._reachable_domains if d not in self.teacher]
        directions = ', '.join(f'{self._source_domain(d)} -> {d}' for d in self.teacher)
        print_log(f'  distilled: {directions}' + (
            f"; not distilled (no teacher, trained as the plain student): "
            f"{', '.join(f'{self._source_domain(d)} -> {d}' for d in others)}" if others else ''),
            logger='current')
        if self.as_target and teacher.get('as_target') == 'cached':
            print_log("  targets: the teacher's translations cached with the data "
                      '(TeacherTranslationDataset), and its features where the distillation '
                      'terms read them; the teacher runs in evaluation only',
                      logger='current')
        elif self.as_target:
            print_log("  targets: the teacher's translations of the source images (the "
                      "dataset's target images, if any, are not used)", logger='current')

    def _init_students_from_teacher(self, log: bool) -> None:
        """``model.student_init``: slice each distilled student generator from its teacher."""
        if not self.student_init:
            return
        generators = self.get_module(self.generators)
        for domain in self.teacher:
            report = init_student_from_teacher(generators[domain], self.teacher[domain],
                                               **self.student_init)
            if log:
                rule = self.student_init['rule']
                print_log(f"  student {self._source_domain(domain)} -> {domain} initialised "
                          f"from the teacher ({rule}, seed {self.student_init['seed']}): "
                          f'{describe_init(report)}',
                          logger='current')
                blind = ranked_by_divided_out_norms(self.teacher[domain], rule)
                if blind:
                    print_log(
                        f"  student_init rule={rule!r}: {len(blind)} of the teacher's "
                        'convolutions are followed by an InstanceNorm without a scale to rank '
                        "by, so their channels were ranked by the filters' L1 norm, which the "
                        'norm divides out: there the channels kept are as good as random '
                        f"(e.g. {', '.join(blind[:3])}). For such a teacher say so with "
                        "rule='random' (docs/distill_your_model.md).", logger='current',
                        level=30)

    def init_weights(self):
        """MMagic's initialisation, then ``model.student_init`` again (MMagic's generators
        re-draw their weights in ``init_weights``, which mmengine's Runner calls before
        ``load_from`` / ``resume``)."""
        super().init_weights()
        self._init_students_from_teacher(log=False)

    # ------------------------------------------------------------- training
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
        if self.cached_targets:
            self._check_cached_targets(output)
            self._take_cached_teacher(args[0], output)
        elif self.as_target:
            self._fill_teacher_targets(output, record=True)
        inputs = output['inputs'] if isinstance(output, dict) else output[0]
        values = inputs.values() if isinstance(inputs, dict) else [inputs]
        self._real_inputs = [v for v in values if isinstance(v, torch.Tensor)]

    def _check_cached_targets(self, output: dict) -> None:
        """``as_target='cached'``: every sample's target must have been made by this teacher
        (``TeacherTranslationDataset`` stamps each with the teacher file's sha256)."""
        inputs = output['inputs']
        keys = sorted(inputs) if isinstance(inputs, dict) else []
        for domain in self.teacher:
            if f'img_{domain}' not in keys:
                raise KeyError(
                    f"model.teacher.as_target='cached': the batch has no target images "
                    f"'img_{domain}' (it has {keys}); train on TeacherTranslationDataset and "
                    'pack both images (configs/reko/vintagify/vintagify_7x_nokd_cached.py).')
        samples = output['data_samples']  # the preprocessor stacks them in one DataSample
        samples = samples.split() if hasattr(samples, 'split') else samples
        stamps = {s.metainfo.get('teacher_sha256') for s in samples}
        if stamps != {self._teacher_sha256}:
            raise ValueError(
                f"model.teacher.as_target='cached': the batch's targets were made by a teacher "
                f'with sha256 {sorted(map(str, stamps))}, not by {self.teacher.ckpt} '
                f'({self._teacher_sha256}). Point the dataset\'s teacher_ckpt at the same file '
                'as model.teacher.ckpt and rebuild the cache.')

    def _take_cached_teacher(self, data: dict, output: dict) -> None:
        """``as_target='cached'`` with terms: the cached translation is the teacher's image, and
        the batch's ``teacher_features`` (``PackInputsWithFeatures``) its features."""
        if not self.distill.terms:
            return
        (domain, ) = self.teacher
        target = output['inputs'][f'img_{domain}']
        self._teacher_images[domain] = target
        layers = self.distill.teacher_layers(domain)
        if not layers:
            return
        cached = data.get('teacher_features') if isinstance(data, dict) else None
        if cached is None:
            raise KeyError(
                f"model.teacher.as_target='cached': the distillation terms "
                f"{sorted(self.distill.terms)} read the teacher's layers {layers}, and the batch "
                "has no cached teacher_features: cache them (train_dataloader.dataset.features="
                f'{layers}), load and pack them (LoadTeacherFeatures, CropFlipWithFeatures, '
                'PackInputsWithFeatures: configs/reko/vintagify/vintagify_7x_fast.py)')
        self._cached_features[domain] = {
            n: (torch.stack(list(v)) if isinstance(v, (list, tuple)) else v).to(
                target.device, torch.float32, non_blocking=True)
            for n, v in cached.items()}

    def _fill_teacher_targets(self, output: dict, record: bool) -> None:
        """``as_target``: put the teacher's translation of each source image in the
        preprocessed batch as the target (``img_<domain>``), recording the teacher's features
        for the distillation terms if ``record``."""
        inputs = output['inputs']
        if isinstance(inputs, torch.Tensor):  # PackInputs packs a single image key bare
            (source, ) = {self._source_domain(d) for d in self.teacher}
            inputs = output['inputs'] = {f'img_{source}': inputs}
        for domain in self.teacher:
            key = f'img_{self._source_domain(domain)}'
            if key not in inputs:
                raise KeyError(f'model.teacher.as_target: the batch has no source images '
                               f'{key!r} (it has {sorted(inputs)}); the data pipeline must '
                               f'load and pack the {self._source_domain(domain)!r} images.')
            with torch.no_grad(), self.distill.recording(domain, 'teacher') if record \
                    else nullcontext():
                out = self.teacher.translate(domain, inputs[key], exact=not record)
            inputs[f'img_{domain}'] = out
            self._teacher_images[domain] = out

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
            self._teacher_images = {}
            self._cached_features = {}
            self.distill.reset()

    def forward_train(self, img, target_domain, **kwargs):
        if target_domain not in self.teacher or not self._is_real(img) or \
                not self.distill.terms and (self.cached_targets or not self.as_target):
            return super().forward_train(img, target_domain=target_domain, **kwargs)
        with self.distill.recording(target_domain, 'student'):
            results = super().forward_train(img, target_domain=target_domain, **kwargs)
        teacher_img = self._teacher_images.get(target_domain)  # as_target: already run
        if teacher_img is None:
            with torch.no_grad(), self.distill.recording(target_domain, 'teacher'):
                teacher_img = self.teacher.translate(target_domain, img, **kwargs)
        self.distill.keep(target_domain, real=img, student_img=results['target'],
                          teacher_img=teacher_img,
                          teacher_features=self._cached_features.get(target_domain)
                          if self.cached_targets else None)
        return results

    def _eval_step(self, step, data):
        """``val_step`` / ``test_step``; with ``as_target`` the teacher's translation is the
        target and is kept in each sample as ``teacher_<domain>``, for the metrics."""
        if not self.as_target:
            return step(data)

        def fill(module, args, output):
            self._fill_teacher_targets(output, record=False)

        handle = self.data_preprocessor.register_forward_hook(fill)
        try:
            samples = step(data)
            for domain, images in self._teacher_images.items():
                for sample, image in zip(samples, images):
                    sample.set_tensor_data({f'teacher_{domain}': self.data_preprocessor.destruct(
                        image.cpu(), sample, f'img_{domain}')})
            return samples
        finally:
            handle.remove()
            self._teacher_images = {}

    def val_step(self, data):
        return self._eval_step(super().val_step, data)

    def test_step(self, data):
        return self._eval_step(super().test_step, data)

    def distill_loss(self) -> Dict[str, torch.Tensor]:
        """``{'loss_<term>_<domain>': value}`` of the recorded real-image translations.

        Raises when a distilled domain was not recorded: training would otherwise silently go
        on as a plain student.
        """
        if not self.distill.terms:  # nothing to distil: the teacher is a target or an init
            return {}
        missing = [d for d in self.teacher if d not in self.distill.kept_domains()]
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
        losses = self.distill_loss()
        if not losses:  # the teacher-target baseline: the teacher is only the target
            return loss_g, log_vars_g
        loss_kd, log_kd = self.parse_losses(losses)
        log_vars_g['loss'] = log_vars_g['loss'] + log_kd.pop('loss')
        log_vars_g.update(log_kd)
        return loss_g + loss_kd, log_vars_g

    # ---------------------------------------------------------- checkpoints
    def load_distill_state_dict(self, state: Dict[str, torch.Tensor], source: str = '') -> None:
        """Strictly load :attr:`distill`'s state (saved by ``DistillCheckpointHook``)."""
        missing, unexpected, wrong = diff_state(self.distill.state_dict(), state)
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

    student_class = CycleGAN


@MODELS.register_module()
@_supported_student('Pix2Pix')
class TeacherStudentPix2Pix(TeacherStudentGAN, Pix2Pix):
    """Distillation of MMagic's ``Pix2Pix``: the one generator."""

    student_class = Pix2Pix
    conditional_discriminator = True
    paired = True


@MODELS.register_module()
@_supported_student('Pix2PixHD')
class TeacherStudentPix2PixHD(TeacherStudentGAN, Pix2PixHD):
    """Distillation of :class:`~reko_mm.models.Pix2PixHD`: the one generator."""

    student_class = Pix2PixHD
    conditional_discriminator = True
    paired = True


MODELS.register_module(module=TeacherStudentGAN)
SUPPORTED_STUDENTS: Sequence[str] = tuple(_SUPPORTED)
