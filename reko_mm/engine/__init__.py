"""Training machinery: hooks (checkpoints, exact resume, attention figures) and optimizer
wrappers."""
from .config_utils import add_checkpoint_hooks, enable_amp, optim_wrapper_cfgs
from .hooks import AttentionVisHook, DistillCheckpointHook, ExactResumeHook, TimeBudgetHook
from .optimizers import AMP_DTYPES, AutocastOptimWrapper

__all__ = ['AttentionVisHook', 'DistillCheckpointHook', 'ExactResumeHook', 'TimeBudgetHook',
           'AutocastOptimWrapper',
           'AMP_DTYPES', 'add_checkpoint_hooks', 'enable_amp', 'optim_wrapper_cfgs']
