"""pix2pixHD's multi-scale PatchGAN discriminator (Wang et al., CVPR 2018)."""
from typing import List

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmagic.models.utils import generation_init_weights
from mmagic.registry import MODELS


class NLayerDiscriminator(nn.Module):
    """One scale: pix2pixHD's ``NLayerDiscriminator`` (4x4 convolutions, padding 2; the first
    ``num_layers`` with stride 2, then one with stride 1, then the 1-channel prediction), with
    every block's output kept for feature matching."""

    def __init__(self, in_channels: int, base_channels: int, num_layers: int, norm_cfg: dict):
        super().__init__()
        lrelu = dict(type='LeakyReLU', negative_slope=0.2)
        blocks = [ConvModule(in_channels, base_channels, 4, stride=2, padding=2, bias=True,
                             norm_cfg=None, act_cfg=lrelu)]
        channels = base_channels
        for n in range(1, num_layers + 1):
            out = min(channels * 2, 512)
            blocks.append(ConvModule(channels, out, 4, stride=2 if n < num_layers else 1,
                                     padding=2, bias=True, norm_cfg=norm_cfg, act_cfg=lrelu))
            channels = out
        blocks.append(nn.Conv2d(channels, 1, 4, stride=1, padding=2))
        self.model = nn.Sequential(*blocks)

    def forward(self, x) -> List[torch.Tensor]:
        features = []
        for block in self.model:
            x = block(x)
            features.append(x)
        return features


@MODELS.register_module()
class MultiScaleDiscriminator(BaseModule):
    """``num_scales`` PatchGAN discriminators on the image and its 2x, 4x, ... average-pooled
    versions (pix2pixHD's ``MultiscaleDiscriminator``: 3 x 3 layers, instance norm, no
    sigmoid: LSGAN).

    ``forward(x)`` returns, per scale (finest first), the list of that scale's block outputs;
    the last of each is its prediction map, the others are the features of pix2pixHD's
    feature-matching loss. Scale ``i`` is ``self.discriminators[i]`` (module names
    ``discriminators.<i>.model.<j>``).

    Args:
        in_channels (int): channels of the input (label and image concatenated for pix2pix).
        base_channels (int): ``ndf`` (64).
        num_scales (int): discriminators (3).
        num_layers (int): stride-2 layers of each (3).
        norm_cfg (dict): normalisation of the middle blocks (instance norm).
    """

    def __init__(self, in_channels: int, base_channels: int = 64, num_scales: int = 3,
                 num_layers: int = 3, norm_cfg: dict = dict(type='IN'),
                 init_cfg: dict = dict(type='normal', gain=0.02)):
        super().__init__(init_cfg=init_cfg)
        if num_scales < 1 or num_layers < 1:
            raise ValueError(f'num_scales and num_layers must be >= 1, got {num_scales} and '
                             f'{num_layers}')
        self.discriminators = nn.ModuleList(
            NLayerDiscriminator(in_channels, base_channels, num_layers, norm_cfg)
            for _ in range(num_scales))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.init_type = (init_cfg or {}).get('type', 'normal')
        self.init_gain = (init_cfg or {}).get('gain', 0.02)

    def forward(self, x) -> List[List[torch.Tensor]]:
        outputs = []
        for i, disc in enumerate(self.discriminators):
            if i:
                x = self.downsample(x)
            outputs.append(disc(x))
        return outputs

    def init_weights(self):
        generation_init_weights(self, init_type=self.init_type, init_gain=self.init_gain)
        self._is_init = True
