# ReKo + OMGD's losses (the paper's 'Ours + Ren et al.') on the teacher-target baseline.
_base_ = ['./vintagify_7x_nokd.py', '../_base_/methods/reko.py', '../_base_/methods/omgd.py']
model = dict(distill=dict(losses=dict(reko=_base_.reko_resnet_losses.reko,
                                       **_base_.omgd_resnet_losses),
                          feature_nets=_base_.omgd_feature_nets))
optim_wrapper = _base_.omgd_optim_wrapper  # its learnable parts train with the student
