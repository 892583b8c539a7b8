# Quick-start Pix2PixHD teacher on the generated paired synthetic set (64x64): the global
# generator at ngf 32 (11.40 M parameters) and a 3-scale discriminator at ndf 16, so it trains
# in minutes on a CPU. Data, schedule and test set as pix2pix_synthetic_teacher.py.
_base_ = './pix2pix_synthetic_teacher.py'
model = dict(
    type='Pix2PixHD',
    generator=dict(_delete_=True, type='Pix2PixHDGenerator', in_channels=3, out_channels=3,
                   base_channels=32, num_down=3, num_blocks=9, norm_cfg=dict(type='IN'),
                   init_cfg=dict(type='normal', gain=0.02)),
    discriminator=dict(_delete_=True, type='MultiScaleDiscriminator', in_channels=6,
                       base_channels=16, num_scales=3, num_layers=3, norm_cfg=dict(type='IN'),
                       init_cfg=dict(type='normal', gain=0.02)),
    loss_config=dict(_delete_=True, gan_loss_weight=1.0, feat_match_weight=10.0,
                     vgg_loss_weight=0.0))
