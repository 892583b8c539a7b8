# Hinton et al. (2015), adapted: L1 between student and teacher images on the quick-start Pix2Pix
# student on the synthetic set.
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./pix2pix_synthetic_4x_nokd.py', '../_base_/methods/hinton.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.hinton_losses))
