# VID (Ahn et al., CVPR 2019) on the teacher-target baseline.
_base_ = ['./vintagify_7x_nokd.py', '../_base_/methods/vid.py']
model = dict(distill=dict(losses=_base_.vid_resnet_losses))
optim_wrapper = _base_.vid_optim_wrapper  # its learnable parts train with the student
