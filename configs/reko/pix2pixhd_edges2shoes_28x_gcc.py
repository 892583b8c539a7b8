# GCC's texture and content distillation (Li et al., NeurIPS 2021) on the 28x Pix2PixHD student on
# edges2shoes (the paper's Table 2 setting).
# Teacher, data and schedule as in pix2pixhd_edges2shoes_28x.py (ReKo), whose distillation it
# replaces.
_base_ = ['./pix2pixhd_edges2shoes_28x.py', './_base_/methods/gcc.py']
model = dict(distill=dict(_delete_=True,
                          losses=_base_.gcc_hd_losses,
                          feature_nets=_base_.gcc_hd_feature_nets))
# The adapters (and loss parameters) train with the student.
optim_wrapper = _base_.distill_parts_trained
