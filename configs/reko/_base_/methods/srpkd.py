# SRPKD (Li, Jiang & Aarabi, ECCV 2020 workshops), re-implemented from the paper's description
# (no code was released): row-normalised position-relation matrices of the encoder output, plus
# an output-level KD term (the Hinton L1). The paper's weights could not be read: 100 for the
# relation term is reko-mm's choice (it brings the term to the scale of the others on the
# synthetic set, see docs/methods.md), 10 for the output term as for Hinton.
_base_ = ['./kd_points.py']
srpkd_resnet_losses = dict(
    srpkd=dict(inputs=dict(layers=_base_.kd_resnet_encoder),
               loss=dict(type='SemanticRelationLoss', loss_weight=100.0)),
    srpkd_kd=dict(inputs='images', loss=dict(type='OutputL1Loss', loss_weight=10.0)))
srpkd_unet_losses = dict(
    srpkd=dict(inputs=dict(layers=_base_.kd_unet_encoder),
               loss=dict(type='SemanticRelationLoss', loss_weight=100.0)),
    srpkd_kd=dict(inputs='images', loss=dict(type='OutputL1Loss', loss_weight=10.0)))
srpkd_hd_losses = dict(
    srpkd=dict(inputs=dict(layers=_base_.kd_hd_encoder),
               loss=dict(type='SemanticRelationLoss', loss_weight=100.0)),
    srpkd_kd=dict(inputs='images', loss=dict(type='OutputL1Loss', loss_weight=10.0)))
