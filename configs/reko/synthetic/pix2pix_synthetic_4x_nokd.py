# Quick-start Pix2Pix student without distillation: UNet ngf 16 (teacher ngf 32).
_base_ = './pix2pix_synthetic_teacher.py'
model = dict(generator=dict(base_channels=16))
