# Quick-start student without distillation: ngf 12 (teacher ngf 32; the 64:24 ratio).
_base_ = './cyclegan_synthetic_teacher.py'
model = dict(generator=dict(base_channels=12))
