from .synthetic import generate_synthetic_dataset, load_mask, render_scene

__all__ = ['generate_synthetic_dataset', 'render_scene', 'load_mask']
