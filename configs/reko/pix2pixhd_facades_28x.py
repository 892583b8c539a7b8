# ReKo student (Pix2PixHD ngf 12) distilled from the ngf-64 teacher on facades.
_base_ = ['./pix2pixhd_facades_28x_nokd.py', './_base_/methods/reko.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.reko_hd_losses))
