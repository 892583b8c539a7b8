# Student baseline without distillation: Pix2PixHDGenerator ngf 12, 1.61 M parameters (28.4x
# fewer than the teacher; the paper's 28.23x).
_base_ = './pix2pixhd_facades_teacher.py'
model = dict(generator=dict(base_channels=12))
