# Attention transfer (Zagoruyko & Komodakis, ICLR 2017) on the 7x CycleGAN student on horse2zebra
# (the paper's Table 1 setting).
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./cyclegan_horse2zebra_7x_nokd.py', './_base_/methods/at.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.at_resnet_losses))
