"""A frozen ImageNet VGG16 from a local weights file (OMGD's style and feature terms)."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmagic.registry import MODELS

from .vgg_weights import load_vgg_features

# End index (exclusive) of torchvision's ``vgg16().features`` slice that ends at each ReLU.
VGG16_LAYERS = {'relu1_2': 4, 'relu2_2': 9, 'relu3_3': 16, 'relu4_3': 23}


@MODELS.register_module()
class FrozenVGG16(nn.Module):
    """torchvision's VGG16 ``features`` up to the deepest requested ReLU, frozen and in eval mode.

    As OMGD's ``utils/vgg_feature.py``: the input is the generator's image in [-1, 1] mapped to
    ``(x + 1) / 2``, **without** ImageNet mean/std normalisation; gradients flow through the
    frozen network into the student's image. MMagic's translation configs train on OpenCV's BGR
    images, so the channels are flipped to RGB first (``bgr_input=True``).

    The weights come from a local file (a torchvision ``vgg16`` state dict, e.g.
    ``vgg16-397923af.pth``, or just its ``features``): nothing is downloaded. Without one
    (``weights=None``) the network is *unavailable*: the distiller switches the terms that read it
    off with a loud warning and records it in the run (``on_missing='disable'``), or refuses to
    build (``on_missing='error'``). Random weights are never substituted.

    Args:
        weights (str | None): path of the weights file.
        layers (sequence of str): feature names returned, from :data:`VGG16_LAYERS`.
        bgr_input (bool): flip BGR to RGB before the network.
        on_missing (str): ``'disable'`` or ``'error'`` when ``weights`` is None.
    """

    def __init__(self, weights: Optional[str] = None,
                 layers: Sequence[str] = ('relu1_2', 'relu2_2', 'relu3_3', 'relu4_3'),
                 bgr_input: bool = True, on_missing: str = 'disable'):
        super().__init__()
        unknown = [name for name in layers if name not in VGG16_LAYERS]
        if unknown:
            raise KeyError(f'FrozenVGG16: unknown layers {unknown}; valid: {list(VGG16_LAYERS)}')
        if on_missing not in ('disable', 'error'):
            raise ValueError(f"FrozenVGG16: on_missing must be 'disable' or 'error', got "
                             f'{on_missing!r}')
        self.layers = list(layers)
        self.bgr_input = bgr_input
        self.weights = weights
        self.unavailable_reason = None
        if weights is None:
            self.unavailable_reason = (
                'FrozenVGG16 has no weights file (weights=None); it needs ImageNet VGG16 weights, '
                'which cannot be downloaded here. Pass a local torchvision vgg16 state dict, '
                'e.g. --cfg-options '
                'model.distill.feature_nets.vgg.weights=/path/vgg16-397923af.pth')
            if on_missing == 'error':
                raise FileNotFoundError(self.unavailable_reason)
            self.features = None
            return
        depth = max(VGG16_LAYERS[name] for name in self.layers)
        self.features = load_vgg_features('vgg16', depth, weights, 'FrozenVGG16')

    @property
    def available(self) -> bool:
        return self.features is not None

    def train(self, mode: bool = True):
        super().train(mode)
        if self.features is not None:
            self.features.eval()
        return self

    def forward(self, images: torch.Tensor, **kwargs) -> Dict[str, torch.Tensor]:
        """``{layer: feature}`` of images in [-1, 1] (extra keyword arguments are ignored)."""
        if self.features is None:
            raise RuntimeError(self.unavailable_reason)
        x = images.flip(1) if self.bgr_input else images
        x = (x + 1) / 2
        out, start = {}, 0
        ends = sorted({VGG16_LAYERS[name] for name in self.layers})
        by_end = {VGG16_LAYERS[name]: name for name in self.layers}
        for end in ends:
            x = self.features[start:end](x)
            out[by_end[end]] = x
            start = end
        return out
