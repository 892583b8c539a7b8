# ReKo student (ngf 24) on apple2orange, distilled from the ngf-64 teacher.
_base_ = ['./cyclegan_apple2orange_7x_nokd.py', './_base_/methods/reko.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.reko_resnet_losses))
