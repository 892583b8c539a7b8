"""Semantic relation preserving distillation (SRPKD; Li, Jiang & Aarabi, ECCV 2020 workshops)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS

from ._utils import check_loss_weight, check_same_positions


def relation_matrix(feat: torch.Tensor) -> torch.Tensor:
    """Per image ``R = F^T F`` over positions, rows L2-normalised: (N, C, H, W) -> (N, HW, HW)."""
    flat = feat.flatten(2)  # (N, C, M)
    return F.normalize(torch.bmm(flat.transpose(1, 2), flat), dim=2, eps=1e-12)


@MODELS.register_module()
class SemanticRelationLoss(nn.Module):
    """Distance between the student's and the teacher's position-relation matrices.

    Li, Jiang and Aarabi, "Semantic Relation Preserving Knowledge Distillation for
    Image-to-Image Translation" (ECCV 2020). **Re-implemented from the paper's description**:
    no code was released, and the exact normalisation of its eq. 7 could not be checked. Per
    image, with ``F`` the C x M feature (M = H*W positions)::

        R = F^T F  (M x M),   R~[i, :] = R[i, :] / ||R[i, :]||_2
        L = loss_weight * 1 / (N * M^2) * sum_n ||R~_S^n - R~_T^n||_F^2

    The 1 / M^2 follows Tung & Mori's similarity-preserving loss, which SRPKD transposes from the
    batch to the positions. Channel counts may differ (they cancel in R). Memory grows as M^2:
    apply it at the encoder output (H/4 x W/4).

    Shapes: ``forward((N, C_s, H, W), (N, C_t, H, W)) -> ()``.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        check_same_positions(s_feature, t_feature, 'SemanticRelationLoss')
        diff = relation_matrix(s_feature) - relation_matrix(t_feature.detach())
        return self.loss_weight * diff.pow(2).mean()  # mean over N * M * M
