"""Config edits that ``tools/train.py`` applies: mixed precision and the checkpoint hooks."""
from .optimizers import AMP_DTYPES

AMP_WRAPPERS = ('OptimWrapper', 'AmpOptimWrapper', 'AutocastOptimWrapper')


def optim_wrapper_cfgs(cfg) -> list:
    """Every optimizer-wrapper config of ``cfg.optim_wrapper``: the dict itself (one optimizer)
    or each of its values with an ``optimizer`` (MMagic's per-network dict: generators,
    discriminators, ...), whose ``type`` defaults to ``OptimWrapper``."""
    ow = cfg.get('optim_wrapper')
    if not ow:
        return []
    if 'optimizer' in ow:
        return [ow]
    return [v for v in ow.values() if isinstance(v, dict) and 'optimizer' in v]


def enable_amp(cfg, dtype=None) -> int:
    """Switch every optimizer wrapper of ``cfg`` to :class:`AutocastOptimWrapper` (mixed
    precision; ``dtype`` None: float16 on a GPU, bfloat16 on a CPU). Returns how many were
    switched; refuses a config where it would do nothing or where a wrapper cannot take it."""
    if dtype is not None and dtype not in AMP_DTYPES:
        raise ValueError(f'--amp-dtype must be one of {AMP_DTYPES}, got {dtype!r}')
    wrappers = optim_wrapper_cfgs(cfg)
    if not wrappers:
        raise ValueError('--amp found no optimizer wrapper in the config (optim_wrapper has no '
                         "'optimizer'); it would do nothing.")
    for wrapper in wrappers:
        kind = wrapper.get('type', 'OptimWrapper')
        if kind not in AMP_WRAPPERS:
            raise ValueError(f'--amp cannot switch an optimizer wrapper of type {kind!r} to mixed '
                             f'precision; supported: {AMP_WRAPPERS}')
        wrapper['type'] = 'AutocastOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
        if dtype is not None:
            wrapper['dtype'] = dtype
    return len(wrappers)


def add_checkpoint_hooks(cfg) -> list:
    """Add ``ExactResumeHook`` (every config) and ``DistillCheckpointHook`` (a
    ``TeacherStudentGAN``) to ``cfg.custom_hooks`` unless there; returns the names added."""
    hooks = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in hooks if isinstance(h, dict)}
    wanted = ['ExactResumeHook']
    if cfg.model.get('type') == 'TeacherStudentGAN':
        wanted.append('DistillCheckpointHook')
    added = [name for name in wanted if name not in present]
    cfg.custom_hooks = hooks + [dict(type=name) for name in added]
    return added
