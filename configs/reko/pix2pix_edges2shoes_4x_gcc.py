# GCC's texture and content distillation (Li et al., NeurIPS 2021) on the 4x Pix2Pix student on
# edges2shoes (the paper's Table 2 setting).
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./pix2pix_edges2shoes_4x_nokd.py', './_base_/methods/gcc.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.gcc_unet_losses,
                  feature_nets=_base_.gcc_feature_nets))
optim_wrapper = _base_.gcc_optim_wrapper  # its learnable parts train with the student
