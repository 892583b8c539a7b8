"""The one reader of every checkpoint reko-mm opens: torch's weights-only unpickler, always.

A checkpoint is data. ``torch.load(weights_only=True)`` builds tensors, containers and numbers
and refuses everything else (a pickle that would run code is refused before it runs). The only
other objects it accepts here are the few that mmengine 0.10's checkpoints hold
(:data:`MMENGINE_GLOBALS`: its ``HistoryBuffer`` and ``ConfigDict``, NumPy arrays, scalars and
dtypes), and only for the duration of the read (``torch.serialization.safe_globals``).

``reko_mm.compat`` registers :func:`load_from_local` and :func:`load_from_http` as mmengine's
loaders of local paths and URLs, so that everything mmengine loads in a process that imported
reko_mm (``--resume``, ``load_from``, ``_load_checkpoint``) goes through here too.
"""
import os
import os.path as osp
import pickle
from typing import Any, List


class UnsafeCheckpointError(ValueError):
    """A checkpoint holding objects the weights-only unpickler does not build."""


def mmengine_globals() -> List[Any]:
    """What mmengine 0.10.x writes into its checkpoints besides tensors: the message hub's
    ``HistoryBuffer`` and the config's ``ConfigDict`` (``meta``), NumPy arrays, scalars and
    their dtype classes, under the module names NumPy 1 and NumPy 2 pickle them by (a
    checkpoint written under one is read under the other). And ``getattr``: a
    ``HistoryBuffer`` pickles its statistics methods as ``getattr(HistoryBuffer, 'min')``
    (every mmengine training checkpoint holds one; ``tests/test_compat.py`` reads a real one).
    The weights-only unpickler still calls only what is listed here, so ``getattr`` can reach
    attributes of these objects, not call them."""
    from mmengine.config import ConfigDict
    from mmengine.logging.history_buffer import HistoryBuffer
    return [HistoryBuffer, ConfigDict, getattr] + numpy_globals()


def numpy_globals() -> List[Any]:
    """What a pickle of NumPy arrays, scalars and dtypes calls: ``numpy.ndarray``,
    ``numpy.dtype``, ``_reconstruct``, ``scalar`` (under NumPy 1's and 2's module names) and
    NumPy's dtype classes; as objects, or ``(object, 'module.name')``."""
    import importlib

    import numpy as np
    numpy2 = int(np.__version__.split('.')[0]) >= 2
    multiarray = importlib.import_module(  # NumPy 2 moved numpy.core to numpy._core
        'numpy._core.multiarray' if numpy2 else 'numpy.core.multiarray')
    objs = [np.ndarray, np.dtype]
    for name in ('_reconstruct', 'scalar'):
        fn = getattr(multiarray, name)
        objs += [(fn, f'numpy.core.multiarray.{name}'), (fn, f'numpy._core.multiarray.{name}')]
    dtypes = getattr(np, 'dtypes', None)  # NumPy >= 1.25 pickles a dtype by its class
    if dtypes is not None:
        objs += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith('DType')]
    return objs


def safe_torch_load(path_or_file, map_location='cpu', what: str = 'checkpoint') -> Any:
    """``torch.load(weights_only=True)`` with :func:`mmengine_globals` allowed for this read.

    Raises:
        UnsafeCheckpointError: the file holds something else (an object that would be built by
            calling code); the message names the file and what was refused. Nothing ran.
    """
    import torch
    name = path_or_file if isinstance(path_or_file, str) else getattr(path_or_file, 'name',
                                                                      'the file')
    scoped = getattr(torch.serialization, 'safe_globals', None)
    if scoped is None:
        raise RuntimeError(f'torch {torch.__version__} has no torch.serialization.safe_globals: '
                           'reko-mm reads checkpoints with the weights-only unpickler and needs '
                           'torch >= 2.5')
    try:
        with scoped(mmengine_globals()):
            return torch.load(path_or_file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        reason = str(err).strip().splitlines()
        refused = next((line.strip() for line in reason if 'GLOBAL' in line or
                        'Unsupported' in line), reason[-1] if reason else '')
        raise UnsafeCheckpointError(
            f'{what} {name} refused: it holds objects that only code could build ({refused}). '
            'reko-mm reads checkpoints as data (torch.load with weights_only=True), so nothing '
            'in the file ran. If you trust where it came from, load it in a Python of your own '
            'and save its tensors alone: torch.save({"state_dict": '
            'ckpt["state_dict"]}, "clean.pth").') from None


def safe_pickle_load(file, what: str = 'pickle file') -> Any:
    """A pickle read as data: NumPy arrays, scalars and dtypes (:func:`numpy_globals`) in plain
    containers. Any other global the pickle asks for is refused before it is called.

    Raises:
        UnsafeCheckpointError: naming the file and what it asked for. Nothing ran.
    """
    allowed = {}
    for obj in numpy_globals():
        obj, name = obj if isinstance(obj, tuple) else (obj, f'{obj.__module__}.{obj.__name__}')
        allowed[name] = obj
    name = getattr(file, 'name', 'the file')

    class DataUnpickler(pickle.Unpickler):
        def find_class(self, module, attr):
            found = allowed.get(f'{module}.{attr}')
            if found is None:
                raise UnsafeCheckpointError(
                    f'{what} {name} refused: it asks for {module}.{attr}, which only code '
                    'could build; reko-mm reads it as data (NumPy arrays in plain containers), '
                    'so nothing in it ran. Delete it: reko-mm writes it again.')
            return found
    return DataUnpickler(file).load()


def load_from_local(filename: str, map_location=None) -> Any:
    """mmengine's loader of local paths, through :func:`safe_torch_load`."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location)


def load_from_http(filename: str, map_location=None, model_dir=None, progress=False) -> Any:
    """mmengine's loader of URLs: downloaded into torch hub's checkpoint folder (once), then
    read by :func:`safe_torch_load`."""
    import torch
    from mmengine.dist import get_dist_info
    folder = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    path = osp.join(folder, osp.basename(filename.split('?')[0]))
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.isfile(path):
        os.makedirs(folder, exist_ok=True)
        torch.hub.download_url_to_file(filename, path, progress=progress)
    if world_size > 1:
        torch.distributed.barrier()
    return safe_torch_load(path, map_location)
