# Teacher: pix2pixHD (Wang et al., CVPR 2018) on edges2shoes at 256x256: its global generator
# (ngf 64,
# 45.59 M parameters) and 3-scale discriminator, LSGAN + feature matching (weight 10), in MMagic
# form (_base_/pix2pixhd_model.py): the data, schedule, evaluation and checkpoints of MMagic's
# Pix2Pix edges2shoes config. The VGG loss is off (it needs local VGG19 weights:
# model.loss_config.vgg_loss_weight=10 and model.loss_config.vgg_weights=/path/vgg19.pth).
_base_ = ['./pix2pix_edges2shoes_teacher.py', './_base_/pix2pixhd_model.py']
model = dict(
    type='Pix2PixHD',
    generator=dict(_base_.hd_generator, _delete_=True),
    discriminator=dict(_base_.hd_discriminator, _delete_=True),
    loss_config=dict(_base_.hd_loss_config, _delete_=True))

# How a student distils from this teacher (the methods' configs use it):
teacher_student = dict(
    type='TeacherStudentGAN',
    student_type='Pix2PixHD',
    teacher=dict(generator=dict(base_channels=64),
                 ckpt='work_dirs/pix2pixhd_edges2shoes_teacher/iter_190000.pth'))
