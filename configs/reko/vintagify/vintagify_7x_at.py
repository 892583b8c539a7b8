# Attention transfer (Zagoruyko & Komodakis, ICLR 2017) on the teacher-target baseline.
_base_ = ['./vintagify_7x_nokd.py', '../_base_/methods/at.py']
model = dict(distill=dict(losses=_base_.at_resnet_losses))
