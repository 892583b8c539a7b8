# OMGD (Ren et al., ICCV 2021), its student losses with one frozen teacher: SSIM, VGG16 Gram
# "style" (4 layers) and relu2_2 "feature" L1 on the generated images, total variation, and
# channel distillation at the four points through Conv-BN-ReLU adapters. Weights from OMGD's
# AGD_weights 1e1, 1e4, 1e1, 1e-5; lambda_CD 5e2 (CycleGAN horse2zebra), 1e1 (UNet edges2shoes).
# The two VGG terms need ImageNet VGG16 weights from a local file: with weights=None they are
# switched off with a warning and the run is labelled so (its checkpoints say 'off: ...').
#   --cfg-options model.distill.feature_nets.vgg.weights=/path/to/vgg16-397923af.pth
_base_ = ['./kd_points.py']
omgd_feature_nets = dict(vgg=dict(type='FrozenVGG16', weights=None,
                                  layers=['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3']))
_omgd_image_terms = dict(
    omgd_ssim=dict(inputs='images', loss=dict(type='SSIMLoss', loss_weight=10.0)),
    omgd_style=dict(inputs=dict(feature_net='vgg',
                                layers=['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3']),
                    reduce='sum', loss=dict(type='GramLoss', criterion='l1', loss_weight=1e4)),
    omgd_feature=dict(inputs=dict(feature_net='vgg', layers=['relu2_2']),
                      loss=dict(type='ContentLoss', criterion='l1', loss_weight=10.0)),
    omgd_tv=dict(inputs='student_image', loss=dict(type='TotalVariationLoss', loss_weight=1e-5)))
omgd_resnet_losses = dict(
    _omgd_image_terms,
    omgd_cd=dict(inputs=dict(layers=_base_.kd_resnet_points), reduce='sum',
                 connector=dict(type='ConvBNReLUConnector'),
                 loss=dict(type='ChannelDistillLoss', loss_weight=500.0)))
omgd_unet_losses = dict(
    _omgd_image_terms,
    omgd_cd=dict(inputs=dict(layers=_base_.kd_unet_points), reduce='sum',
                 connector=dict(type='ConvBNReLUConnector'),
                 loss=dict(type='ChannelDistillLoss', loss_weight=10.0)))
# Pix2PixHD's generator is a ResNet: OMGD's lambda_CD for its ResNet Pix2Pix on edges2shoes, 1e2
omgd_hd_losses = dict(
    _omgd_image_terms,
    omgd_cd=dict(inputs=dict(layers=_base_.kd_hd_points), reduce='sum',
                 connector=dict(type='ConvBNReLUConnector'),
                 loss=dict(type='ChannelDistillLoss', loss_weight=100.0)))
# Its learnable parts (connectors, loss parameters) train with the student.
omgd_optim_wrapper = _base_.distill_parts_trained
