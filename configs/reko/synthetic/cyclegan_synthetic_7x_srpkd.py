# SRPKD (Li, Jiang & Aarabi, 2020), re-implemented from its description on the quick-start CycleGAN
# student on the synthetic set.
# Teacher, data and schedule as in cyclegan_synthetic_7x.py (ReKo), whose distillation it replaces.
_base_ = ['./cyclegan_synthetic_7x.py', '../_base_/methods/srpkd.py']
model = dict(distill=dict(_delete_=True, losses=_base_.srpkd_resnet_losses))
