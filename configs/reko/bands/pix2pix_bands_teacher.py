# Pix2Pix teacher on the synthetic 'bands' set (32x32, paired): left half A = the outlined
# objects (the target), right half B = the flat objects (the source), as pix2pix's facades.
# Scored against the true answer (GroundTruthError) on the test set; a separate generated
# validation set drives early stopping and picks the best checkpoint.
# Data (tools/benchmarks/kd_benchmark.py writes the same sets):
#   python tools/dataset_converters/make_synthetic.py data/synthetic/bands_paired \
#       --layout paired --kind bands --size 32 --num-train 200 --num-test 32 --seed 0
#   python tools/dataset_converters/make_synthetic.py data/synthetic/bands_paired_val \
#       --layout paired --kind bands --size 32 --num-train 1 --num-test 32 --seed 1
_base_ = '../synthetic/pix2pix_synthetic_teacher.py'
dataroot = 'data/synthetic/bands_paired'
val_dataroot = 'data/synthetic/bands_paired_val'
max_iters = 4000
eval_interval = 250
domain_a = 'photo'
domain_b = 'mask'

model = dict(generator=dict(base_channels=32, num_down=5))  # 32 -> 1

key_mapping = dict(
    type='KeyMapper',
    mapping={f'img_{domain_a}': 'img_A', f'img_{domain_b}': 'img_B'},
    remapping={f'img_{domain_a}': f'img_{domain_a}', f'img_{domain_b}': f'img_{domain_b}'})
load = dict(type='LoadPairedImageFromFile', key='pair', domain_a='A', domain_b='B',
            color_type='color')
train_pipeline = [
    load, dict(type='Flip', keys=['img_A', 'img_B'], direction='horizontal'), key_mapping,
    dict(type='PackInputs', keys=[f'img_{domain_a}', f'img_{domain_b}'],
         data_keys=[f'img_{domain_a}', f'img_{domain_b}'])]
# (the domain named 'mask' is the flat label image; the objects' mask is 'scene_mask')
test_pipeline = [
    load, dict(type='LoadSceneMask', path_key='pair_path', key='scene_mask'), key_mapping,
    dict(type='PackInputs', keys=[f'img_{domain_a}', f'img_{domain_b}'],
         data_keys=[f'img_{domain_a}', f'img_{domain_b}', 'scene_mask'])]
train_dataloader = dict(batch_size=4, dataset=dict(data_root=dataroot, pipeline=train_pipeline))


def _loader(root):
    return dict(batch_size=8, num_workers=0, persistent_workers=False,
                sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(type='PairedImageDataset', data_root=root, test_mode=True,
                             pipeline=test_pipeline))


val_dataloader = dict(_delete_=True, **_loader(val_dataroot))
test_dataloader = dict(_delete_=True, **_loader(dataroot))
metrics = [dict(type='GroundTruthError', fake_key=f'fake_{domain_a}', gt_key=f'img_{domain_a}',
                mask_key='scene_mask', prefix='GT')]
val_evaluator = dict(_delete_=True, type='Evaluator', metrics=metrics)
test_evaluator = dict(_delete_=True, type='Evaluator', metrics=metrics)
val_cfg = dict(_delete_=True, type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')

train_cfg = dict(max_iters=max_iters, val_interval=eval_interval)
custom_hooks = [dict(type='EarlyStoppingHook', monitor='GT/psnr_obj', rule='greater',
                     min_delta=0.1, patience=4)]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=eval_interval, max_keep_ckpts=1, save_best='GT/psnr_obj',
                    rule='greater'))

# How a student distils from this teacher (the methods' configs use it):
teacher_student = dict(
    type='TeacherStudentGAN',
    student_type='Pix2Pix',
    teacher=dict(generator=dict(base_channels=32),
                 ckpt='work_dirs/pix2pix_bands_teacher/best.pth'))
