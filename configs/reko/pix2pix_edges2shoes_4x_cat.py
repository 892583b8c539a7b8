# CAT's kernel-alignment distillation (Jin et al., CVPR 2021) on the 4x Pix2Pix student on
# edges2shoes (the paper's Table 2 setting).
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./pix2pix_edges2shoes_4x_nokd.py', './_base_/methods/cat.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.cat_unet_losses))
