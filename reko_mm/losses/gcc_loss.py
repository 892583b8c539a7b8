"""GCC's texture and content distillation (Li et al., "Revisiting Discriminator in GAN
Compression: A Generator-discriminator Cooperative Compression Scheme", NeurIPS 2021).

:class:`GramLoss` is also OMGD's VGG "style" term (``criterion='l1'``).
"""
import torch
import torch.nn as nn
from mmagic.registry import MODELS

from ._utils import check_loss_weight

CRITERIA = ('mse', 'l1')


def gram_matrix(feat: torch.Tensor) -> torch.Tensor:
    """``F F^T / (C*H*W)`` per sample: (N, C, H, W) -> (N, C, C)."""
    n, c, h, w = feat.shape
    flat = feat.reshape(n, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


def _distance(a: torch.Tensor, b: torch.Tensor, criterion: str, sqrt: bool) -> torch.Tensor:
    d = (a - b).pow(2).mean() if criterion == 'mse' else (a - b).abs().mean()
    return torch.sqrt(d) if sqrt else d


def _check_criterion(criterion: str, owner: str) -> str:
    if criterion not in CRITERIA:
        raise ValueError(f'{owner}: criterion must be one of {CRITERIA}, got {criterion!r}')
    return criterion


@MODELS.register_module()
class GramLoss(nn.Module):
    """Distance between the student's and the teacher's Gram (texture) matrices::

        Gram(F) = F F^T / (C*H*W)   per sample
        L = loss_weight * d(Gram(S), Gram(T))

    ``d`` is the mean squared error (``criterion='mse'``; GCC's CycleGAN), its square root
    (``sqrt=True``; GCC's Pix2Pix) or the mean absolute error (``criterion='l1'``; OMGD's VGG
    style term). The channel counts must agree: give the term a connector for generator
    features (GCC: a 1x1 convolution), none for features of one frozen network.

    Shapes: ``forward((N, C, H, W), (N, C, H', W')) -> ()``.
    """

    def __init__(self, loss_weight: float = 1.0, criterion: str = 'mse', sqrt: bool = False):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)
        self.criterion = _check_criterion(criterion, type(self).__name__)
        self.sqrt = bool(sqrt)

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        if s_feature.shape[:2] != t_feature.shape[:2]:
            raise ValueError(f'GramLoss: student {tuple(s_feature.shape)} and teacher '
                             f'{tuple(t_feature.shape)} differ in batch or channels; give the '
                             "term connector=dict(type='Conv1x1Connector').")
        return self.loss_weight * _distance(gram_matrix(s_feature),
                                            gram_matrix(t_feature.detach()), self.criterion,
                                            self.sqrt)


@MODELS.register_module()
class ContentLoss(nn.Module):
    """GCC's content term: ``loss_weight * d(S, T)`` on (adapted) features, ``d`` as in
    :class:`GramLoss` (MSE for GCC's CycleGAN, its square root for GCC's Pix2Pix; L1 for OMGD's
    VGG relu2_2 feature term).

    Shapes: ``forward((N, C, H, W), (N, C, H, W)) -> ()``.
    """

    def __init__(self, loss_weight: float = 1.0, criterion: str = 'mse', sqrt: bool = False):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)
        self.criterion = _check_criterion(criterion, type(self).__name__)
        self.sqrt = bool(sqrt)

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        if s_feature.shape != t_feature.shape:
            raise ValueError(f'ContentLoss: student {tuple(s_feature.shape)} and teacher '
                             f'{tuple(t_feature.shape)} differ; give the term '
                             "connector=dict(type='Conv1x1Connector').")
        return self.loss_weight * _distance(s_feature, t_feature.detach(), self.criterion,
                                            self.sqrt)
