# ReKo + OMGD's losses (the paper's 'Ours + Ren et al.', Table 2) on the 28x Pix2PixHD student on
# edges2shoes (the paper's Table 2 setting).
# ReKo as in pix2pixhd_edges2shoes_28x.py, with these terms added (each logged as
# loss_<term>_<domain>).
_base_ = ['./pix2pixhd_edges2shoes_28x.py', './_base_/methods/omgd.py']
model = dict(distill=dict(losses=_base_.omgd_hd_losses, feature_nets=_base_.omgd_feature_nets))
# The adapters (and loss parameters) train with the student.
optim_wrapper = _base_.distill_parts_trained
