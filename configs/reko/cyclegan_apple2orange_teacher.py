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
num_images_a = 266
num_images_b = 248
metrics = [
    dict(type='TransFID', prefix=f'FID-{domain_a}-to-{domain_b}', fake_nums=num_images_b,
         inception_style='PyTorch', real_key=f'img_{domain_b}', fake_key=f'fake_{domain_b}'),
    dict(type='TransFID', prefix=f'FID-{domain_b}-to-{domain_a}', fake_nums=num_images_a,
         inception_style='PyTorch', real_key=f'img_{domain_a}', fake_key=f'fake_{domain_a}'),
]
val_evaluator = dict(metrics=metrics)
test_evaluator = dict(metrics=metrics)
