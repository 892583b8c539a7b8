# Hinton et al. (2015), adapted: L1 between student and teacher images on the quick-start CycleGAN
# student on the synthetic set.
# Teacher, data and schedule as in cyclegan_synthetic_7x.py (ReKo), whose distillation it replaces.
_base_ = ['./cyclegan_synthetic_7x.py', '../_base_/methods/hinton.py']
model = dict(distill=dict(_delete_=True, losses=_base_.hinton_losses))
