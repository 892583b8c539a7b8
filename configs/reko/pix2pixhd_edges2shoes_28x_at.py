# Attention transfer (Zagoruyko & Komodakis, ICLR 2017) on the 28x Pix2PixHD student on edges2shoes
# (the paper's Table 2 setting).
# Teacher, data and schedule as in pix2pixhd_edges2shoes_28x.py (ReKo), whose distillation it
# replaces.
_base_ = ['./pix2pixhd_edges2shoes_28x.py', './_base_/methods/at.py']
model = dict(distill=dict(_delete_=True, losses=_base_.at_hd_losses))
