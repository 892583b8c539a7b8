"""The frozen teacher of a distillation: its generators, read from one checkpoint, in one mode."""
import copy
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmagic.registry import MODELS
from mmengine.runner.checkpoint import CheckpointLoader
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.dropout import _DropoutNd

from ..utils.state_dict import diff_state, strip_module_prefix, strip_prefix
from .generators import build_generator, check_saved_generator_cfg

TEACHER_KEYS = ('generator', 'discriminator', 'ckpt', 'domains', 'as_target', 'save_in_ckpt',
                'norm', 'dropout', 'precision')
TEACHER_NORMS = ('batch', 'running')
# a precision's name and its autocast type (None: float32, no autocast): the teacher's forward,
# and the benchmarks' steps
PRECISIONS = {'fp32': None, 'bf16': torch.bfloat16, 'fp16': torch.float16}
TEACHER_PRECISIONS = PRECISIONS


def cpu_has_bf16() -> bool:
    """Whether this CPU runs bfloat16 natively (oneDNN sees AVX-512 bf16 or AMX units); without
    them bfloat16 is emulated and slower than float32."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def check_teacher_precision(precision: str) -> None:
    """Refuse a teacher precision this machine would not run faster (or at all)."""
    if precision not in TEACHER_PRECISIONS:
        raise ValueError(f'model.teacher.precision must be one of {list(TEACHER_PRECISIONS)}, '
                         f'got {precision!r}')
    if precision == 'fp16' and not torch.cuda.is_available():
        raise ValueError("model.teacher.precision='fp16' needs a GPU (float16 autocast); on a "
                         "CPU use 'bf16' where the CPU has bf16 units, or 'fp32'")
    if precision == 'bf16' and not torch.cuda.is_available():
        if not cpu_has_bf16():
            raise ValueError("model.teacher.precision='bf16': this CPU has no bf16 units "
                             '(oneDNN reports no bf16 support), so bfloat16 would be emulated '
                             "and slower than fp32; use 'fp32'")

State = Dict[str, torch.Tensor]


def teacher_generator_cfg(student_generator: dict, override: dict,
                          base: Optional[dict] = None) -> dict:
    """The teacher's generator config: ``base`` (the checkpoint's own ``meta['generator_cfg']``,
    written by ``import_generator``), else the student's, updated with ``override``.

    An override with another ``type`` than that is taken as the whole config.
    """
    cfg = copy.deepcopy(dict(base if base else student_generator))
    override = copy.deepcopy(dict(override or {}))
    if 'type' in override and override['type'] != cfg.get('type'):
        return override
    cfg.update(override)
    return cfg


def read_checkpoint(ckpt: str, what: str = 'teacher checkpoint',
                    config_key: str = 'model.teacher.ckpt') -> Tuple[State, dict]:
    """``(state_dict, meta)`` of a checkpoint (``module.`` prefixes removed), with clear errors.

    Read by :func:`reko_mm.utils.safe_torch_load` (torch's weights-only unpickler, through
    mmengine's loader); a ``meta['generator_cfg']`` is checked against the generators reko-mm
    writes (:func:`~reko_mm.models.generators.check_saved_generator_cfg`) before anyone builds
    it."""
    if not ckpt:
        raise ValueError(
            f'{config_key} is not set: distillation needs a trained teacher. Train one '
            '(`python tools/train.py configs/reko/<...>_teacher.py`) or import yours '
            '(`python tools/model_converters/import_generator.py G.pth teacher.pth --domain B`), '
            f'then pass `--cfg-options {config_key}=<file>.pth`.')
    if '://' not in ckpt and not osp.isfile(ckpt):
        raise FileNotFoundError(f'{what} not found: {osp.abspath(ckpt)} ({config_key}='
                                f'{ckpt!r}). Set {config_key} to an existing file or URL.')
    from ..utils.safe_load import UnsafeCheckpointError
    try:
        checkpoint = CheckpointLoader.load_checkpoint(ckpt, map_location='cpu')
    except UnsafeCheckpointError:
        raise
    except Exception as err:  # network errors, corrupt files, ...
        raise RuntimeError(f'could not load the {what} {ckpt!r}: {err}') from err
    if not isinstance(checkpoint, dict):
        raise ValueError(f'the {what} {ckpt} holds a {type(checkpoint).__name__}, not a '
                         'checkpoint dict')
    state = checkpoint.get('state_dict', checkpoint)
    meta = dict(checkpoint['meta']) if isinstance(checkpoint.get('meta'), dict) else {}
    if meta.get('generator_cfg') is not None:
        meta['generator_cfg'] = check_saved_generator_cfg(meta['generator_cfg'],
                                                          f'the {what} {ckpt}')
    return strip_module_prefix(state), meta


def check_state(own: State, sub: State, prefix: str, what: str) -> None:
    """Raise ``ValueError`` naming the keys and shapes by which ``sub`` (a checkpoint's entries
    under ``prefix``) differs from ``own`` (the module built from the config)."""
    missing, unexpected, wrong = diff_state(own, sub)
    if not (missing or unexpected or wrong):
        return
    detail = []
    if wrong:
        detail.append('shape mismatch: ' + ', '.join(
            f'{prefix}{k} {tuple(sub[k].shape)} in the checkpoint vs {tuple(own[k].shape)} in '
            'the config' for k in wrong[:5]))
    if missing:
        detail.append(f'missing from the checkpoint: {[prefix + k for k in missing[:5]]}')
    if unexpected:
        detail.append(f'not in the config: {[prefix + k for k in unexpected[:5]]}')
    raise ValueError(f'{what}: ' + '; '.join(detail))


class FrozenTeacher(nn.ModuleDict):
    """The teacher: one frozen generator per distilled domain (``teacher[domain](img)``).

    Built once from ``model.teacher``; loaded strictly from the checkpoint's
    ``generators.<domain>.*``; never trained (no gradients, skipped by ``init_weights``), and
    always in the mode the config asks for, whatever ``train()`` / ``eval()`` the model is put in:
    eval, except BatchNorm with the batch's own statistics (``norm='batch'``, how MMagic's
    Pix2Pix evaluates) and dropout when ``dropout=True``.

    Methods that read the teacher's discriminator (GCC) ask for it with :meth:`discriminators`.

    Args:
        ckpt (str): the teacher checkpoint (``tools/train.py``'s, or ``import_generator``'s).
        domains (Sequence[str]): the domains whose translation is distilled.
        generator_cfg (dict): the teacher's generator config.
        discriminator_cfg (dict, optional): its discriminator config, for :meth:`discriminators`.
        norm (str): ``'batch'`` or ``'running'`` BatchNorm statistics.
        dropout (bool): dropout on in the teacher (default off: deterministic features).
        precision (str): ``'fp32'`` (default), or the teacher's forward in training under
            ``'bf16'`` autocast (CPUs with bf16 units, GPUs) or ``'fp16'`` (GPUs): faster, and
            close to fp32 (docs/benchmarks.md measures it); its images and features reach the
            losses in float32. Evaluation always runs the teacher in float32.
        conditional_discriminator (bool): the discriminator sees ``cat(source, image)``.
        state (dict, optional): the checkpoint's state dict, if already read.
        saved_generator_cfg (dict, optional): the checkpoint's own ``meta['generator_cfg']``
            (checked), named in the error when the config's teacher does not match it.
    """

    def __init__(self, ckpt: str, domains: Sequence[str], generator_cfg: dict,
                 discriminator_cfg: Optional[dict] = None, norm: str = 'batch',
                 dropout: bool = False, conditional_discriminator: bool = False,
                 state: Optional[State] = None, precision: str = 'fp32',
                 saved_generator_cfg: Optional[dict] = None):
        super().__init__({d: build_generator(generator_cfg) for d in domains})
        if norm not in TEACHER_NORMS:
            raise ValueError(f'model.teacher.norm must be one of {TEACHER_NORMS}, got {norm!r}')
        if not isinstance(dropout, bool):
            raise TypeError(f'model.teacher.dropout must be True or False, got {dropout!r}')
        check_teacher_precision(precision)
        self.precision = precision
        self.ckpt = ckpt
        self.generator_cfg = copy.deepcopy(dict(generator_cfg))
        self.discriminator_cfg = discriminator_cfg
        self.norm = norm
        self.dropout = dropout
        self.conditional_discriminator = conditional_discriminator
        if state is None:
            state, _ = read_checkpoint(ckpt)
        found = sorted({k.split('.')[1] for k in state if k.startswith('generators.')})
        for domain, gen in self.items():
            prefix = f'generators.{domain}.'
            sub = strip_prefix(state, prefix)
            if not sub:
                raise KeyError(
                    f'teacher checkpoint {ckpt} has no generator for domain {domain!r} (no keys '
                    f'{prefix}*); it has generators for {found}. Distil only the directions it '
                    f'has (model.teacher.domains={found}, when they are domains of this model), '
                    'or import the generator again with --domain ' + domain + '.')
            hint = '(set model.teacher.generator to the architecture the teacher was trained ' \
                'with)'
            if saved_generator_cfg and saved_generator_cfg != self.generator_cfg:
                differ = sorted(k for k in set(saved_generator_cfg) | set(self.generator_cfg)
                                if saved_generator_cfg.get(k) != self.generator_cfg.get(k))
                hint = (f"(the checkpoint's own meta['generator_cfg'] says it is "
                        f'{saved_generator_cfg}, and the config overrides {differ}: drop '
                        'model.teacher.generator, or those keys of it, to build the teacher '
                        'the checkpoint describes)')
            check_state(gen.state_dict(), sub, prefix,
                        f'teacher checkpoint {ckpt} does not match the teacher generator config '
                        f'{self.generator_cfg} {hint}')
            gen.load_state_dict(sub, strict=True)
        self.requires_grad_(False)
        for m in self.modules():
            m._is_init = True  # keep the loaded weights through init_weights()
            if isinstance(m, _BatchNorm):
                # 'batch': normalise with the batch's own statistics and never update the
                # running ones; 'running' (eval mode) uses them as they were loaded.
                m.track_running_stats = False
        self.train()

    def train(self, mode: bool = True):
        """Keep the teacher's own mode (``mode`` is ignored: the teacher never trains)."""
        super().train(False)
        for m in self.modules():
            if isinstance(m, _BatchNorm) and self.norm == 'batch':
                m.train()
            elif isinstance(m, _DropoutNd) and self.dropout:
                m.train()
        return self

    def translate(self, domain: str, img: torch.Tensor, exact: bool = False,
                  **kwargs) -> torch.Tensor:
        """The teacher's translation of ``img`` to ``domain`` in its training precision, or in
        float32 with ``exact`` (evaluation scores against the teacher itself)."""
        dtype = None if exact else TEACHER_PRECISIONS[self.precision]
        if dtype is None:
            return self[domain](img, **kwargs)
        with torch.autocast(img.device.type, dtype=dtype):
            out = self[domain](img, **kwargs)
        return out.float()

    def describe(self) -> str:
        return (f'teacher generators {list(self)} from {self.ckpt} (BatchNorm statistics: '
                f'{self.norm}, dropout: {"on" if self.dropout else "off"}'
                + (f', {self.precision} autocast' if self.precision != 'fp32' else '') + ')')

    def discriminators(self, domains: Sequence[str], reader: str = 'This method'
                       ) -> nn.ModuleDict:
        """The teacher's discriminators of ``domains``, read from its checkpoint, frozen and in
        eval mode, for methods that compare features of the teacher's discriminator (``reader``
        names the method in errors)."""
        if not self.discriminator_cfg:
            raise ValueError("the teacher's discriminator was asked for, but the student model "
                             'has no discriminator config to build it from.')
        state, _ = read_checkpoint(self.ckpt)
        found = sorted({k.split('.')[1] for k in state if k.startswith('discriminators.')})
        nets = nn.ModuleDict()
        for domain in domains:
            prefix = f'discriminators.{domain}.'
            sub = strip_prefix(state, prefix)
            if not sub:
                raise KeyError(
                    f'the teacher checkpoint {self.ckpt} has no discriminator for domain '
                    f'{domain!r} (no keys {prefix}*; it has discriminators for {found}). '
                    f"{reader} reads the teacher's discriminator: use a full MMagic checkpoint of "
                    'the teacher (tools/train.py saves one), not an imported or exported '
                    'generator.')
            net = MODELS.build(self.discriminator_cfg)
            check_state(net.state_dict(), sub, prefix,
                        f"the teacher checkpoint's discriminator {domain!r} does not match "
                        f'{self.discriminator_cfg} (set model.teacher.discriminator to the '
                        'architecture the teacher was trained with)')
            net.load_state_dict(sub, strict=True)
            nets[domain] = net.requires_grad_(False).eval()
        return nets
