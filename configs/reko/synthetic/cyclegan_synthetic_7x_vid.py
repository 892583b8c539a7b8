# VID (Ahn et al., CVPR 2019) on the quick-start CycleGAN student on the synthetic set.
# Teacher, data and schedule as in cyclegan_synthetic_7x.py (ReKo), whose distillation it replaces.
_base_ = ['./cyclegan_synthetic_7x.py', '../_base_/methods/vid.py']
model = dict(distill=dict(_delete_=True, losses=_base_.vid_resnet_losses))
# The adapters (and loss parameters) train with the student.
optim_wrapper = _base_.distill_parts_trained
