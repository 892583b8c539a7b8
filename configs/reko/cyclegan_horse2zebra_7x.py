# ReKo student: the 7x no-KD student distilled from the ngf-64 teacher.
# Train the teacher first (configs/reko/cyclegan_horse2zebra_teacher.py), then:
#   python tools/train.py configs/reko/cyclegan_horse2zebra_7x.py \
#       --cfg-options model.teacher.ckpt=work_dirs/cyclegan_horse2zebra_teacher/iter_270000.pth
_base_ = ['./cyclegan_horse2zebra_7x_nokd.py', './_base_/methods/reko.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.reko_resnet_losses))
