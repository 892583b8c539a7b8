# VID (Ahn et al., CVPR 2019) on the 7x CycleGAN student on horse2zebra (the paper's Table 1
# setting).
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./cyclegan_horse2zebra_7x_nokd.py', './_base_/methods/vid.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.vid_resnet_losses))
optim_wrapper = _base_.vid_optim_wrapper  # its learnable parts train with the student
