"""Spectral-residual saliency (Hou & Zhang, CVPR 2007): an unsupervised region finder computed
from the input image alone, with no pretrained weights (the paper's sec. 5.4 compares teacher
attention with saliency)."""
import torch
import torch.nn.functional as F


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(round(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    g = torch.exp(-t.pow(2) / (2 * sigma**2))
    g = (g / g.sum()).view(1, 1, -1)
    n, h, w = x.shape
    x = F.conv1d(F.pad(x.reshape(n * h, 1, w), (radius, radius), mode='reflect'), g)
    x = x.view(n, h, w).transpose(1, 2).reshape(n * w, 1, h)
    x = F.conv1d(F.pad(x, (radius, radius), mode='reflect'), g)
    return x.view(n, w, h).transpose(1, 2)


@torch.no_grad()
def spectral_residual_saliency(image: torch.Tensor, size: int = 64,
                               sigma: float = 2.5) -> torch.Tensor:
    """Saliency map of a batch of images, (N, C, H, W) -> (N, size, size), non-negative.

    The image is averaged over channels and resized to ``size`` (the method works at a coarse
    scale); the log amplitude spectrum minus its 3x3 local mean (the "spectral residual") is
    recombined with the phase, transformed back, squared and blurred.
    """
    gray = image.float().mean(1, keepdim=True)
    gray = F.interpolate(gray, size=(size, size), mode='area')[:, 0]
    spec = torch.fft.fft2(gray)
    log_amp = torch.log(spec.abs() + 1e-8)
    phase = torch.angle(spec)
    residual = log_amp - F.avg_pool2d(
        F.pad(log_amp[:, None], (1, 1, 1, 1), mode='replicate'), 3, stride=1)[:, 0]
    sal = torch.fft.ifft2(torch.exp(torch.complex(residual, phase))).abs().pow(2)
    return _gaussian_blur(sal, sigma)


def saliency_scores(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Saliency pooled onto an ``height x width`` feature grid, flattened: (N, H*W)."""
    sal = spectral_residual_saliency(image)
    return F.adaptive_avg_pool2d(sal[:, None], (height, width)).flatten(1)
