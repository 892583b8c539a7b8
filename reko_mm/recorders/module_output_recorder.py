"""Forward hooks that record a named submodule's output, only inside a ``recording()`` block."""
import difflib
from contextlib import contextmanager
from typing import Iterator, List

import torch
import torch.nn as nn
from mmagic.registry import TASK_UTILS


def resolve_module(model: nn.Module, name: str, owner: str = 'model') -> nn.Module:
    """``model.get_submodule(name)``, with an error that lists the closest valid
    names (``owner`` says whose module it is).
    """
    names = [n for n, _ in model.named_modules() if n]
    if name in names:
        return model.get_submodule(name)
    close = difflib.get_close_matches(name, names, n=8, cutoff=0.3)
    hint = ', '.join(repr(n) for n in close) if close else ', '.join(
        repr(n) for n in names[:15])
    raise KeyError(
        f'{name!r} is not a submodule of the {owner} ({type(model).__name__}). '
        f'Closest valid names: {hint}. All {len(names)} names: '
        f'[n for n, _ in model.named_modules()].')


@TASK_UTILS.register_module()
class ModuleOutputRecorder:
    """Records the output of ``model.<name>`` each time it runs inside :meth:`recording`.

    The hook is registered once at build time, on the module object itself, so it keeps working
    when the model is later wrapped (DDP adds ``.module`` to paths, not to objects). Outside a
    ``recording()`` block it does nothing. Outputs are cloned because layers downstream may
    modify them in place (MMagic's UNet runs ``LeakyReLU(inplace=True)`` before each conv);
    ``clone`` keeps the autograd graph, so gradients still reach the recorded layer.

    Args:
        model (nn.Module): the network that holds the submodule (e.g. one generator).
        name (str): the submodule's name in ``model.named_modules()``, e.g. ``'model.11'``.
        owner (str): how errors refer to ``model`` (e.g. ``'student generator zebra'``).
    """

    def __init__(self, model: nn.Module, name: str, owner: str = 'model'):
        self.name = name
        self.owner = owner
        self.module = resolve_module(model, name, owner)
        self.data: List[torch.Tensor] = []
        self._active = False
        self._handle = self.module.register_forward_hook(self._hook)

    def _hook(self, module, inputs, output):
        if self._active:
            self.data.append(output.clone())

    @contextmanager
    def recording(self) -> Iterator['ModuleOutputRecorder']:
        """Clear, then record every call of the module until the block ends."""
        self.data = []
        self._active = True
        try:
            yield self
        finally:
            self._active = False

    def get(self, index: int = -1) -> torch.Tensor:
        """The ``index``-th recorded output of the last ``recording()`` block."""
        if not self.data:
            raise RuntimeError(
                f'nothing was recorded from {self.owner}.{self.name}: the module did not run '
                'inside recording(). Check that the layer is on the forward path of the '
                'network that was called.')
        return self.data[index]

    def clear(self) -> None:
        self.data = []

    def remove(self) -> None:
        """Remove the hook; the recorder records nothing afterwards."""
        self._handle.remove()
        self.data = []

    def __repr__(self):
        return f'{type(self).__name__}({self.owner}.{self.name})'
