# ReKo defaults for Pix2PixHDGenerator students (pix2pixHD's global generator).
# Feature points: outputs of residual blocks 3, 6 and 9 (`model.6`, `model.9`, `model.12`; in
# Pix2PixHDGenerator.model index 0 is the 7x7 conv, 1-3 the down-samplings, 4-12 the 9
# residual blocks), as for MMagic's ResNet generator: the encoded features the paper distils,
# 8*ngf channels at 1/8 resolution (32x32 for 256x256 images, so K = 64 keeps 6 % of them).
reko_distill = dict(
    layers=[
        dict(student='model.6', teacher='model.6'),
        dict(student='model.9', teacher='model.9'),
        dict(student='model.12', teacher='model.12'),
    ],
    loss=dict(
        type='RegionAwareDistillLoss',
        num_regions=64,
        temperature=0.07,
        loss_weight=1.0,
        region_selector='teacher_attention',
        contrastive=True,
        projector='mlp'))
