# Quick-start ReKo student (ngf 6) distilled from the synthetic teacher (ngf 16).
# Feature maps are 16x16 here (64x64 input), so K=64 keeps a quarter of the positions.
_base_ = ['./cyclegan_synthetic_7x_nokd.py', '../_base_/methods/reko.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.reko_resnet_losses))
