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


MMCV_FULL_HINT = ("for mmcv's compiled ops, set up with `REKO_MMCV=full make setup` (builds mmcv "
                  "2.1.0 with its ops from source, about 20 minutes on 2 cores, cached) or "
                  "install mmcv 2.1.0 full into this environment")


class MissingCompiledOpError(RuntimeError):
    """A compiled mmcv op was called where mmcv has no compiled ops (mmcv-lite)."""


def _lite_ext_module():
    """A stand-in ``mmcv._ext``: every op is a function that raises when called."""
    import importlib.machinery
    import types

    module = types.ModuleType('mmcv._ext', 'reko-mm stand-in: mmcv-lite has no compiled ops')
    module.__reko_stand_in__ = True
    # no loader: mmengine's mmcv_full_available() and mmcv's check_ops_exist() stay False
    module.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', None)

    def op(name):
        def missing(*args, **kwargs):
            raise MissingCompiledOpError(
                f"mmcv op '{name}' needs mmcv's compiled ops, and this environment has mmcv "
                f"without them (mmcv-lite, reko-mm's default: CycleGAN, Pix2Pix and Pix2PixHD "
                f"do not use them): {MMCV_FULL_HINT}.")
        missing.__name__ = missing.__qualname__ = name
        return missing

    def __getattr__(name):
        if name.startswith('__'):  # pickle, inspect, hasattr(__path__) ... see no ops
            raise AttributeError(name)
        if name in ('get_compiler_version', 'get_compiling_cuda_version'):
            return lambda: 'n/a (mmcv-lite: no compiled ops)'  # what collect_env prints
        return op(name)

    module.__getattr__ = __getattr__
    return module


def stand_in_mmcv_ops():
    """mmcv-lite (reko-mm's default setup) has mmcv's Python modules but no ``mmcv._ext``, so
    ``import mmcv.ops``, which ``import mmagic.models`` does for models reko-mm never builds,
    fails. Where the compiled ops are absent, register a stand-in ``mmcv._ext`` whose ops raise
    :class:`MissingCompiledOpError` (naming the op and how to get them) when called. A full
    mmcv is used as it is. Must run before ``mmcv.ops`` is imported; idempotent.
    """
    import importlib.util

    if 'mmcv._ext' in sys.modules:
        return
    try:
        if importlib.util.find_spec('mmcv._ext') is not None:
            return  # full mmcv
    except ModuleNotFoundError:  # no mmcv at all: MMagic's own import says so
        return
    sys.modules['mmcv._ext'] = _lite_ext_module()
    import mmcv
    mmcv._ext = sys.modules['mmcv._ext']
    from mmengine.logging import print_log
    print_log("mmcv has no compiled ops (mmcv-lite): reko-mm registered a stand-in mmcv._ext "
              "whose ops raise when called", logger='current', level=10)


def fix_numpy2_bool8():
    """MMagic 1.2 fails to import on NumPy 2 (``AttributeError: np.bool8``): its
    ``mmagic/utils/trans_utils.py`` names ``np.bool8`` at import time, an alias of ``np.bool_``
    that NumPy 2 removed. reko-mm's setup pins NumPy 1.26; a CUDA image that ships NumPy 2
    (tools/misc/gpu_check.sh) gets the alias back. No-op on NumPy 1.
    """
    import numpy as np
    if int(np.__version__.split('.')[0]) >= 2 and not hasattr(np, 'bool8'):
        np.bool8 = np.bool_


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


def use_safe_checkpoint_loaders():
    """Every checkpoint mmengine loads in a process that imported reko_mm (``--resume``,
    ``load_from``, ``_load_checkpoint``) is read by :mod:`reko_mm.utils.safe_load`: torch's
    weights-only unpickler, with the few mmengine classes its checkpoints hold allowed for that
    read only. mmengine 0.10's own local loader calls ``torch.load`` with torch's default, which
    is the unsafe unpickler before torch 2.6 and refuses mmengine's own checkpoints from 2.6;
    its URL loader the same. Registered through mmengine's ``CheckpointLoader.register_scheme``;
    the model-zoo schemes (``torchvision://``, ``open-mmlab://``, ``mmcls://``) resolve a URL and
    call the module's ``load_from_http``, which is replaced too. ``pavi://``, ``s3://`` and an
    ``open-mmlab://`` name mapped to a local file keep mmengine's ``torch.load`` with torch's
    default (weights-only from torch 2.6; reko-mm pins 2.14).
    """
    import mmengine.runner.checkpoint as mmengine_checkpoint
    from mmengine.runner.checkpoint import CheckpointLoader

    from .utils.safe_load import load_from_http, load_from_local
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), loader=load_from_http,
                                     force=True)
    mmengine_checkpoint.load_from_http = load_from_http


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
    fix_numpy2_bool8()
    stand_in_mmcv_ops()
    use_safe_checkpoint_loaders()
    fix_cpu_distributed()
    fix_generation_init_weights()
    fix_pix2pix_test_step()
