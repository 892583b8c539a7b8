"""Data parallelism that works for MMagic's translation GANs (gradients really averaged)."""
from typing import Dict, Iterable, List, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.device import get_device
from mmengine.optim import OptimWrapper, OptimWrapperDict
# The Runner looks wrappers up in mmengine's root registry (mmagic's child finds it there too).
from mmengine.registry import MODEL_WRAPPERS


def _world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def average_gradients(params: Iterable[torch.nn.Parameter]) -> None:
    """All-reduce (mean) the ``.grad`` of ``params`` across ranks, in one flat buffer.

    A parameter without a gradient on some rank gets a zero gradient there when another rank
    has one (its contribution to the mean is zero, as in DDP); one without a gradient on every
    rank keeps ``grad=None``, so optimizers still skip it.
    """
    world = _world_size()
    params = [p for p in params if p.requires_grad]
    if world == 1 or not params:
        return
    has_grad = torch.tensor([p.grad is not None for p in params], dtype=torch.int32,
                            device=params[0].device)
    dist.all_reduce(has_grad)
    synced = [p for p, n in zip(params, has_grad.tolist()) if n > 0]
    if not synced:
        return
    for p in synced:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    grads = [p.grad for p in synced]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat.div_(world)
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset:offset + n].view_as(g))
        offset += n


def _optim_wrappers(optim_wrapper: Union[OptimWrapper, OptimWrapperDict]) -> List[OptimWrapper]:
    if isinstance(optim_wrapper, OptimWrapperDict):
        return list(optim_wrapper.values())
    return [optim_wrapper]


@MODEL_WRAPPERS.register_module()
class SeparateGradSyncDataParallel(nn.Module):
    """Multi-process training for models that call their sub-networks directly.

    MMagic's CycleGAN and Pix2Pix call ``get_module(self.generators)[domain](x)``, bypassing the
    ``forward`` of the DDP wrappers that ``MMSeparateDistributedDataParallel`` puts around
    them, so DDP never all-reduces their gradients: every rank trains its own replica. This
    wrapper does not rely on ``forward``. It broadcasts rank 0's parameters and buffers once, and
    makes every optimizer step of the model (generators, discriminators and any trainable
    distillation part, whatever their optimizer wrappers are) average the gradients across
    ranks first. The teacher of a :class:`TeacherStudentGAN` has no trainable parameters and is
    never touched.

    Per rank, as with DDP: BatchNorm statistics (use ``sync_bn='torch'`` for SyncBN), CycleGAN's
    image buffer (each rank's discriminator sees its own history of fakes), and dropout.

    Select it with ``model_wrapper_cfg = dict(type='SeparateGradSyncDataParallel')``.

    Args:
        module (nn.Module): the model.
        broadcast_buffers (bool): broadcast rank 0's buffers before every train step.
        **kwargs: accepted for config compatibility with DDP wrappers (e.g.
            ``find_unused_parameters``) and ignored: no DDP reducer is involved.
    """

    def __init__(self, module: nn.Module, broadcast_buffers: bool = False, **kwargs):
        super().__init__()
        self.module = module.to(get_device())
        self.broadcast_buffers = broadcast_buffers
        self._hooked: Dict[int, OptimWrapper] = {}
        if _world_size() > 1:
            for tensor in list(self.module.parameters()) + list(self.module.buffers()):
                dist.broadcast(tensor.data, src=0)

    def _sync_steps_of(self, optim_wrapper) -> None:
        for ow in _optim_wrappers(optim_wrapper):
            if id(ow) in self._hooked:
                continue
            original_step = ow.step

            def step(*args, _ow=ow, _step=original_step, **kwargs):
                average_gradients(p for group in _ow.optimizer.param_groups
                                  for p in group['params'])
                return _step(*args, **kwargs)

            ow.step = step  # OptimWrapper.update_params() calls self.step()
            self._hooked[id(ow)] = ow

    def train_step(self, data, optim_wrapper):
        self._sync_steps_of(optim_wrapper)
        if self.broadcast_buffers and _world_size() > 1:
            for buf in self.module.buffers():
                dist.broadcast(buf.data, src=0)
        return self.module.train_step(data, optim_wrapper)

    def val_step(self, data):
        return self.module.val_step(data)

    def test_step(self, data):
        return self.module.test_step(data)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
