# GAN Compression's distillation (Li, Lin et al., CVPR 2020) on the teacher-target baseline
# (vintagify_7x_nokd.py): a learnable 1x1 conv per point and MSE to the teacher's feature.
_base_ = ['./vintagify_7x_nokd.py', '../_base_/methods/gan_compression.py']
model = dict(distill=dict(losses=_base_.gan_compression_resnet_losses))
optim_wrapper = _base_.gan_compression_optim_wrapper  # its learnable parts train with the student
