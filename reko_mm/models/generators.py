"""Building a translation generator from its config: always in MMagic's registry scope, and, for
a config read out of a checkpoint (``meta['generator_cfg']``, which ``import_generator`` writes),
only after checking that it is a generator reko-mm itself writes.

mmengine's registry resolves a dotted ``type`` (``'subprocess.Popen'``) to any importable
callable, so a config from a file a user downloaded is data to check, never something to build
as it stands: :func:`check_saved_generator_cfg`.
"""
from typing import Any, Optional

import torch.nn as nn

# The generators import_generator writes, and the keys each may have.
GENERATOR_TYPES = {
    'ResnetGenerator': ('in_channels', 'out_channels', 'base_channels', 'norm_cfg',
                        'use_dropout', 'num_blocks', 'padding_mode', 'init_cfg'),
    'UnetGenerator': ('in_channels', 'out_channels', 'num_down', 'base_channels', 'norm_cfg',
                      'use_dropout', 'init_cfg'),
    'Pix2PixHDGenerator': ('in_channels', 'out_channels', 'base_channels', 'num_down',
                           'num_blocks', 'norm_cfg', 'padding_mode', 'init_cfg'),
}
# The ``type`` a nested config may name: norm layers of mmcv, init kinds of MMagic's generators.
NESTED_TYPES = {'norm_cfg': ('IN', 'BN', 'SyncBN', 'GN', 'LN'),
                'init_cfg': ('normal', 'xavier', 'kaiming', 'orthogonal')}
_LITERALS = (bool, int, float, str, type(None))


class UnsafeGeneratorConfigError(ValueError):
    """A generator config read from a file that reko-mm does not build."""


def build_generator(cfg: dict) -> nn.Module:
    """``MODELS.build(cfg)`` in MMagic's scope, whatever the caller's default scope is (mmcv's
    ``ConvModule`` inside MMagic's UNet blocks finds ``'Deconv'`` only there)."""
    from mmagic.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(cfg)


def _check_literal(value: Any, key: str, source: str) -> None:
    if isinstance(value, _LITERALS):
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_literal(v, f'{key}[{i}]', source)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise UnsafeGeneratorConfigError(
                    f'{source}: generator_cfg key {key}.{k!r} is not a string')
            _check_literal(v, f'{key}.{k}', source)
        return
    raise UnsafeGeneratorConfigError(
        f'{source}: generator_cfg[{key!r}] is a {type(value).__name__} ({value!r}), not a '
        'number, string, bool, None or a list / dict of them: refused')


def check_saved_generator_cfg(cfg: Any, source: str = 'the checkpoint') -> dict:
    """A generator config read from a file, checked against what reko-mm writes: its ``type``
    one of :data:`GENERATOR_TYPES` with only that generator's keys, each nested ``type`` one of
    :data:`NESTED_TYPES`, and every value a literal. Returns a plain ``dict`` copy.

    Raises:
        UnsafeGeneratorConfigError: naming the key and the value refused; nothing is built.
    """
    import copy
    if not isinstance(cfg, dict):
        raise UnsafeGeneratorConfigError(f'{source}: generator_cfg is a {type(cfg).__name__}, '
                                         'not a dict: refused')
    kind = cfg.get('type')
    if kind not in GENERATOR_TYPES:
        raise UnsafeGeneratorConfigError(
            f"{source}: generator_cfg['type'] is {kind!r}; reko-mm builds only the generators "
            f'it imports ({", ".join(GENERATOR_TYPES)}), so it refuses this file. Remove '
            "meta['generator_cfg'] (re-import the generator with "
            'tools/model_converters/import_generator.py) or name the architecture in the '
            'config (model.teacher.generator).')
    for key, value in cfg.items():
        if key == 'type':
            continue
        if key not in GENERATOR_TYPES[kind]:
            raise UnsafeGeneratorConfigError(
                f'{source}: generator_cfg key {key!r} ({value!r}) is not an argument reko-mm '
                f'writes for a {kind} ({", ".join(GENERATOR_TYPES[kind])}): refused')
        _check_literal(value, key, source)
        if key in NESTED_TYPES:
            nested = value.get('type') if isinstance(value, dict) else None
            if not isinstance(value, dict) or nested not in NESTED_TYPES[key]:
                raise UnsafeGeneratorConfigError(
                    f"{source}: generator_cfg['{key}'] is {value!r}; its type must be one of "
                    f'{NESTED_TYPES[key]}: refused')
    return copy.deepcopy(dict(cfg))


def build_saved_generator(cfg: Any, source: str,
                          override: Optional[dict] = None) -> nn.Module:
    """:func:`check_saved_generator_cfg`, then :func:`build_generator` (with ``override``)."""
    cfg = check_saved_generator_cfg(cfg, source)
    cfg.update(override or {})
    return build_generator(cfg)
