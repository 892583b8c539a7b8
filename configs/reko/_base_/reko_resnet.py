# ReKo defaults for ResnetGenerator students (MMagic's CycleGAN generator).
# Feature points: outputs of residual blocks 3, 6 and 9 (`model.5`, `model.8`, `model.11`; in
# ResnetGenerator.model index 0 is the 7x7 conv, 1-2 down-sample, 3-11 the 9 residual blocks).
# The authors' release lists the residual-block outputs but not which subset it used by default.
reko_distill = dict(
    layers=[
        dict(student='model.5', teacher='model.5'),
        dict(student='model.8', teacher='model.8'),
        dict(student='model.11', teacher='model.11'),
    ],
    loss=dict(
        type='RegionAwareDistillLoss',
        num_regions=64,            # K, regions per image (paper and release: 64)
        temperature=0.07,          # tau (release: 0.07)
        loss_weight=1.0,           # alpha of eq. 5 (Fig. 7: results are insensitive to it)
        region_selector='teacher_attention',
        contrastive=True,
        projector='mlp'))          # random, frozen Linear-ReLU-Linear on the teacher side
