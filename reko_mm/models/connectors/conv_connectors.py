"""Learnable adapters that map a student feature to the teacher's channels before a loss.

They are built per distilled layer by :class:`~reko_mm.models.TranslationDistiller`, which fills
in ``in_channels`` / ``out_channels`` from a dry run of both networks; they train with the
student (put ``'distill'`` in the generators' optimizer) and are never part of the student.
"""
import torch.nn as nn
from mmagic.registry import MODELS


@MODELS.register_module()
class Conv1x1Connector(nn.Conv2d):
    """A 1x1 convolution (GAN Compression: bias, weights N(0, 0.02), bias 0; GCC: no bias,
    PyTorch's default initialisation: ``init_std=None``).

    Args:
        in_channels (int): student channels.
        out_channels (int): teacher channels.
        bias (bool): add a bias.
        init_std (float | None): std of a normal initialisation (bias 0), or None for PyTorch's.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True,
                 init_std=0.02):
        super().__init__(in_channels, out_channels, kernel_size=1, bias=bias)
        if init_std is not None:
            nn.init.normal_(self.weight, 0.0, init_std)
            if self.bias is not None:
                nn.init.zeros_(self.bias)


@MODELS.register_module()
class ConvBNReLUConnector(nn.Sequential):
    """OMGD's channel-distillation adapter: 1x1 conv (no bias), BatchNorm, ReLU; initialised as
    OMGD's ``init_net`` leaves it (conv N(0, 0.02), BN weight N(1, 0.02), BN bias 0)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())
        nn.init.normal_(self[0].weight, 0.0, 0.02)
        nn.init.normal_(self[1].weight, 1.0, 0.02)
        nn.init.zeros_(self[1].bias)


@MODELS.register_module()
class VIDRegressor(nn.Sequential):
    """VID's regressor ``r``: 1x1 conv, ReLU, 1x1 conv, ReLU, 1x1 conv, no biases, PyTorch's
    default initialisation; the middle width is the teacher's (as in the authors' code) unless
    ``mid_channels`` is given."""

    def __init__(self, in_channels: int, out_channels: int, mid_channels=None):
        mid = mid_channels or out_channels
        super().__init__(nn.Conv2d(in_channels, mid, 1, bias=False), nn.ReLU(),
                         nn.Conv2d(mid, mid, 1, bias=False), nn.ReLU(),
                         nn.Conv2d(mid, out_channels, 1, bias=False))
