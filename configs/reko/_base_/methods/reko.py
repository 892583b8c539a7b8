# ReKo (Zhang et al., ECCV 2022): region-aware contrastive distillation at its feature points,
# the mean over the points (the release divides by the number of layers).
# ReKo's feature points (paper sec. 4.1; the authors' release lists the residual-block outputs but
# not which subset it used by default):
# - MMagic's ResnetGenerator: outputs of residual blocks 3, 6 and 9 (model.5, model.8, model.11;
#   model index 0 is the 7x7 conv, 1-2 down-sample, 3-11 the 9 residual blocks);
# - MMagic's UnetGenerator: the down-sampling conv of the second skip block (2*ngf channels at
#   1/4 resolution: 128 x 64 x 64 for the ngf-64 teacher at 256 x 256; MMagic's UNet applies
#   LeakyReLU in place on it later in the forward, and the recorders clone it);
# - Pix2PixHDGenerator (pix2pixHD's global generator): outputs of residual blocks 3, 6 and 9
#   (index 0 the 7x7 conv, 1-3 the down-samplings, 4-12 the 9 blocks), 8*ngf channels at 1/8
#   resolution (32x32 for 256x256 images, so K = 64 keeps 6 % of them).
reko_resnet_points = ['model.5', 'model.8', 'model.11']
reko_unet_points = ['model.model.1.model.0']
reko_hd_points = ['model.6', 'model.9', 'model.12']
reko_loss = dict(
    type='RegionAwareDistillLoss',
    num_regions=64,            # K, regions per image (the authors' release: 64)
    temperature=0.07,          # tau (release: 0.07)
    loss_weight=1.0,           # alpha of eq. 5 (Fig. 7: results are insensitive to it)
    region_selector='teacher_attention',
    contrastive=True,
    projector='mlp')           # random, frozen Linear-ReLU-Linear on the teacher side
reko_resnet_losses = dict(reko=dict(inputs=dict(layers=reko_resnet_points),
                                    loss=reko_loss))
reko_unet_losses = dict(reko=dict(inputs=dict(layers=reko_unet_points), loss=reko_loss))
reko_hd_losses = dict(reko=dict(inputs=dict(layers=reko_hd_points), loss=reko_loss))
