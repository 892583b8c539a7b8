# VID (Ahn et al., CVPR 2019) on the teacher-target baseline.
_base_ = ['./vintagify_7x_nokd.py', '../_base_/methods/vid.py']
model = dict(distill=dict(losses=_base_.vid_resnet_losses))
# The regressors and variances train with the student.
optim_wrapper = _base_.distill_parts_trained
