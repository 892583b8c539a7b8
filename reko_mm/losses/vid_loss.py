"""Variational information distillation (VID; Ahn et al., CVPR 2019)."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS

from ._utils import check_loss_weight, check_positive, check_same_positions


@MODELS.register_module()
class VIDLoss(nn.Module):
    """Gaussian negative log-likelihood of the teacher feature under the student's prediction.

    Ahn, Hu, Damianou, Lawrence and Dai, "Variational Information Distillation for Knowledge
    Transfer" (CVPR 2019), as in the authors' code ported to RepDistiller::

        mu = r(S)                                 (r: VIDRegressor, the term's connector)
        var = softplus(alpha) + eps               (one learned value per teacher channel)
        L = loss_weight * mean_{n,c,h,w} 0.5 * ((mu - T)^2 / var + log var)

    ``alpha`` is a trainable parameter of this loss, initialised so that ``var`` starts at
    ``init_pred_var``; it trains with the student (add ``'distill'`` to the generators'
    optimizer). The loss can be negative (the ``log var`` term); that is expected.

    Args:
        teacher_channels (int): C_t, filled in by the distiller.
        init_pred_var (float): initial variance (5.0 in the authors' code).
        eps (float): variance floor (1e-5).
        loss_weight (float): beta (1 in the authors' scripts).

    Shapes: ``forward((N, C_t, H, W), (N, C_t, H, W)) -> ()``.
    """

    def __init__(self, teacher_channels: int, init_pred_var: float = 5.0, eps: float = 1e-5,
                 loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)
        check_positive(init_pred_var, 'init_pred_var', 'VIDLoss')
        self.eps = check_positive(eps, 'eps', 'VIDLoss')
        if init_pred_var <= eps:
            raise ValueError(f'VIDLoss: init_pred_var={init_pred_var} must exceed eps={eps}')
        self.log_scale = nn.Parameter(
            torch.full((teacher_channels,), math.log(math.exp(init_pred_var - eps) - 1.0)))

    def variance(self) -> torch.Tensor:
        return F.softplus(self.log_scale) + self.eps

    def forward(self, prediction: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        check_same_positions(prediction, t_feature, 'VIDLoss')
        if prediction.shape[1] != self.log_scale.numel() or \
                t_feature.shape[1] != prediction.shape[1]:
            raise ValueError(
                f'VIDLoss was built for {self.log_scale.numel()} teacher channels, got prediction '
                f'{tuple(prediction.shape)} and teacher {tuple(t_feature.shape)}; the term needs '
                "connector=dict(type='VIDRegressor') to map the student to the teacher channels.")
        var = self.variance().view(1, -1, 1, 1)
        nll = 0.5 * ((prediction - t_feature.detach()).pow(2) / var + torch.log(var))
        return self.loss_weight * nll.mean()

    def extra_repr(self) -> str:
        return f'teacher_channels={self.log_scale.numel()}, loss_weight={self.loss_weight}'
