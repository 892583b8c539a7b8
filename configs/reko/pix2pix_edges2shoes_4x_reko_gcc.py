# ReKo + GCC's losses (the paper's 'Ours + Li et al.', Table 2) on the 4x Pix2Pix student on
# edges2shoes (the paper's Table 2 setting).
# ReKo as in the ReKo config, with these terms added (each logged as loss_<term>_<domain>).
_base_ = ['./pix2pix_edges2shoes_4x_nokd.py', './_base_/methods/reko.py',
          './_base_/methods/gcc.py']
model = dict(
    _base_.teacher_student,
    distill=dict(losses=dict(reko=_base_.reko_unet_losses.reko, **_base_.gcc_unet_losses),
                 feature_nets=_base_.gcc_feature_nets))
optim_wrapper = _base_.gcc_optim_wrapper  # its learnable parts train with the student
