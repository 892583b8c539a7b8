# ReKo on the 16x teacher-target student (vintagify_16x_nokd.py).
_base_ = ['./vintagify_16x_nokd.py', '../_base_/reko_resnet.py']
model = dict(distill=_base_.reko_distill)
