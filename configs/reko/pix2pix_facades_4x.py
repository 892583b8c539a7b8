# ReKo student (UNet ngf 32) distilled from the ngf-64 teacher.
_base_ = ['./pix2pix_facades_4x_nokd.py', './_base_/methods/reko.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.reko_unet_losses))
