# Quick-start student without distillation: ngf 6 (teacher ngf 16; the 64:24 ratio, ~7x fewer
# params).
_base_ = './cyclegan_synthetic_teacher.py'
model = dict(generator=dict(base_channels=6))
