"""Distillation losses, one file per paper. Each returns a scalar already multiplied by its
``loss_weight``; the teacher side is always a fixed (detached) target."""
from .at_loss import ATLoss, spatial_attention
from .feature_mse_loss import FeatureMSELoss
from .gcc_loss import ContentLoss, GramLoss, gram_matrix
from .kernel_alignment_loss import KernelAlignmentLoss, kernel_alignment
from .omgd_loss import ChannelDistillLoss, SSIMLoss, TotalVariationLoss, ssim
from .output_l1_loss import OutputL1Loss
from .region_aware_distill_loss import (PROJECTORS, REGION_SELECTORS, RegionAwareDistillLoss,
                                        attention_map, build_projector)
from .saliency import saliency_scores, spectral_residual_saliency
from .semantic_relation_loss import SemanticRelationLoss, relation_matrix
from .vid_loss import VIDLoss

__all__ = [
    'RegionAwareDistillLoss', 'attention_map', 'build_projector', 'REGION_SELECTORS',
    'PROJECTORS', 'OutputL1Loss', 'ATLoss', 'spatial_attention', 'FeatureMSELoss',
    'SemanticRelationLoss', 'relation_matrix', 'KernelAlignmentLoss', 'kernel_alignment',
    'VIDLoss', 'SSIMLoss', 'ssim', 'TotalVariationLoss', 'ChannelDistillLoss', 'GramLoss',
    'ContentLoss', 'gram_matrix', 'saliency_scores', 'spectral_residual_saliency'
]
