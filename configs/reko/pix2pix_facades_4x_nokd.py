# Student baseline without distillation: UnetGenerator ngf 32, 13.608 M params (4x smaller).
_base_ = './pix2pix_facades_teacher.py'
model = dict(generator=dict(base_channels=32))
