# SRPKD (Li, Jiang & Aarabi, 2020), re-implemented from its description on the quick-start Pix2Pix
# student on the synthetic set.
# Teacher, data and schedule as in pix2pix_synthetic_4x.py (ReKo), whose distillation it replaces.
_base_ = ['./pix2pix_synthetic_4x.py', '../_base_/methods/srpkd.py']
model = dict(distill=dict(_delete_=True, losses=_base_.srpkd_unet_losses))
