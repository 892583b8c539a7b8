"""Comparing a checkpoint's tensors with a module's: the one place that says what does not fit."""
from typing import Dict, List, Mapping, NamedTuple

import torch

State = Mapping[str, torch.Tensor]


class StateDiff(NamedTuple):
    """How ``other`` differs from ``own`` (keys sorted; ``wrong``: same key, another shape)."""
    missing: List[str]  # in own, not in other
    unexpected: List[str]  # in other, not in own
    wrong: List[str]

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.wrong)


def diff_state(own: State, other: State) -> StateDiff:
    """What keys and shapes of ``other`` (a checkpoint's) do not fit ``own`` (a module's)."""
    return StateDiff(missing=sorted(set(own) - set(other)),
                     unexpected=sorted(set(other) - set(own)),
                     wrong=sorted(k for k in set(own) & set(other)
                                  if tuple(own[k].shape) != tuple(other[k].shape)))


def strip_prefix(state: State, prefix: str) -> Dict[str, torch.Tensor]:
    """The entries of ``state`` under ``prefix`` (e.g. ``generators.zebra.``), without it."""
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def strip_module_prefix(state: State) -> Dict[str, torch.Tensor]:
    """``state`` with (Distributed)DataParallel's ``module.`` prefix removed from every key."""
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
