# Quick-start ReKo Pix2Pix student (UNet ngf 16) distilled from the synthetic teacher (ngf 32).
# The recorded feature is 16x16 here (64x64 input), so K=64 keeps a quarter of the positions.
_base_ = ['./pix2pix_synthetic_4x_nokd.py', '../_base_/reko_unet.py']
model = dict(
    type='TeacherStudentGAN',
    student_type='Pix2Pix',
    teacher=dict(
        generator=dict(base_channels=32),
        ckpt='work_dirs/pix2pix_synthetic_teacher/iter_300.pth'),
    distill=_base_.reko_distill)
