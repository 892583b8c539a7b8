# Teacher: MMagic's Pix2Pix on facades (UnetGenerator ngf 64, BN): 54.414 M params.
_base_ = 'mmagic::pix2pix/pix2pix_vanilla-unet-bn_1xb1-80kiters_facades.py'
custom_imports = dict(imports=['reko_mm'], allow_failed_imports=False)
