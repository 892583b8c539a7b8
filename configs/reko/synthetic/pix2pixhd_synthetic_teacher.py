# Quick-start Pix2PixHD teacher on the generated paired synthetic set (64x64): the global
# generator at ngf 32 (11.40 M parameters) and a 3-scale discriminator at ndf 16, so it trains
# in minutes on a CPU. Data, schedule and test set as pix2pix_synthetic_teacher.py.
_base_ = ['./pix2pix_synthetic_teacher.py', '../_base_/pix2pixhd_model.py']
model = dict(
    type='Pix2PixHD',
    generator=dict(_base_.hd_generator, _delete_=True, base_channels=32),
    discriminator=dict(_base_.hd_discriminator, _delete_=True, base_channels=16),
    loss_config=dict(_base_.hd_loss_config, _delete_=True))

# How a student distils from this teacher (the methods' configs use it):
teacher_student = dict(
    type='TeacherStudentGAN',
    student_type='Pix2PixHD',
    teacher=dict(generator=dict(base_channels=32),
                 ckpt='work_dirs/pix2pixhd_synthetic_teacher/iter_300.pth'))
