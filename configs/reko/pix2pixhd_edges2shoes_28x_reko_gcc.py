# ReKo + GCC's losses (the paper's 'Ours + Li et al.', Table 2) on the 28x Pix2PixHD student on
# edges2shoes (the paper's Table 2 setting).
# ReKo as in pix2pixhd_edges2shoes_28x.py, with these terms added (each logged as
# loss_<term>_<domain>).
_base_ = ['./pix2pixhd_edges2shoes_28x.py', './_base_/methods/gcc.py']
model = dict(distill=dict(losses=_base_.gcc_hd_losses, feature_nets=_base_.gcc_hd_feature_nets))
# The adapters (and loss parameters) train with the student.
optim_wrapper = _base_.distill_parts_trained
