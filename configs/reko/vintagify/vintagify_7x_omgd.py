# OMGD's student losses (Ren et al., ICCV 2021) on the teacher-target baseline
# (vintagify_7x_nokd.py). Its two VGG terms need ImageNet VGG16 weights from a local file
# (--cfg-options model.distill.feature_nets.vgg.weights=/path/to/vgg16-397923af.pth); without
# them they are switched off with a warning and the run is labelled so.
_base_ = ['./vintagify_7x_nokd.py', '../_base_/methods/omgd.py']
model = dict(distill=dict(losses=_base_.omgd_resnet_losses,
                          feature_nets=_base_.omgd_feature_nets))
optim_wrapper = _base_.omgd_optim_wrapper  # its learnable parts train with the student
