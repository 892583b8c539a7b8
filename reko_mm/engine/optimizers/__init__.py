from .autocast_optim_wrapper import AMP_DTYPES, AutocastOptimWrapper

__all__ = ['AutocastOptimWrapper', 'AMP_DTYPES']
