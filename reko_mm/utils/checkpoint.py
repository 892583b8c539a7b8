"""Strict loading of a checkpoint a user names: the model it was trained as, or a clear error.

mmengine loads non-strictly and only warns, so a checkpoint of another model (a teacher given to
a student config) is scored as a partly random network. Here every key and shape must match;
otherwise the error names the first mismatching keys and what the checkpoint seems to be.
"""
import os
import os.path as osp
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint

from .config_text import read_config_text
from .state_dict import diff_state, strip_module_prefix

# Keys a reko-mm training checkpoint may hold besides the student (older releases kept ReKo's
# heads under distill_losses.*; save_in_ckpt=True keeps the teacher).
NON_STUDENT_PREFIXES = ('distill_losses.', 'distill.', 'teacher.')


class CheckpointMismatchError(ValueError):
    """A checkpoint whose keys or shapes do not match the model built from the config."""


# ``meta['reko_mm_release']`` of a checkpoint written by :func:`publish_student`
RELEASE_KEY = 'reko_mm_release'


def is_generators_only(checkpoint) -> bool:
    """Whether a loaded checkpoint is a published student: :func:`publish_student` wrote it and
    it holds the generators only."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    release = meta.get(RELEASE_KEY) if isinstance(meta, dict) else None
    return isinstance(release, dict) and release.get('generators_only') is True


def file_sha256(path: str) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    import hashlib
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def publish_student(src: str, out: str, fp16: bool = True, **info) -> dict:
    """Write the student of a training checkpoint as a release file: its generators only
    (the discriminators train it and nothing else reads them), optionally in float16, with no
    optimizer state and no saved config text. MMagic loads it into the student's config
    (``generators.*`` keys); reko-mm's test, export and latency tools take it as it is.

    Args:
        src (str): a reko-mm or MMagic training checkpoint (read with the weights-only loader).
        out (str): the file to write; refused when it exists or is ``src``.
        fp16 (bool): store floating-point tensors in float16 (they load into float32 models).
        **info: plain values recorded in ``meta['reko_mm_release']`` (the config it pairs
            with, the teacher file's sha256, ...).

    Returns:
        dict: ``out``, its sha256 and size, and the largest change float16 made to a weight.
    """
    if osp.abspath(out) == osp.abspath(src):
        raise ValueError(f'refusing to overwrite the source checkpoint {src}')
    if osp.exists(out):
        raise FileExistsError(f'{out} exists: give a new file name (nothing was written)')
    checkpoint = _load_checkpoint(src, map_location='cpu', logger='current')
    state = strip_module_prefix(checkpoint.get('state_dict', checkpoint))
    state = {k: v for k, v in state.items() if k.startswith('generators.')}
    if not state:
        raise CheckpointMismatchError(
            f'{src} holds no generators.* weights: it is not an MMagic translation checkpoint '
            f'({describe_checkpoint(checkpoint, {})})')
    rounding = 0.
    if fp16:
        half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        rounding = max(float((half[k].float() - v.float()).abs().max()) for k, v in
                       state.items() if v.is_floating_point())
        state = half
    meta = {RELEASE_KEY: dict(info, generators_only=True, fp16=fp16, source=osp.basename(src),
                              iter=(checkpoint.get('meta') or {}).get('iter'))}
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save({'meta': meta, 'state_dict': state}, out)
    return dict(file=out, sha256=file_sha256(out), bytes=osp.getsize(out), fp16_max_change=rounding)


def _generator_widths(state: Dict[str, torch.Tensor]) -> Dict[str, int]:
    """Output channels of each generator's first convolution (its ``base_channels``)."""
    widths = {}
    for key, value in state.items():
        parts = key.split('.')
        if parts[0] == 'generators' and len(parts) > 2 and value.dim() == 4 and \
                parts[1] not in widths:
            widths[parts[1]] = int(value.shape[0])
    return widths


def describe_checkpoint(checkpoint: dict, state: Dict[str, torch.Tensor]) -> str:
    """What a checkpoint seems to be: its config's model, work dir and generator width."""
    bits = []
    cfg_text = (checkpoint.get('meta') or {}).get('cfg') if isinstance(checkpoint, dict) else None
    if isinstance(cfg_text, str):  # read as data (ast), never executed
        cfg = read_config_text(cfg_text)
        model = cfg.get('model') if isinstance(cfg.get('model'), dict) else None
        if model:
            kind = model.get('student_type') or model.get('type')
            gen = model.get('generator') if isinstance(model.get('generator'), dict) else {}
            bits.append(f"it was saved by a {kind} run (generator {gen.get('type')} "
                        f"base_channels={gen.get('base_channels')}) in work_dir "
                        f"{cfg.get('work_dir')!r}")
    widths = _generator_widths(state)
    if widths:
        bits.append('its generators have width ' + ', '.join(
            f'{d}: {w}' for d, w in sorted(widths.items())))
    return '; '.join(bits) or 'it holds no MMagic translation generators'


def load_state_strict(model: nn.Module, checkpoint_path: str, config_name: str = 'the config',
                      map_location='cpu') -> dict:
    """Load a checkpoint into ``model`` with every key and shape matching.

    Distillation keys of a reko-mm training checkpoint are not part of a plain student and are
    skipped with a log line.

    Args:
        model (nn.Module): the model built from the config.
        checkpoint_path (str): the checkpoint (loaded with torch's weights-only unpickler).
        config_name (str): how errors name the config.
        map_location: as for ``torch.load``.

    Returns:
        dict: the checkpoint.

    Raises:
        CheckpointMismatchError: the first mismatching keys and what the checkpoint seems to be;
            nothing is loaded.
    """
    if not osp.isfile(checkpoint_path):
        raise FileNotFoundError(f'checkpoint not found: {osp.abspath(checkpoint_path)}')
    checkpoint = _load_checkpoint(checkpoint_path, map_location=map_location, logger='current')
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else {}
    state = strip_module_prefix(state)
    extras = {k: state.pop(k) for k in list(state) if k.startswith(NON_STUDENT_PREFIXES)}
    if extras and not hasattr(model, 'distill'):
        print_log(f'{checkpoint_path}: skipped {len(extras)} keys that are not part of the '
                  f'student ({sorted({k.split(".", 1)[0] for k in extras})}: distillation parts '
                  'of a reko-mm training checkpoint)', logger='current')
        extras = {}
    own = model.state_dict()
    published = is_generators_only(checkpoint)
    if published:  # a published student: no discriminators to load
        unused = [k for k in own if k.startswith('discriminators.')]
        if unused:
            print_log(f'{checkpoint_path}: a published student (generators only); the '
                      f'discriminators ({len(unused)} tensors) keep their initial weights, which '
                      'testing, export and latency never use', logger='current')
        own = {k: v for k, v in own.items() if not k.startswith('discriminators.')}
    missing, unexpected, wrong = diff_state(own, state)
    wrong = sorted(wrong, key=lambda k: (own[k].dim() < 2, k))  # weights say most
    if missing or unexpected or wrong:
        detail = []
        if wrong:
            detail.append('shapes differ: ' + '; '.join(
                f'{k} {tuple(state[k].shape)} in the checkpoint vs {tuple(own[k].shape)} in the '
                'config' for k in wrong[:3]) + (f' (and {len(wrong) - 3} more)' if len(wrong) > 3
                                                  else ''))
        if missing:
            detail.append(f'missing from the checkpoint: {missing[:3]}' +
                          (f' (and {len(missing) - 3} more)' if len(missing) > 3 else ''))
        if unexpected:
            detail.append(f'not in the config: {unexpected[:3]}' +
                          (f' (and {len(unexpected) - 3} more)' if len(unexpected) > 3 else ''))
        own_widths = _generator_widths(own)
        raise CheckpointMismatchError(
            f'checkpoint {checkpoint_path} does not match the model of {config_name}: '
            + '. '.join(detail) + f'. The checkpoint does not belong to this config: '
            f'{describe_checkpoint(checkpoint, state)}; this config builds generators of width '
            + ', '.join(f'{d}: {w}' for d, w in sorted(own_widths.items())) +
            '. Pass the config the checkpoint was trained with (or the same --cfg-options); '
            'nothing was loaded.')
    # A TeacherStudentGAN reads its own extras (a saved teacher, older ReKo heads).
    # (a published student: every key but the discriminators' was matched above)
    model.load_state_dict(dict(state, **extras), strict=not published)
    return checkpoint


def load_distill_state(model: nn.Module, checkpoint: dict, checkpoint_path: str,
                       required: bool = False) -> bool:
    """Load a checkpoint's ``'distill'`` entry into a ``TeacherStudentGAN``.

    Older reko-mm checkpoints kept the heads in the state_dict; :func:`load_state_strict` of a
    ``TeacherStudentGAN`` reads those itself.

    Args:
        model (nn.Module): the model (nothing happens for a plain one).
        checkpoint (dict): the loaded checkpoint.
        checkpoint_path (str): its path, for messages.
        required (bool): refuse a checkpoint without a distillation state.

    Returns:
        bool: whether a distillation state was loaded.
    """
    if not hasattr(model, 'distill'):
        return False
    entry = checkpoint.get('distill') if isinstance(checkpoint, dict) else None
    if entry is not None:
        model.load_distill_state_dict(entry['state_dict'], source=checkpoint_path)
        return True
    state = checkpoint.get('state_dict', {}) if isinstance(checkpoint, dict) else {}
    if any(k.startswith('distill_losses.') for k in state):
        return True  # read by the model's load_state_dict pre-hook
    if required:
        raise ValueError(
            f'{checkpoint_path} holds no distillation state (no "distill" entry): it is not a '
            'checkpoint of a TeacherStudentGAN run, so its projection heads are unknown. Give the '
            'checkpoint of a distillation run.')
    return False


def load_checkpoint_strict(model: nn.Module, checkpoint_path: str,
                           config_name: str = 'the config',
                           require_distill: Optional[bool] = None) -> dict:
    """:func:`load_state_strict`, then the distillation state of a
    ``TeacherStudentGAN`` (:func:`load_distill_state`, ``required=require_distill``); returns the
    checkpoint.
    """
    checkpoint = load_state_strict(model, checkpoint_path, config_name)
    load_distill_state(model, checkpoint, checkpoint_path, required=bool(require_distill))
    return checkpoint
