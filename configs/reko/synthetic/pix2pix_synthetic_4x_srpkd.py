# SRPKD (Li, Jiang & Aarabi, 2020), re-implemented from its description on the quick-start Pix2Pix
# student on the synthetic set.
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./pix2pix_synthetic_4x_nokd.py', '../_base_/methods/srpkd.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.srpkd_unet_losses))
