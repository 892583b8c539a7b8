# Quick-start ReKo Pix2Pix student (UNet ngf 16) distilled from the synthetic teacher (ngf 32).
# The recorded feature is 16x16 here (64x64 input), so K=64 keeps a quarter of the positions.
_base_ = ['./pix2pix_synthetic_4x_nokd.py', '../_base_/methods/reko.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.reko_unet_losses))
