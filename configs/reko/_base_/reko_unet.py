# ReKo defaults for UnetGenerator students (MMagic's Pix2Pix generator).
# Feature point: the down-sampling conv of the second skip block, `model.model.1.model.0`
# (2*ngf channels at 1/4 resolution: 128 x 64 x 64 for the ngf-64 teacher at 256 x 256).
# MMagic's UNet applies LeakyReLU in place on it later in the forward; recorders clone it.
reko_distill = dict(
    layers=[dict(student='model.model.1.model.0', teacher='model.model.1.model.0')],
    loss=dict(
        type='RegionAwareDistillLoss',
        num_regions=64,
        temperature=0.07,
        loss_weight=1.0,
        region_selector='teacher_attention',
        contrastive=True,
        projector='mlp'))
