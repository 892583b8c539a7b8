"""Exact graph rewrites for CPU deployment.

A convolution with few output channels (the generators' last 7x7 convolution, 3 channels out)
wastes most of a vector unit in oneDNN/OpenVINO: their kernels vectorise over output channels
(blocks of 16 floats with AVX-512, 8 with AVX2), so 3 channels fill 3/16 of each vector. On a
2-core AVX-512 CPU that layer runs at a sixth of the speed per multiply-add of the residual
blocks' convolutions, and costs the 7x student 14 % of its time against the teacher's 6 %
(``docs/deployment.md``).

:func:`split_narrow_convs` rewrites such a ``k_h x k_w`` convolution as a ``1 x k_w`` convolution
with ``k_h`` times the output channels (one group of outputs per kernel row) followed by the sum
of ``k_h`` row-shifted slices. The multiply-adds are the same; the result equals the original up
to float summation order (about 1e-6).
"""
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F


class RowSplitConv2d(nn.Module):
    """``conv(x)`` of a ``k_h x k_w`` :class:`~torch.nn.Conv2d` (stride 1, no groups or
    dilation, zero padding) computed as one ``1 x k_w`` convolution with ``k_h * C_out``
    outputs and the sum of ``k_h`` row-shifted slices of it."""

    def __init__(self, conv: nn.Conv2d):
        super().__init__()
        problem = _why_not_splittable(conv)
        if problem:
            raise ValueError(f'RowSplitConv2d cannot rewrite {conv}: {problem}')
        c_out, c_in, k_h, k_w = conv.weight.shape
        weight = conv.weight.detach().permute(2, 0, 1, 3).reshape(k_h * c_out, c_in, 1, k_w)
        self.weight = nn.Parameter(weight.contiguous(), requires_grad=False)
        self.bias = None if conv.bias is None else nn.Parameter(
            conv.bias.detach().clone(), requires_grad=False)
        self.out_channels, self.k_h = c_out, k_h
        self.padding = conv.padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = F.conv2d(x, self.weight, None, 1, self.padding)
        height = rows.shape[2] - self.k_h + 1
        c = self.out_channels
        out = rows[:, :c, :height]
        for k in range(1, self.k_h):
            out = out + rows[:, k * c:(k + 1) * c, k:k + height]
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1)
        return out


def _why_not_splittable(conv: nn.Conv2d):
    if conv.groups != 1:
        return f'groups={conv.groups}'
    if tuple(conv.stride) != (1, 1) or tuple(conv.dilation) != (1, 1):
        return f'stride {conv.stride}, dilation {conv.dilation} (only 1 is rewritten)'
    if conv.padding_mode != 'zeros' or isinstance(conv.padding, str):
        return f'padding {conv.padding!r} in mode {conv.padding_mode!r} (only numeric zeros)'
    if conv.kernel_size[0] < 2:
        return f'kernel {conv.kernel_size}: a single row needs no split'
    return None


def split_narrow_convs(generator: nn.Module, max_out_channels: int = 4):
    """A copy of ``generator`` (in eval mode, for inference) in which every convolution with at
    most ``max_out_channels`` outputs that can be rewritten is a :class:`RowSplitConv2d`.
    Returns ``(copy, names)``, ``names`` the rewritten modules (empty: nothing to rewrite)."""
    new = copy.deepcopy(generator).eval()
    names = []
    for name, module in list(new.named_modules()):
        if (type(module) is nn.Conv2d and module.out_channels <= max_out_channels
                and _why_not_splittable(module) is None):
            parent_name, _, attr = name.rpartition('.')
            parent = new.get_submodule(parent_name) if parent_name else new
            setattr(parent, attr, RowSplitConv2d(module))
            names.append(name)
    return new, names
