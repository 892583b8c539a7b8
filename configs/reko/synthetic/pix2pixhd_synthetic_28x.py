# Quick-start ReKo Pix2PixHD student (ngf 6) distilled from the synthetic teacher (ngf 32).
# The residual blocks work on 8x8 maps at 64x64, so K = 16 keeps a quarter of the positions.
_base_ = ['./pix2pixhd_synthetic_28x_nokd.py', '../_base_/reko_pix2pixhd.py']
model = dict(
    type='TeacherStudentGAN',
    student_type='Pix2PixHD',
    teacher=dict(
        generator=dict(base_channels=32),
        ckpt='work_dirs/pix2pixhd_synthetic_teacher/iter_300.pth'),
    distill=dict(_base_.reko_distill, loss=dict(_base_.reko_distill.loss, num_regions=16)))
