# Student baseline without distillation on apple2orange: ngf 24.
_base_ = './cyclegan_apple2orange_teacher.py'
model = dict(generator=dict(base_channels=24))
