"""Hinton et al.'s knowledge distillation, adapted to image translation (ReKo paper, sec. 4.1)."""
import torch
import torch.nn as nn
from mmagic.registry import MODELS

from ._utils import check_loss_weight


@MODELS.register_module()
class OutputL1Loss(nn.Module):
    """L1 between the student's and the teacher's generated images.

    Hinton, Vinyals and Dean, "Distilling the Knowledge in a Neural Network" (2015), adapted by
    the ReKo paper (sec. 4.1) "by replacing the KL divergence loss with L1-norm loss between the
    generated images of students and teachers"; GAN Compression uses the same term for CycleGAN
    (``lambda_recon``)::

        L = loss_weight * mean_{n,c,h,w} |G_S(x) - G_T(x)|

    Args:
        loss_weight (float): the weight; the returned value is already multiplied by it.

    Shapes: ``forward((N, C, H, W), (N, C, H, W)) -> ()``; the teacher image is a fixed target.
    """

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)

    def forward(self, student_img: torch.Tensor, teacher_img: torch.Tensor) -> torch.Tensor:
        if student_img.shape != teacher_img.shape:
            raise ValueError(f'OutputL1Loss: student image {tuple(student_img.shape)} and teacher '
                             f'image {tuple(teacher_img.shape)} differ in shape')
        return self.loss_weight * (student_img - teacher_img.detach()).abs().mean()
