# SRPKD (Li, Jiang & Aarabi, 2020), re-implemented from its description on the quick-start CycleGAN
# student on the synthetic set.
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./cyclegan_synthetic_7x_nokd.py', '../_base_/methods/srpkd.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.srpkd_resnet_losses))
