# Hinton et al. (2015), adapted: L1 between student and teacher images on the quick-start Pix2Pix
# student on the synthetic set.
# Teacher, data and schedule as in pix2pix_synthetic_4x.py (ReKo), whose distillation it replaces.
_base_ = ['./pix2pix_synthetic_4x.py', '../_base_/methods/hinton.py']
model = dict(distill=dict(_delete_=True, losses=_base_.hinton_losses))
