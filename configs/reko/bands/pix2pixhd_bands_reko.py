# ReKo Pix2PixHD student on the 'bands' set, distilled from the ngf-32 teacher. The residual
# blocks work on 4x4 maps at 32x32, so K = 4 keeps a quarter of the positions.
_base_ = ['./pix2pixhd_bands_nokd.py', '../_base_/reko_pix2pixhd.py']
model = dict(
    type='TeacherStudentGAN',
    student_type='Pix2PixHD',
    teacher=dict(generator=dict(base_channels=32),
                 ckpt='work_dirs/pix2pixhd_bands_teacher/best.pth'),
    distill=dict(_base_.reko_distill, loss=dict(_base_.reko_distill.loss, num_regions=4)))
