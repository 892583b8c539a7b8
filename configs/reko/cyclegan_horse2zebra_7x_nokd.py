# Student baseline without distillation: ngf 24, 1.606 M params/generator (7.08x smaller).
_base_ = './cyclegan_horse2zebra_teacher.py'
model = dict(generator=dict(base_channels=24))
