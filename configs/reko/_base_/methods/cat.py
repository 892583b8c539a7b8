# CAT (Jin et al., CVPR 2021), kernel-alignment distillation: sum over the four points of
# (1 - KA), lambda_distill = 1 (its horse2zebra script). KA compares the images of a batch: it is
# identically 1 at batch size 1, which KernelAlignmentLoss refuses; CAT's configs below train with
# 4 images per process.
_base_ = ['./kd_points.py']
cat_resnet_losses = dict(cat=dict(
    inputs=dict(layers=_base_.kd_resnet_points), reduce='sum',
    loss=dict(type='KernelAlignmentLoss', loss_weight=1.0)))
cat_unet_losses = dict(cat=dict(
    inputs=dict(layers=_base_.kd_unet_points), reduce='sum',
    loss=dict(type='KernelAlignmentLoss', loss_weight=1.0)))
cat_hd_losses = dict(cat=dict(
    inputs=dict(layers=_base_.kd_hd_points), reduce='sum',
    loss=dict(type='KernelAlignmentLoss', loss_weight=1.0)))
