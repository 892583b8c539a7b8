"""Plain-PyTorch rebuilds of the generator layouts users bring, built from their state dicts.

These are the networks the weights were trained in (junyanz/pytorch-CycleGAN-and-pix2pix's
``ResnetGenerator`` and ``UnetGenerator``, which GAN Compression's teachers and vintagify's
generator share), written from their published layouts. The importer loads a user's state dict
into one of them *strictly* to recognise it, and runs it beside the converted MMagic generator to
prove the conversion.
"""
from typing import Callable

import torch
import torch.nn as nn

NORMS = ('in', 'in_affine', 'bn')


def norm_layer(norm: str) -> Callable[[int], nn.Module]:
    """``'in'`` non-affine InstanceNorm (junyanz's default), ``'in_affine'``, ``'bn'``."""
    if norm == 'in':
        return lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)
    if norm == 'in_affine':
        return lambda c: nn.InstanceNorm2d(c, affine=True, track_running_stats=False)
    if norm == 'bn':
        return nn.BatchNorm2d
    raise ValueError(f'norm must be one of {NORMS}, got {norm!r}')


class ResnetBlock(nn.Module):
    """``[pad, conv, norm, ReLU, (Dropout), pad, conv, norm]`` plus the input.

    ``block_attr`` is the name of the ``nn.Sequential``: ``'conv_block'`` (junyanz, GAN
    Compression) or ``'block'`` (vintagify). ``dropout_slot`` keeps a Dropout at index 4, which
    moves the second conv from index 5 to 6 (GAN Compression's teachers always have it).
    """

    def __init__(self, dim: int, norm: str, dropout_slot: bool, block_attr: str = 'conv_block'):
        super().__init__()
        make_norm = norm_layer(norm)
        bias = norm != 'bn'
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), make_norm(dim),
                  nn.ReLU(True)]
        if dropout_slot:
            layers.append(nn.Dropout(0.0))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), make_norm(dim)]
        self.block_attr = block_attr
        setattr(self, block_attr, nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + getattr(self, self.block_attr)(x)


class JunyanzResnetGenerator(nn.Module):
    """junyanz's ``ResnetGenerator``: 7x7 conv, two stride-2 convs, ``num_blocks`` residual
    blocks, two transposed convs, 7x7 conv, tanh. Convs carry a bias unless the norm is BN."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ngf: int = 64,
                 num_blocks: int = 9, norm: str = 'in', dropout_slot: bool = False,
                 block_attr: str = 'conv_block'):
        super().__init__()
        make_norm = norm_layer(norm)
        bias = norm != 'bn'
        model = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=bias),
                 make_norm(ngf), nn.ReLU(True)]
        for i in range(2):
            c = ngf * 2**i
            model += [nn.Conv2d(c, c * 2, 3, stride=2, padding=1, bias=bias), make_norm(c * 2),
                      nn.ReLU(True)]
        model += [ResnetBlock(ngf * 4, norm, dropout_slot, block_attr)
                  for _ in range(num_blocks)]
        for i in range(2):
            c = ngf * 2**(2 - i)
            model += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1,
                                         bias=bias), make_norm(c // 2), nn.ReLU(True)]
        model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class UnetSkipBlock(nn.Module):
    """One level of junyanz's ``UnetGenerator``: down, the inner level, up; the outermost level
    ends in tanh, the others concatenate their input (the skip)."""

    def __init__(self, outer: int, inner: int, in_channels=None, submodule=None,
                 outermost: bool = False, innermost: bool = False, norm: str = 'bn',
                 use_dropout: bool = False):
        super().__init__()
        make_norm = norm_layer(norm)
        bias = norm != 'bn'
        in_channels = outer if in_channels is None else in_channels
        self.outermost = outermost
        down_conv = nn.Conv2d(in_channels, inner, 4, stride=2, padding=1, bias=bias)
        if outermost:
            model = [down_conv, submodule, nn.ReLU(True),
                     nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1), nn.Tanh()]
        elif innermost:
            model = [nn.LeakyReLU(0.2, True), down_conv, nn.ReLU(True),
                     nn.ConvTranspose2d(inner, outer, 4, stride=2, padding=1, bias=bias),
                     make_norm(outer)]
        else:
            model = [nn.LeakyReLU(0.2, True), down_conv, make_norm(inner), submodule,
                     nn.ReLU(True),
                     nn.ConvTranspose2d(inner * 2, outer, 4, stride=2, padding=1, bias=bias),
                     make_norm(outer)]
            if use_dropout:
                model.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        # As in junyanz's code (and MMagic's), the in-place LeakyReLU that opens self.model
        # rewrites x before the concatenation: the skip carries the activated input.
        return torch.cat([x, self.model(x)], 1)


class JunyanzUnetGenerator(nn.Module):
    """junyanz's ``UnetGenerator`` of ``num_downs`` levels (8: ``unet_256``)."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, num_downs: int = 8,
                 ngf: int = 64, norm: str = 'bn', use_dropout: bool = True):
        super().__init__()
        if num_downs < 5:
            raise ValueError(f'a junyanz UnetGenerator has at least 5 levels, got {num_downs}')
        block = UnetSkipBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = UnetSkipBlock(ngf * 8, ngf * 8, submodule=block, norm=norm,
                                  use_dropout=use_dropout)
        for mult in (4, 2, 1):
            block = UnetSkipBlock(ngf * mult, ngf * mult * 2, submodule=block, norm=norm)
        self.model = UnetSkipBlock(out_channels, ngf, in_channels=in_channels, submodule=block,
                                   outermost=True, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
