# OMGD's student losses (Ren et al., ICCV 2021), frozen teacher on the quick-start CycleGAN student
# on the synthetic set.
# Teacher, data and schedule as in cyclegan_synthetic_7x.py (ReKo), whose distillation it replaces.
_base_ = ['./cyclegan_synthetic_7x.py', '../_base_/methods/omgd.py']
model = dict(distill=dict(_delete_=True,
                          losses=_base_.omgd_resnet_losses,
                          feature_nets=_base_.omgd_feature_nets))
# The adapters (and loss parameters) train with the student.
optim_wrapper = _base_.distill_parts_trained
