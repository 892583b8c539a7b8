# OMGD's student losses (Ren et al., ICCV 2021), frozen teacher on the 4x Pix2Pix student on
# edges2shoes (the paper's Table 2 setting).
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./pix2pix_edges2shoes_4x_nokd.py', './_base_/methods/omgd.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.omgd_unet_losses,
                  feature_nets=_base_.omgd_feature_nets))
optim_wrapper = _base_.omgd_optim_wrapper  # its learnable parts train with the student
