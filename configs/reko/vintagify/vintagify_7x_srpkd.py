# SRPKD (Li, Jiang & Aarabi, ECCV 2020 workshops) on the teacher-target baseline.
_base_ = ['./vintagify_7x_nokd.py', '../_base_/methods/srpkd.py']
model = dict(distill=dict(losses=_base_.srpkd_resnet_losses))
