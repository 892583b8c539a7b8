# GAN Compression's distillation (Li, Lin et al., CVPR 2020) on the quick-start Pix2PixHD student
# on the synthetic set.
# Teacher, data and schedule as in pix2pixhd_synthetic_28x.py (ReKo), whose distillation it
# replaces.
_base_ = ['./pix2pixhd_synthetic_28x.py', '../_base_/methods/gan_compression.py']
model = dict(distill=dict(_delete_=True, losses=_base_.gan_compression_hd_losses))
# The adapters (and loss parameters) train with the student.
optim_wrapper = _base_.distill_parts_trained
