# Quick-start teacher on the generated synthetic set (64x64, objects flat <-> striped).
# Same CycleGAN recipe as MMagic's horse2zebra, scaled so that it trains in minutes on a CPU:
# ngf 16 (the 7x student below keeps the 64:24 width ratio as ngf 6), batch 4, no resizing.
# Create the data with:  python tools/dataset_converters/make_synthetic.py data/synthetic/unpaired
_base_ = '../cyclegan_horse2zebra_teacher.py'
domain_a = 'flat'
domain_b = 'striped'
dataroot = 'data/synthetic/unpaired'
max_iters = 300

model = dict(
    generator=dict(base_channels=16),
    discriminator=dict(base_channels=16),
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
train_pipeline = [
    dict(type='LoadImageFromFile', key='img_A', color_type='color'),
    dict(type='LoadImageFromFile', key='img_B', color_type='color'),
    dict(type='Flip', keys=['img_A'], direction='horizontal'),
    dict(type='Flip', keys=['img_B'], direction='horizontal'),
    key_mapping, pack_input,
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=dataroot, pipeline=train_pipeline))
# No in-training validation, to keep the quick start short. The test set is scored with the
# offline FID/KID (tools/test.py): every test image once per direction (-1 = all items; the
# generated domains have equal counts).
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=dataroot, test_mode=True, pipeline=[
        dict(type='LoadImageFromFile', key='img_A', color_type='color'),
        dict(type='LoadImageFromFile', key='img_B', color_type='color'),
        key_mapping, pack_input]))
test_cfg = dict(type='MultiTestLoop')
test_evaluator = dict(metrics=[
    dict(type=metric, prefix=f'{name}-{src}-to-{dst}', fake_nums=-1, real_nums=-1,
         fake_key=f'fake_{dst}', real_key=f'img_{dst}')
    for src, dst in [(domain_a, domain_b), (domain_b, domain_a)]
    for metric, name in [('OfflineTransFID', 'FID'), ('OfflineTransKID', 'KID')]
])

train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
param_scheduler = None
optim_wrapper = dict(
    generators=dict(optimizer=dict(type='Adam', lr=0.0005, betas=(0.5, 0.999))),
    discriminators=dict(optimizer=dict(type='Adam', lr=0.0005, betas=(0.5, 0.999))))
custom_hooks = [
    dict(type='VisualizationHook', interval=max_iters, fixed_input=True,
         vis_kwargs_list=[dict(type='Translation', name='trans')])
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=2, save_best=None))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, deterministic=False)

# How a student distils from this teacher (the methods' configs use it):
teacher_student = dict(
    type='TeacherStudentGAN',
    student_type='CycleGAN',
    teacher=dict(generator=dict(base_channels=16),
                 ckpt='work_dirs/cyclegan_synthetic_teacher/iter_300.pth'))
