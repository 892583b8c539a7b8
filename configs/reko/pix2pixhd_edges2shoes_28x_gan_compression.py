# GAN Compression's distillation (Li, Lin et al., CVPR 2020) on the 28x Pix2PixHD student on
# edges2shoes (the paper's Table 2 setting).
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./pix2pixhd_edges2shoes_28x_nokd.py', './_base_/methods/gan_compression.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.gan_compression_hd_losses))
optim_wrapper = _base_.gan_compression_optim_wrapper  # its learnable parts train with the student
