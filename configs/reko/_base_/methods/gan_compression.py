# GAN Compression (Li, Lin et al., CVPR 2020), its distillation part: a learnable 1x1 conv per
# layer (bias, N(0, 0.02)) and MSE to the teacher feature, summed over the four points.
# lambda_distill: 0.01 in its CycleGAN horse2zebra script, 1 for Pix2Pix.
_base_ = ['./kd_points.py']
gan_compression_resnet_losses = dict(gan_compression=dict(
    inputs=dict(layers=_base_.kd_resnet_points), reduce='sum',
    connector=dict(type='Conv1x1Connector', bias=True, init_std=0.02),
    loss=dict(type='FeatureMSELoss', loss_weight=0.01)))
gan_compression_unet_losses = dict(gan_compression=dict(
    inputs=dict(layers=_base_.kd_unet_points), reduce='sum',
    connector=dict(type='Conv1x1Connector', bias=True, init_std=0.02),
    loss=dict(type='FeatureMSELoss', loss_weight=1.0)))
# Pix2PixHD: a Pix2Pix model, lambda_distill 1
gan_compression_hd_losses = dict(gan_compression=dict(
    inputs=dict(layers=_base_.kd_hd_points), reduce='sum',
    connector=dict(type='Conv1x1Connector', bias=True, init_std=0.02),
    loss=dict(type='FeatureMSELoss', loss_weight=1.0)))
# Its learnable parts (connectors, loss parameters) train with the student.
gan_compression_optim_wrapper = _base_.distill_parts_trained
