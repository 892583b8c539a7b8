"""Training hooks of reko-mm."""
from .attention_vis_hook import AttentionVisHook

__all__ = ['AttentionVisHook']
