# ReKo Pix2PixHD student on the 'bands' set, distilled from the ngf-32 teacher. The residual
# blocks work on 4x4 maps at 32x32, so K = 4 keeps a quarter of the positions.
_base_ = ['./pix2pixhd_bands_nokd.py', '../_base_/methods/reko.py']
model = dict(
    _base_.teacher_student,
    distill=dict(losses=dict(reko=dict(_base_.reko_hd_losses.reko,
                                       loss=dict(_base_.reko_loss, num_regions=4)))))
