# pix2pixHD (Wang et al., CVPR 2018) in MMagic form: its global generator (ngf 64: 45.59 M
# parameters), its 3-scale PatchGAN discriminator, LSGAN + feature matching (weight 10). The VGG
# loss is off (it needs local VGG19 weights: model.loss_config.vgg_loss_weight=10 and
# model.loss_config.vgg_weights=/path/vgg19.pth switch it on).
# A config turns a Pix2Pix config into Pix2PixHD by inheriting both and setting
#   model = dict(type='Pix2PixHD', generator=dict(_base_.hd_generator, _delete_=True),
#                discriminator=dict(_base_.hd_discriminator, _delete_=True),
#                loss_config=dict(_base_.hd_loss_config, _delete_=True))
# (widths are changed the same way: dict(_base_.hd_generator, _delete_=True, base_channels=32)).
hd_generator = dict(type='Pix2PixHDGenerator', in_channels=3, out_channels=3, base_channels=64,
                    num_down=3, num_blocks=9, norm_cfg=dict(type='IN'),
                    init_cfg=dict(type='normal', gain=0.02))
hd_discriminator = dict(type='MultiScaleDiscriminator', in_channels=6, base_channels=64,
                        num_scales=3, num_layers=3, norm_cfg=dict(type='IN'),
                        init_cfg=dict(type='normal', gain=0.02))
hd_loss_config = dict(gan_loss_weight=1.0, feat_match_weight=10.0, vgg_loss_weight=0.0)
