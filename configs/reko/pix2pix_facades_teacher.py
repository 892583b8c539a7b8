# Teacher: MMagic's Pix2Pix on facades (UnetGenerator ngf 64, BN): 54.414 M params.
_base_ = 'mmagic::pix2pix/pix2pix_vanilla-unet-bn_1xb1-80kiters_facades.py'
custom_imports = dict(imports=['reko_mm'], allow_failed_imports=False)
# MMagic's MMSeparateDistributedDataParallel never averages these models' gradients (they
# call their generators around the DDP wrappers); this wrapper does. See docs/distributed.md.
model_wrapper_cfg = dict(type='SeparateGradSyncDataParallel')
