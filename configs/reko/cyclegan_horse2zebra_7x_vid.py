# VID (Ahn et al., CVPR 2019) on the 7x CycleGAN student on horse2zebra (the paper's Table 1
# setting).
# Teacher, data and schedule as in cyclegan_horse2zebra_7x.py (ReKo), whose distillation it
# replaces.
_base_ = ['./cyclegan_horse2zebra_7x.py', './_base_/methods/vid.py']
model = dict(distill=dict(_delete_=True, losses=_base_.vid_resnet_losses))
# The adapters (and loss parameters) train with the student.
optim_wrapper = _base_.distill_parts_trained
