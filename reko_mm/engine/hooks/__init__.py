from .attention_vis_hook import AttentionVisHook
from .checkpoint_hooks import DistillCheckpointHook, ExactResumeHook
from .time_budget_hook import TimeBudgetHook

__all__ = ['AttentionVisHook', 'DistillCheckpointHook', 'ExactResumeHook', 'TimeBudgetHook']
