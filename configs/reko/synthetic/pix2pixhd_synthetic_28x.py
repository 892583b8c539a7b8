# Quick-start ReKo Pix2PixHD student (ngf 6) distilled from the synthetic teacher (ngf 32).
# The residual blocks work on 8x8 maps at 64x64, so K = 16 keeps a quarter of the positions.
_base_ = ['./pix2pixhd_synthetic_28x_nokd.py', '../_base_/methods/reko.py']
model = dict(
    _base_.teacher_student,
    distill=dict(losses=dict(reko=dict(_base_.reko_hd_losses.reko,
                                       loss=dict(_base_.reko_loss, num_regions=16)))))
