# CAT's kernel-alignment distillation (Jin et al., CVPR 2021) on the 7x CycleGAN student on
# horse2zebra (the paper's Table 1 setting).
# Teacher, data and schedule as in the no-KD student.
_base_ = ['./cyclegan_horse2zebra_7x_nokd.py', './_base_/methods/cat.py']
model = dict(_base_.teacher_student, distill=dict(losses=_base_.cat_resnet_losses))
# Kernel alignment compares the images of a batch (identically 1 at batch size 1):
# 4 images per process here, unlike MMagic's 1xb1 recipe of the other arms.
train_dataloader = dict(batch_size=4)
