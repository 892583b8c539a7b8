# Teacher: pix2pixHD (Wang et al., CVPR 2018) on facades at 256x256: its global generator (ngf 64,
# 45.59 M parameters) and 3-scale discriminator, LSGAN + feature matching (weight 10), in MMagic
# form: the data, schedule, evaluation and checkpoints of MMagic's Pix2Pix facades config. The VGG
# loss is off (it needs local VGG19 weights: model.loss_config.vgg_loss_weight=10 and
# model.loss_config.vgg_weights=/path/vgg19.pth switch it on).
_base_ = './pix2pix_facades_teacher.py'
model = dict(
    type='Pix2PixHD',
    generator=dict(_delete_=True, type='Pix2PixHDGenerator', in_channels=3, out_channels=3,
                   base_channels=64, num_down=3, num_blocks=9, norm_cfg=dict(type='IN'),
                   init_cfg=dict(type='normal', gain=0.02)),
    discriminator=dict(_delete_=True, type='MultiScaleDiscriminator', in_channels=6,
                       base_channels=64, num_scales=3, num_layers=3, norm_cfg=dict(type='IN'),
                       init_cfg=dict(type='normal', gain=0.02)),
    loss_config=dict(_delete_=True, gan_loss_weight=1.0, feat_match_weight=10.0,
                     vgg_loss_weight=0.0))
