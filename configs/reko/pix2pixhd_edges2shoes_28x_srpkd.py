# SRPKD (Li, Jiang & Aarabi, 2020), re-implemented from its description on the 28x Pix2PixHD
# student on edges2shoes (the paper's Table 2 setting).
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./pix2pixhd_edges2shoes_28x_nokd.py', './_base_/methods/srpkd.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.srpkd_hd_losses))
