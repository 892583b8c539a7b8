# GCC's texture and content distillation (Li et al., NeurIPS 2021) on the 7x CycleGAN student on
# horse2zebra (the paper's Table 1 setting).
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./cyclegan_horse2zebra_7x_nokd.py', './_base_/methods/gcc.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.gcc_resnet_losses,
                  feature_nets=_base_.gcc_feature_nets))
optim_wrapper = _base_.gcc_optim_wrapper  # its learnable parts train with the student
