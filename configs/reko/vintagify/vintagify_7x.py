# ReKo on the teacher-target baseline (vintagify_7x_nokd.py): the teacher's translation is the
# target, and ReKo distils its residual-block features (K = 64 regions per image).
_base_ = ['./vintagify_7x_nokd.py', '../_base_/methods/reko.py']
model = dict(distill=dict(losses=_base_.reko_resnet_losses))
