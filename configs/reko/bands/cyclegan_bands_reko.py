# ReKo student on the 'bands' set: the no-KD student distilled from the ngf-16 teacher. The
# residual blocks work on 8x8 maps at 32x32, so K = 16 keeps a quarter of the positions (as
# K = 64 does on the 16x16 maps of the 64x64 quick start).
_base_ = ['./cyclegan_bands_nokd.py', '../_base_/reko_resnet.py']
model = dict(
    type='TeacherStudentGAN',
    student_type='CycleGAN',
    teacher=dict(generator=dict(base_channels=16),
                 ckpt='work_dirs/cyclegan_bands_teacher/best.pth'),
    distill=dict(_base_.reko_distill, loss=dict(_base_.reko_distill.loss, num_regions=16),
                 probe_size=32))
