# ReKo + GCC's losses (the paper's 'Ours + Li et al.', Table 2) on the quick-start CycleGAN student
# on the synthetic set.
# ReKo as in cyclegan_synthetic_7x.py, with these terms added (each logged as
# loss_<term>_<domain>).
_base_ = ['./cyclegan_synthetic_7x.py', '../_base_/methods/gcc.py']
model = dict(distill=dict(losses=_base_.gcc_resnet_losses, feature_nets=_base_.gcc_feature_nets))
# The adapters (and loss parameters) train with the student.
optim_wrapper = _base_.distill_parts_trained
