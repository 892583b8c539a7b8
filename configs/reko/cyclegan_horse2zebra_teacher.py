# Teacher: MMagic's CycleGAN (ResnetGenerator ngf 64, 9 blocks, IN): 11.378 M params/generator.
_base_ = 'mmagic::cyclegan/cyclegan_lsgan-resnet-in_1xb1-270kiters_horse2zebra.py'
custom_imports = dict(imports=['reko_mm'], allow_failed_imports=False)
# MMagic's MMSeparateDistributedDataParallel never averages these models' gradients (they
# call their generators around the DDP wrappers); this wrapper does. See docs/distributed.md.
model_wrapper_cfg = dict(type='SeparateGradSyncDataParallel')
