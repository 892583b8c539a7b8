from .attention_vis_hook import AttentionVisHook
from .checkpoint_hooks import DistillCheckpointHook, ExactResumeHook

__all__ = ['AttentionVisHook', 'DistillCheckpointHook', 'ExactResumeHook']
