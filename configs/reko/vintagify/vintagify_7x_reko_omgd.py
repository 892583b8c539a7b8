# ReKo + OMGD's losses (the paper's 'Ours + Ren et al.') on the teacher-target baseline.
_base_ = ['./vintagify_7x.py', '../_base_/methods/omgd.py']
model = dict(distill=dict(losses=_base_.omgd_resnet_losses,
                          feature_nets=_base_.omgd_feature_nets))
# The adapters train with the student.
optim_wrapper = _base_.distill_parts_trained
