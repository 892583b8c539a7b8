"""Small fixes for upstream incompatibilities, applied once when ``reko_mm`` is imported.

Each fix is a no-op where the upstream code already works, and says what it fixes and why.
"""
import functools
import sys
import warnings

import torch

# Upstream warnings that every command would print, none of which the user can act on: the
# message (a regex of its start) and the module that warns. Filtered where reko_mm is imported
# (before it imports MMagic); everything else still shows.
UPSTREAM_WARNINGS = (
    # diffusers 0.24 (imported by MMagic) registers its outputs with a torch API renamed in 2.2
    (FutureWarning, r'`torch\.utils\._pytree\._register_pytree_node` is deprecated', 'diffusers'),
    # MMagic 1.2 uses np.bool8, deprecated in NumPy 1.24
    (DeprecationWarning, r'`np\.bool8` is a deprecated alias', 'mmagic'),
    # mmengine 0.10 imports pkg_resources to resolve mmagic:: config bases
    (UserWarning, r'pkg_resources is deprecated as an API', ''),
    # MMagic's Pix2Pix passes the deprecated `reduce` argument to F.l1_loss
    (UserWarning, r'size_average and reduce args will be deprecated', ''),
    # mmcv's ConvModule, for every CycleGAN generator (a bias before InstanceNorm is MMagic's
    # and junyanz's design, and affine IN cancels it anyway)
    (UserWarning, r'Unnecessary conv bias before batch/instance norm', 'mmcv'),
)


def quiet_upstream_warnings():
    """Hide the :data:`UPSTREAM_WARNINGS` (idempotent)."""
    for category, message, module in UPSTREAM_WARNINGS:
        warnings.filterwarnings('ignore', message=message, category=category,
                                module=module + '.*' if module else '')


def fix_generation_init_weights():
    """MMagic 1.2.0 ``generation_init_weights`` raises ``UnboundLocalError: init_info``.

    Cause: ``mmagic/models/utils/model_utils.py`` calls ``update_init_info(module, init_info)``
    for every submodule that carries mmengine's ``_params_init_info`` (mmengine >= 0.10 sets it on
    all of them), but ``init_info`` is only assigned for Conv/Linear/BatchNorm layers. Fix: run the
    original with ``_params_init_info`` hidden from the submodules, then record once.
    """
    import mmagic.models.utils.model_utils as mu
    from mmengine.model.weight_init import update_init_info

    original = mu.generation_init_weights
    if getattr(original, '_reko_fixed', False):
        return

    @functools.wraps(original)
    def generation_init_weights(module, init_type='normal', init_gain=0.02):
        hidden = {}
        for m in module.modules():
            if '_params_init_info' in m.__dict__:
                hidden[m] = m.__dict__.pop('_params_init_info')
        try:
            original(module, init_type=init_type, init_gain=init_gain)
        finally:
            for m, info in hidden.items():
                m._params_init_info = info
        if hasattr(module, '_params_init_info'):
            update_init_info(module, f'Initialized by generation_init_weights, init_type='
                                     f'{init_type}, init_gain={init_gain}')

    generation_init_weights._reko_fixed = True
    # The function was imported by name into several modules: replace every reference.
    for mod in list(sys.modules.values()):
        if getattr(mod, '__name__', '').startswith('mmagic') and \
                getattr(mod, 'generation_init_weights', None) is original:
            mod.generation_init_weights = generation_init_weights


# Non-tensor objects that mmengine 0.10.x writes into its checkpoints (message hub, meta).
def _mmengine_checkpoint_globals():
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer
    from mmengine.config import ConfigDict
    # `getattr` is how numpy pickles its dtype classes; the weights-only unpickler still
    # refuses to *call* anything not listed here.
    objs = [HistoryBuffer, ConfigDict, np.ndarray, np.dtype, np.core.multiarray._reconstruct,
            np.core.multiarray.scalar, getattr]
    # numpy >= 1.25 pickles dtypes by their class (e.g. numpy.dtypes.Float64DType)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        objs += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return objs


def fix_checkpoint_weights_only():
    """``--resume`` fails on torch >= 2.6: ``torch.load`` defaults to ``weights_only=True``.

    mmengine 0.10.x checkpoints carry its ``HistoryBuffer`` (message hub), numpy arrays and
    scalars. Rather than turning the safe loader off, allow exactly those classes.
    """
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # torch < 2.4: no weights_only default, nothing to do
        return
    add(_mmengine_checkpoint_globals())


def fix_cpu_distributed():
    """mmengine's pytorch launcher on a CPU-only machine (gloo).

    Cause 1: ``mmengine.dist.utils._init_dist_pytorch`` calls ``torch.cuda.set_device``
    unconditionally ("Found no NVIDIA driver"). Cause 2: the Runner passes
    ``device_ids=[LOCAL_RANK]`` to (MMSeparate)DistributedDataParallel, and DDP rejects device ids
    for CPU modules. Both are skipped only when CUDA is not available.
    """
    import mmengine.dist.utils as dist_utils
    from mmengine.model.wrappers.distributed import MMDistributedDataParallel

    original_init_dist = dist_utils._init_dist_pytorch
    if getattr(original_init_dist, '_reko_fixed', False):
        return

    @functools.wraps(original_init_dist)
    def _init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available():
            return original_init_dist(backend, init_backend=init_backend, **kwargs)
        if backend != 'gloo':
            # MMagic's runtime config asks for nccl, which needs GPUs: gloo is the CPU backend.
            from mmengine.logging import print_log
            print_log(f"CUDA is not available: using the 'gloo' distributed backend instead of "
                      f"{backend!r} (set env_cfg.dist_cfg.backend='gloo' to silence this).",
                      logger='current', level=30)
            backend = 'gloo'
        torch.distributed.init_process_group(backend=backend, **kwargs)

    _init_dist_pytorch._reko_fixed = True
    dist_utils._init_dist_pytorch = _init_dist_pytorch

    original_ddp_init = MMDistributedDataParallel.__init__
    if getattr(original_ddp_init, '_reko_fixed', False):
        return

    @functools.wraps(original_ddp_init)
    def __init__(self, module, *args, **kwargs):
        params = list(module.parameters())
        if params and all(p.device.type == 'cpu' for p in params):
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        original_ddp_init(self, module, *args, **kwargs)

    __init__._reko_fixed = True
    MMDistributedDataParallel.__init__ = __init__


def fix_pix2pix_test_step():
    """MMagic 1.2.0 ``Pix2Pix.test_step`` indexes the batched ``DataSample`` without
    ``split()``: ``TypeError: 'DataSample' object is not subscriptable``, so ``tools/test.py``
    fails on every Pix2Pix config. Its docstring says it is the same as ``val_step``, which
    splits; use that.
    """
    from mmagic.models.editors.pix2pix import Pix2Pix
    if getattr(Pix2Pix.test_step, '_reko_fixed', False):
        return

    @functools.wraps(Pix2Pix.val_step)
    def test_step(self, data):
        return Pix2Pix.val_step(self, data)

    test_step._reko_fixed = True
    test_step._reko_original = Pix2Pix.test_step
    Pix2Pix.test_step = test_step


def apply_all():
    """Apply every fix (idempotent)."""
    quiet_upstream_warnings()
    fix_checkpoint_weights_only()
    fix_cpu_distributed()
    fix_generation_init_weights()
    fix_pix2pix_test_step()
