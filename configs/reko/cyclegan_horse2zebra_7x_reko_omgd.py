# ReKo + OMGD's losses (the paper's 'Ours + Ren et al.', Table 2) on the 7x CycleGAN student on
# horse2zebra (the paper's Table 1 setting).
# ReKo as in the ReKo config, with these terms added (each logged as loss_<term>_<domain>).
_base_ = ['./cyclegan_horse2zebra_7x_nokd.py', './_base_/methods/reko.py',
          './_base_/methods/omgd.py']
model = dict(
    _base_.teacher_student,
    distill=dict(losses=dict(reko=_base_.reko_resnet_losses.reko, **_base_.omgd_resnet_losses),
                 feature_nets=_base_.omgd_feature_nets))
optim_wrapper = _base_.omgd_optim_wrapper  # its learnable parts train with the student
