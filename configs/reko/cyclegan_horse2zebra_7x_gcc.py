# GCC's texture and content distillation (Li et al., NeurIPS 2021) on the 7x CycleGAN student on
# horse2zebra (the paper's Table 1 setting).
# Teacher, data and schedule as in cyclegan_horse2zebra_7x.py (ReKo), whose distillation it
# replaces.
_base_ = ['./cyclegan_horse2zebra_7x.py', './_base_/methods/gcc.py']
model = dict(distill=dict(_delete_=True,
                          losses=_base_.gcc_resnet_losses,
                          feature_nets=_base_.gcc_feature_nets))
# The adapters (and loss parameters) train with the student.
optim_wrapper = _base_.distill_parts_trained
