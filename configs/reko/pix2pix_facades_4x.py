# ReKo student (UNet ngf 32) distilled from the ngf-64 teacher.
_base_ = ['./pix2pix_facades_4x_nokd.py', './_base_/reko_unet.py']
model = dict(
    type='TeacherStudentGAN',
    student_type='Pix2Pix',
    teacher=dict(
        generator=dict(base_channels=64),
        ckpt='work_dirs/pix2pix_facades_teacher/iter_80000.pth'),
    distill=_base_.reko_distill)
