"""Mixed precision on every device: mmengine's ``AmpOptimWrapper``, also on a CPU."""
from typing import Union

import torch
from mmengine.device import (is_cuda_available, is_mlu_available, is_musa_available,
                             is_npu_available)
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS

AMP_DTYPES = ('float16', 'bfloat16')


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(AmpOptimWrapper):
    """``AmpOptimWrapper`` where mmengine has one (GPU, NPU, MLU, MUSA); on a CPU, where
    mmengine's asserts a GPU, bfloat16 autocast without loss scaling (bfloat16 has float32's
    exponent range, so gradients do not underflow). ``tools/train.py --amp`` selects it for every
    optimizer of a config.

    Args:
        loss_scale: as ``AmpOptimWrapper`` (ignored for bfloat16 on a CPU).
        dtype (str | torch.dtype | None): ``'float16'`` or ``'bfloat16'``; None: float16 on a
            GPU, bfloat16 on a CPU (the only CPU autocast type).
    """

    def __init__(self, loss_scale='dynamic', dtype: Union[str, torch.dtype, None] = None,
                 use_fsdp: bool = False, **kwargs):
        if is_cuda_available() or is_npu_available() or is_mlu_available() or \
                is_musa_available():
            super().__init__(loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs)
            return
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            raise ValueError(f'mixed precision on a CPU runs in bfloat16 only, got '
                             f'dtype={dtype!r}; '
                             'use --amp-dtype bfloat16, or train on a GPU for float16.')
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)
        self.cast_dtype = torch.bfloat16
