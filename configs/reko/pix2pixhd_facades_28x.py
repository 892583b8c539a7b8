# ReKo student (Pix2PixHD ngf 12) distilled from the ngf-64 teacher on facades.
_base_ = ['./pix2pixhd_facades_28x_nokd.py', './_base_/reko_pix2pixhd.py']
model = dict(
    type='TeacherStudentGAN',
    student_type='Pix2PixHD',
    teacher=dict(
        generator=dict(base_channels=64),
        ckpt='work_dirs/pix2pixhd_facades_teacher/iter_80000.pth'),
    distill=_base_.reko_distill)
