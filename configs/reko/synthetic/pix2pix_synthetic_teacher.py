# Quick-start Pix2Pix teacher on the generated paired synthetic set (64x64; left half A =
# striped "photo", right half B = flat "label"; translation B -> A, as MMagic's facades config).
# UNet with 6 down-samplings (64 -> 1), ngf 32, so it trains in minutes on a CPU.
# Create the data with:
#   python tools/dataset_converters/make_synthetic.py data/synthetic/paired --layout paired
_base_ = '../pix2pix_facades_teacher.py'
dataroot = 'data/synthetic/paired'
max_iters = 300
domain_a = 'photo'
domain_b = 'mask'

model = dict(
    generator=dict(base_channels=32, num_down=6),
    discriminator=dict(base_channels=32))

key_mapping = dict(
    type='KeyMapper',
    mapping={f'img_{domain_a}': 'img_A', f'img_{domain_b}': 'img_B'},
    remapping={f'img_{domain_a}': f'img_{domain_a}', f'img_{domain_b}': f'img_{domain_b}'})
pack_input = dict(
    type='PackInputs',
    keys=[f'img_{domain_a}', f'img_{domain_b}'],
    data_keys=[f'img_{domain_a}', f'img_{domain_b}'])
load = dict(type='LoadPairedImageFromFile', key='pair', domain_a='A', domain_b='B',
            color_type='color')
train_pipeline = [load, dict(type='Flip', keys=['img_A', 'img_B'], direction='horizontal'),
                  key_mapping, pack_input]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=dataroot, pipeline=train_pipeline))
# No in-training validation, to keep it short. The test set is scored with the offline
# FID/KID (tools/test.py) over all its images.
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=dataroot, test_mode=True, pipeline=[load, key_mapping, pack_input]))
test_cfg = dict(type='MultiTestLoop')
test_evaluator = dict(metrics=[
    dict(type=metric, prefix=name, fake_nums=-1, real_nums=-1,
         fake_key=f'fake_{domain_a}', real_key=f'img_{domain_a}')
    for metric, name in [('OfflineTransFID', 'FID-Full'), ('OfflineTransKID', 'KID-Full')]
])

train_cfg = dict(max_iters=max_iters, val_interval=max_iters + 1)
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
    student_type='Pix2Pix',
    teacher=dict(generator=dict(base_channels=32),
                 ckpt='work_dirs/pix2pix_synthetic_teacher/iter_300.pth'))
