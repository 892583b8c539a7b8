# Student baseline without distillation: ngf 16, 0.716 M params/generator (15.81x smaller).
_base_ = './cyclegan_horse2zebra_teacher.py'
model = dict(generator=dict(base_channels=16))
