# Quick-start Pix2PixHD student without distillation: ngf 6 (the teacher has 32; 28x fewer
# parameters, as the paper's ngf 12 student of an ngf 64 teacher).
_base_ = './pix2pixhd_synthetic_teacher.py'
model = dict(generator=dict(base_channels=6))
