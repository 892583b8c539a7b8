"""Attention transfer (Zagoruyko & Komodakis, ICLR 2017)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS

from ._utils import check_loss_weight, check_same_positions


def spatial_attention(feat: torch.Tensor) -> torch.Tensor:
    """``a(F)``: the channel mean of ``F**2``, flattened and L2-normalised:
    (N, C, H, W) -> (N, HW)."""
    return F.normalize(feat.pow(2).mean(1).flatten(1), dim=1, eps=1e-12)


@MODELS.register_module()
class ATLoss(nn.Module):
    """Attention transfer between one student and one teacher feature map.

    Zagoruyko and Komodakis, "Paying More Attention to Attention: Improving the Performance of
    Convolutional Neural Networks via Attention Transfer" (ICLR 2017), p = 2, as in the authors'
    ``at_loss`` and MMRazor's ``ATLoss``::

        a = normalize(mean_c F^2, over the flattened H*W positions)      (eps 1e-12)
        L = loss_weight * mean_{n, i} (a_S - a_T)^2

    The channel counts may differ; the spatial sizes must agree. The authors' weight is
    beta = 1e3, summed over the distilled layers.

    Shapes: ``forward((N, C_s, H, W), (N, C_t, H, W)) -> ()``.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        check_same_positions(s_feature, t_feature, 'ATLoss')
        diff = spatial_attention(s_feature) - spatial_attention(t_feature.detach())
        return self.loss_weight * diff.pow(2).mean()
