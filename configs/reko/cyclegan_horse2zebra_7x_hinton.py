# Hinton et al. (2015), adapted: L1 between student and teacher images on the 7x CycleGAN student
# on horse2zebra (the paper's Table 1 setting).
# Teacher, data and schedule as in cyclegan_horse2zebra_7x.py (ReKo), whose distillation it
# replaces.
_base_ = ['./cyclegan_horse2zebra_7x.py', './_base_/methods/hinton.py']
model = dict(distill=dict(_delete_=True, losses=_base_.hinton_losses))
