# Hinton et al. (2015), adapted as in the ReKo paper (sec. 4.1): L1 between the student's and the
# teacher's images. The paper gives no weight; 10 is GAN Compression's lambda_recon for the same
# term on CycleGAN (see docs/methods.md).
hinton_losses = dict(
    hinton=dict(inputs='images', loss=dict(type='OutputL1Loss', loss_weight=10.0)))
# the same term for every generator
hinton_resnet_losses = hinton_unet_losses = hinton_hd_losses = hinton_losses
