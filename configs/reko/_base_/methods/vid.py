# VID (Ahn et al., CVPR 2019): per layer a learnable regressor (1x1 conv, ReLU, 1x1, ReLU, 1x1)
# and a learned per-channel variance; Gaussian NLL, summed over the four points; beta = 1.
_base_ = ['./kd_points.py']
vid_resnet_losses = dict(vid=dict(
    inputs=dict(layers=_base_.kd_resnet_points), reduce='sum',
    connector=dict(type='VIDRegressor'),
    loss=dict(type='VIDLoss', init_pred_var=5.0, loss_weight=1.0)))
vid_unet_losses = dict(vid=dict(
    inputs=dict(layers=_base_.kd_unet_points), reduce='sum',
    connector=dict(type='VIDRegressor'),
    loss=dict(type='VIDLoss', init_pred_var=5.0, loss_weight=1.0)))
vid_hd_losses = dict(vid=dict(
    inputs=dict(layers=_base_.kd_hd_points), reduce='sum',
    connector=dict(type='VIDRegressor'),
    loss=dict(type='VIDLoss', init_pred_var=5.0, loss_weight=1.0)))
# Its learnable parts (connectors, loss parameters) train with the student.
vid_optim_wrapper = _base_.distill_parts_trained
