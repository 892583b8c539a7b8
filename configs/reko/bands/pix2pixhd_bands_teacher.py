# Pix2PixHD teacher on the 'bands' set (32x32, paired): pix2pixHD's global generator at ngf 32
# (11.40 M parameters; its residual blocks work on 4x4 maps) and its 3-scale discriminator at
# ndf 16, LSGAN + feature matching. pix2pixHD's reconstruction term is its VGG loss, which needs
# ImageNet weights this set cannot assume; pix2pix's L1 term (weight 100) stands in for it (without
# it the teacher reached 10.2 dB on the objects, with it 11.9 dB, best at 3000 iterations). Data,
# validation set, early stopping, checkpoints and ground-truth metrics as
# pix2pix_bands_teacher.py.
_base_ = ['./pix2pix_bands_teacher.py', '../_base_/pix2pixhd_model.py']
model = dict(
    type='Pix2PixHD',
    generator=dict(_base_.hd_generator, _delete_=True, base_channels=32),
    discriminator=dict(_base_.hd_discriminator, _delete_=True, base_channels=16),
    loss_config=dict(_base_.hd_loss_config, _delete_=True, pixel_loss_weight=100.0))

# How a student distils from this teacher (the methods' configs use it):
teacher_student = dict(
    type='TeacherStudentGAN',
    student_type='Pix2PixHD',
    teacher=dict(generator=dict(base_channels=32),
                 ckpt='work_dirs/pix2pixhd_bands_teacher/best.pth'))
