# ReKo student (ngf 24) on apple2orange, distilled from the ngf-64 teacher.
_base_ = ['./cyclegan_apple2orange_7x_nokd.py', './_base_/reko_resnet.py']
model = dict(
    type='TeacherStudentGAN',
    student_type='CycleGAN',
    teacher=dict(
        generator=dict(base_channels=64),
        ckpt='work_dirs/cyclegan_apple2orange_teacher/iter_270000.pth'),
    distill=_base_.reko_distill)
