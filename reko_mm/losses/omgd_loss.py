"""OMGD's student losses (Ren et al., "Online Multi-Granularity Distillation for GAN
Compression", ICCV 2021): SSIM, total variation and channel distillation.

OMGD's two VGG16 terms (Gram "style" and relu2_2 "feature" L1 on the generated images) are
:class:`~reko_mm.losses.GramLoss` and :class:`~reko_mm.losses.ContentLoss` on
:class:`~reko_mm.models.FrozenVGG16` features; they need ImageNet weights from a local file.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS

from ._utils import check_loss_weight, check_same_positions


def _gaussian_window(size: int, sigma: float) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-x.pow(2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).float()


def ssim(x: torch.Tensor, y: torch.Tensor, window_size: int = 11, sigma: float = 1.5,
         c1: float = 0.01**2, c2: float = 0.03**2) -> torch.Tensor:
    """Mean structural similarity: Gaussian window per channel, zero padding (OMGD's
    ``pytorch_ssim``)."""
    channels = x.shape[1]
    window = _gaussian_window(window_size, sigma).to(x).expand(channels, 1, -1, -1)

    def blur(t):
        return F.conv2d(t, window, padding=window_size // 2, groups=channels)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x.pow(2)
    var_y = blur(y * y) - mu_y.pow(2)
    cov = blur(x * y) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / \
        ((mu_x.pow(2) + mu_y.pow(2) + c1) * (var_x + var_y + c2))
    return ssim_map.mean()


@MODELS.register_module()
class SSIMLoss(nn.Module):
    """``loss_weight * (1 - SSIM(student image, teacher image))`` (OMGD, lambda_ssim = 10).

    Window 11, sigma 1.5, C1 = 0.01^2, C2 = 0.03^2, zero padding, mean over the map, as OMGD's
    ``pytorch_ssim``. Like OMGD, it is applied to the generators' tanh images in [-1, 1],
    although C1 and C2 assume a range of 1.

    Shapes: ``forward((N, C, H, W), (N, C, H, W)) -> ()``.
    """

    def __init__(self, loss_weight: float = 1.0, window_size: int = 11, sigma: float = 1.5):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)
        self.window_size = window_size
        self.sigma = sigma

    def forward(self, student_img: torch.Tensor, teacher_img: torch.Tensor) -> torch.Tensor:
        check_same_positions(student_img, teacher_img, 'SSIMLoss')
        return self.loss_weight * (1 - ssim(student_img, teacher_img.detach(), self.window_size,
                                            self.sigma))


@MODELS.register_module()
class TotalVariationLoss(nn.Module):
    """Total variation of the student image, **summed** over the batch (OMGD, lambda_tv = 1e-5)::

        L = loss_weight * (sum |S[..., :, 1:] - S[..., :, :-1]|
                           + sum |S[..., 1:, :] - S[..., :-1, :]|)

    The sum (not a mean, unlike MMagic's ``MaskedTVLoss``) is OMGD's; its weight assumes it.

    Shapes: ``forward((N, C, H, W)) -> ()``; unary: the distiller reads ``inputs='student_image'``.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)

    def forward(self, student_img: torch.Tensor) -> torch.Tensor:
        dx = (student_img[..., :, 1:] - student_img[..., :, :-1]).abs().sum()
        dy = (student_img[..., 1:, :] - student_img[..., :-1, :]).abs().sum()
        return self.loss_weight * (dx + dy)


@MODELS.register_module()
class ChannelDistillLoss(nn.Module):
    """OMGD's channel distillation: squared difference of globally average-pooled channels::

        L = loss_weight * mean_{n,c} (GAP(A(S)) - GAP(T))^2

    ``A`` is the term's connector (:class:`ConvBNReLUConnector`: 1x1 conv, BN, ReLU, trained with
    the student), applied by the distiller before this loss. OMGD sums over its layers
    (``reduce='sum'``); lambda_CD is per dataset (5e2 for CycleGAN horse2zebra, 1e1 for its UNet
    Pix2Pix on edges2shoes).

    Shapes: ``forward((N, C, H, W), (N, C, H', W')) -> ()``.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        if s_feature.shape[:2] != t_feature.shape[:2]:
            raise ValueError(
                f'ChannelDistillLoss: student {tuple(s_feature.shape)} and teacher '
                f'{tuple(t_feature.shape)} differ in batch or channels; give the term '
                "connector=dict(type='ConvBNReLUConnector').")
        s, t = s_feature.mean(dim=(2, 3)), t_feature.detach().mean(dim=(2, 3))
        return self.loss_weight * (s - t).pow(2).mean()
