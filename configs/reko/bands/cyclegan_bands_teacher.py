# CycleGAN teacher on the synthetic 'bands' set (32x32): objects flat in domain A, outlined by a
# dark band in domain B, over the same background. Both directions have a true answer, so the
# test set is scored against it (GroundTruthError: PSNR / L1 over the whole image, the objects
# and the background; docs/results.md). A separate generated validation set drives early
# stopping and picks the best checkpoint, so the test images are never used to choose.
# Data (tools/benchmarks/kd_benchmark.py writes the same sets):
#   python tools/dataset_converters/make_synthetic.py data/synthetic/bands_unpaired \
#       --kind bands --size 32 --num-train 200 --num-test 32 --seed 0
#   python tools/dataset_converters/make_synthetic.py data/synthetic/bands_unpaired_val \
#       --kind bands --size 32 --num-train 1 --num-test 32 --seed 1
_base_ = '../synthetic/cyclegan_synthetic_teacher.py'
domain_a = 'flat'
domain_b = 'banded'
dataroot = 'data/synthetic/bands_unpaired'
val_dataroot = 'data/synthetic/bands_unpaired_val'
max_iters = 4000
eval_interval = 250

model = dict(
    generator=dict(base_channels=16),
    discriminator=dict(base_channels=16),
    default_domain=domain_b,
    reachable_domains=[domain_a, domain_b],
    related_domains=[domain_a, domain_b],
    data_preprocessor=dict(data_keys=[f'img_{domain_a}', f'img_{domain_b}']),
    # The original CycleGAN's identity weight: lambda_identity 0.5 *relative* to the cycle
    # weight 10. MMagic's id_loss_weight is absolute, and 0.5 let the background drift here.
    loss_config=dict(cycle_loss_weight=10.0, id_loss_weight=5.0))

key_mapping = dict(
    type='KeyMapper',
    mapping={f'img_{domain_a}': 'img_A', f'img_{domain_b}': 'img_B'},
    remapping={f'img_{domain_a}': f'img_{domain_a}', f'img_{domain_b}': f'img_{domain_b}'})
train_pipeline = [
    dict(type='LoadImageFromFile', key='img_A', color_type='color'),
    dict(type='LoadImageFromFile', key='img_B', color_type='color'),
    dict(type='Flip', keys=['img_A'], direction='horizontal'),
    dict(type='Flip', keys=['img_B'], direction='horizontal'),
    key_mapping,
    dict(type='PackInputs', keys=[f'img_{domain_a}', f'img_{domain_b}'],
         data_keys=[f'img_{domain_a}', f'img_{domain_b}'])]
# A test scene is the same in testA and testB at the same index: one mask for both directions.
test_pipeline = [
    dict(type='LoadImageFromFile', key='img_A', color_type='color'),
    dict(type='LoadImageFromFile', key='img_B', color_type='color'),
    dict(type='LoadSceneMask', path_key='img_A_path', key='mask'),
    key_mapping,
    dict(type='PackInputs', keys=[f'img_{domain_a}', f'img_{domain_b}'],
         data_keys=[f'img_{domain_a}', f'img_{domain_b}', 'mask'])]
train_dataloader = dict(
    batch_size=4, dataset=dict(data_root=dataroot, pipeline=train_pipeline))


def _loader(root):
    return dict(batch_size=8, num_workers=0, persistent_workers=False,
                sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(type='UnpairedImageDataset', data_root=root, domain_a='A',
                             domain_b='B', test_mode=True, pipeline=test_pipeline))


val_dataloader = dict(_delete_=True, **_loader(val_dataroot))
test_dataloader = dict(_delete_=True, **_loader(dataroot))
directions = [(domain_a, domain_b), (domain_b, domain_a)]
metrics = [
    dict(type='GroundTruthError', fake_key=[f'fake_{d}' for _, d in directions],
         gt_key=[f'img_{d}' for _, d in directions], prefix='GT'),  # mean of both directions
] + [dict(type='GroundTruthError', fake_key=f'fake_{dst}', gt_key=f'img_{dst}',
          prefix=f'GT-{src}-to-{dst}') for src, dst in directions]
val_evaluator = dict(_delete_=True, type='Evaluator', metrics=metrics)
test_evaluator = dict(_delete_=True, type='Evaluator', metrics=metrics)
val_cfg = dict(_delete_=True, type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')

train_cfg = dict(max_iters=max_iters, val_interval=eval_interval)
optim_wrapper = dict(
    generators=dict(optimizer=dict(type='Adam', lr=0.0002, betas=(0.5, 0.999))),
    discriminators=dict(optimizer=dict(type='Adam', lr=0.0002, betas=(0.5, 0.999))))
# Trained until the validation error on the objects stops improving; the best checkpoint on
# validation is the teacher.
custom_hooks = [dict(type='EarlyStoppingHook', monitor='GT/psnr_obj', rule='greater',
                     min_delta=0.1, patience=4)]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=eval_interval, max_keep_ckpts=1, save_best='GT/psnr_obj',
                    rule='greater'))

# How a student distils from this teacher (the methods' configs use it):
teacher_student = dict(
    type='TeacherStudentGAN',
    student_type='CycleGAN',
    teacher=dict(generator=dict(base_channels=16),
                 ckpt='work_dirs/cyclegan_bands_teacher/best.pth'))
