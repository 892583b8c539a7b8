# Attention transfer (Zagoruyko & Komodakis, ICLR 2017) at the four points, summed over layers;
# beta = 1e3 as in the authors' CIFAR runs.
_base_ = ['./kd_points.py']
at_resnet_losses = dict(at=dict(
    inputs=dict(layers=_base_.kd_resnet_points), reduce='sum',
    loss=dict(type='ATLoss', loss_weight=1000.0)))
at_unet_losses = dict(at=dict(
    inputs=dict(layers=_base_.kd_unet_points), reduce='sum',
    loss=dict(type='ATLoss', loss_weight=1000.0)))
at_hd_losses = dict(at=dict(
    inputs=dict(layers=_base_.kd_hd_points), reduce='sum',
    loss=dict(type='ATLoss', loss_weight=1000.0)))
