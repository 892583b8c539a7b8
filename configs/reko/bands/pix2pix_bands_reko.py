# ReKo student on the 'bands' set, distilled from the ngf-32 teacher. The distilled UNet layer
# is 8x8 at 32x32, so K = 16 keeps a quarter of the positions.
_base_ = ['./pix2pix_bands_nokd.py', '../_base_/reko_unet.py']
model = dict(
    type='TeacherStudentGAN',
    student_type='Pix2Pix',
    teacher=dict(generator=dict(base_channels=32),
                 ckpt='work_dirs/pix2pix_bands_teacher/best.pth'),
    distill=dict(_base_.reko_distill, loss=dict(_base_.reko_distill.loss, num_regions=16)))
