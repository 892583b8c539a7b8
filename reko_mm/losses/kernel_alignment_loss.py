"""CAT's kernel-alignment distillation (Jin et al., CVPR 2021)."""
import torch
import torch.nn as nn
from mmagic.registry import MODELS

from ._utils import check_loss_weight


def kernel_alignment(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Uncentred kernel alignment of two batches of features (flattened per sample)."""
    x, y = x.flatten(1), y.flatten(1)
    kx, ky = x @ x.t(), y @ y.t()
    return (kx * ky).sum() / torch.sqrt((kx * kx).sum() * (ky * ky).sum())


@MODELS.register_module()
class KernelAlignmentLoss(nn.Module):
    """``1 - KA`` between the student's and the teacher's batch kernels.

    Jin, Ren, Woodford, Wang, Yuan, Wang and Tulyakov, "Teachers Do More Than Teach:
    Compressing Image-to-Image Models" (CAT, CVPR 2021), ``--distill_G_loss_type ka``::

        X = student features flattened per sample (N x C_s*H*W),  Kx = X X^T
        Y = teacher features flattened per sample (N x C_t*H*W),  Ky = Y Y^T
        KA = sum(Kx * Ky) / sqrt(sum(Kx^2) * sum(Ky^2))
        L = loss_weight * (1 - KA)

    The kernels compare the *samples of a batch*: at batch size 1 they are scalars and KA is
    identically 1, so the loss would be a constant with no gradient. That is refused with an
    error. CAT trained with 20 images per GPU.

    Shapes: ``forward((N, C_s, H, W), (N, C_t, H', W')) -> ()``, N >= 2.
    """

    min_batch = 2  # images per process it needs (the benchmarks train CAT's arms so)

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = check_loss_weight(loss_weight, type(self).__name__)

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        n = s_feature.shape[0]
        if n != t_feature.shape[0]:
            raise ValueError(f'KernelAlignmentLoss: batch sizes differ: student {n}, teacher '
                             f'{t_feature.shape[0]}')
        if n < self.min_batch:
            raise ValueError(
                'KernelAlignmentLoss (CAT) compares the images of a batch, but this batch has one '
                'image per process: the kernel alignment is then identically 1 and the loss a '
                'constant with no gradient. Train with at least 2 images per process, e.g. '
                '--cfg-options train_dataloader.batch_size=4.')
        return self.loss_weight * (1 - kernel_alignment(s_feature, t_feature.detach()))
