"""GAN Compression's feature distillation (Li, Lin et al., CVPR 2020)."""
import torch
import torch.nn as nn
from mmagic.registry import MODELS

from ._utils import check_loss_weight, check_same_positions


@MODELS.register_module()
class FeatureMSELoss(nn.Module):
    """Mean squared error between an adapted student feature and the teacher feature.

    Li, Lin, Ding, Liu, Zhu and Han, "GAN Compression: Efficient Architectures for Interactive
    Conditional GANs" (CVPR 2020), the distillation part::

        L = loss_weight * mean_{n,c,h,w} (A(S) - T)^2

    where ``A`` is a learnable 1x1 convolution (:class:`Conv1x1Connector`, trained with the
    student) that maps the student channels to the teacher's; the distiller applies it before
    this loss. GAN Compression sums the term over four layers (``reduce='sum'``).

    Shapes: ``forward((N, C, H, W), (N, C, H, W)) -> ()``.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        check_same_positions(s_feature, t_feature, 'FeatureMSELoss')
        if s_feature.shape[1] != t_feature.shape[1]:
            raise ValueError(
                f'FeatureMSELoss: student {s_feature.shape[1]} and teacher {t_feature.shape[1]} '
                "channels differ; give the term a connector, e.g. connector=dict(type="
                "'Conv1x1Connector'), which maps the student channels to the teacher's.")
        return self.loss_weight * (s_feature - t_feature.detach()).pow(2).mean()
