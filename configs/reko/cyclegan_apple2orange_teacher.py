# Teacher on apple2orange: MMagic's horse2zebra recipe with apple/orange domains.
_base_ = './cyclegan_horse2zebra_teacher.py'
domain_a = 'apple'
domain_b = 'orange'
dataroot = 'data/cyclegan/apple2orange'
model = dict(
    default_domain=domain_b,
    reachable_domains=[domain_a, domain_b],
    related_domains=[domain_a, domain_b],
    data_preprocessor=dict(data_keys=[f'img_{domain_a}', f'img_{domain_b}']))
key_mapping = dict(
    type='KeyMapper',
    mapping={f'img_{domain_a}': 'img_A', f'img_{domain_b}': 'img_B'},
    remapping={f'img_{domain_a}': f'img_{domain_a}', f'img_{domain_b}': f'img_{domain_b}'})
pack_input = dict(
    type='PackInputs',
    keys=[f'img_{domain_a}', f'img_{domain_b}'],
    data_keys=[f'img_{domain_a}', f'img_{domain_b}'])
train_dataloader = dict(dataset=dict(
    data_root=dataroot,
    pipeline=_base_.train_dataloader.dataset.pipeline[:-2] + [key_mapping, pack_input]))
val_dataloader = dict(dataset=dict(
    data_root=dataroot,
    pipeline=_base_.val_dataloader.dataset.pipeline[:-2] + [key_mapping, pack_input]))
test_dataloader = val_dataloader
num_images_a = 266  # testA
num_images_b = 248  # testB
# Offline FID/KID per direction, as in cyclegan_horse2zebra_teacher.py.
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
                 ckpt='work_dirs/cyclegan_apple2orange_teacher/iter_270000.pth'))
