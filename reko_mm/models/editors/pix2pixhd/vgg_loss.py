"""pix2pixHD's VGG19 perceptual loss, from a local weights file."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from reko_mm.models.feature_nets.vgg_weights import load_vgg_features

# torchvision vgg19().features slices ending at relu1_1, relu2_1, relu3_1, relu4_1, relu5_1,
# weighted as pix2pixHD's VGGLoss
VGG19_SLICES = (2, 7, 12, 21, 30)
VGG19_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


class VGG19PerceptualLoss(nn.Module):
    """``sum_i w_i * L1(VGG19_i(fake), VGG19_i(real))`` over relu1_1 ... relu5_1 (pix2pixHD's
    ``VGGLoss``; the images go in as the generator makes them, as there).

    The ImageNet weights come from a local torchvision ``vgg19`` state dict (or just its
    ``features``); nothing is downloaded. Without a file it refuses to build.
    """

    def __init__(self, weights: Optional[str]):
        super().__init__()
        if not weights:
            raise FileNotFoundError(
                "Pix2PixHD's VGG loss (loss_config.vgg_loss_weight > 0) needs ImageNet VGG19 "
                'weights from a local file, which cannot be downloaded here: set '
                'model.loss_config.vgg_weights=/path/to/vgg19-dcbb9e9d.pth, or leave the loss '
                'off (vgg_loss_weight=0, the default).')
        self.features = load_vgg_features('vgg19', VGG19_SLICES[-1], weights,
                                          "Pix2PixHD's VGG19 loss")

    def train(self, mode: bool = True):
        super().train(mode)
        self.features.eval()
        return self

    def forward(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        loss, x, y, start = 0.0, fake, real.detach(), 0
        for end, w in zip(VGG19_SLICES, VGG19_WEIGHTS):
            x = self.features[start:end](x)
            with torch.no_grad():
                y = self.features[start:end](y)
            loss = loss + w * F.l1_loss(x, y)
            start = end
        return loss
