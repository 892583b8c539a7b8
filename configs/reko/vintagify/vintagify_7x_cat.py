# CAT's kernel-alignment distillation (Jin et al., CVPR 2021) on the teacher-target baseline.
_base_ = ['./vintagify_7x_nokd.py', '../_base_/methods/cat.py']
model = dict(distill=dict(losses=_base_.cat_resnet_losses))
# Kernel alignment compares the images of a batch (identically 1 at batch size 1).
train_dataloader = dict(batch_size=4)
