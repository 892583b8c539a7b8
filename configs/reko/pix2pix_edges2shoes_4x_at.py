# Attention transfer (Zagoruyko & Komodakis, ICLR 2017) on the 4x Pix2Pix student on edges2shoes
# (the paper's Table 2 setting).
# Teacher, data and schedule as in pix2pix_edges2shoes_4x.py (ReKo), whose distillation it
# replaces.
_base_ = ['./pix2pix_edges2shoes_4x.py', './_base_/methods/at.py']
model = dict(distill=dict(_delete_=True, losses=_base_.at_unet_losses))
