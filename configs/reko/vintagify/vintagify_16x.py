# ReKo on the 16x teacher-target student (vintagify_16x_nokd.py).
_base_ = ['./vintagify_16x_nokd.py', '../_base_/methods/reko.py']
model = dict(distill=dict(losses=_base_.reko_resnet_losses))
