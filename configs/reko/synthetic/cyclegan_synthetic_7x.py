# Quick-start ReKo student (ngf 6) distilled from the synthetic teacher (ngf 16).
# Feature maps are 16x16 here (64x64 input), so K=64 keeps a quarter of the positions.
_base_ = ['./cyclegan_synthetic_7x_nokd.py', '../_base_/reko_resnet.py']
model = dict(
    type='TeacherStudentGAN',
    student_type='CycleGAN',
    teacher=dict(
        generator=dict(base_channels=16),
        ckpt='work_dirs/cyclegan_synthetic_teacher/iter_300.pth'),
    distill=_base_.reko_distill)
