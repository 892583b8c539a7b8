# ReKo student on the 'bands' set, distilled from the ngf-32 teacher. The distilled UNet layer
# is 8x8 at 32x32, so K = 16 keeps a quarter of the positions.
_base_ = ['./pix2pix_bands_nokd.py', '../_base_/methods/reko.py']
model = dict(
    _base_.teacher_student,
    distill=dict(losses=dict(reko=dict(_base_.reko_unet_losses.reko,
                                       loss=dict(_base_.reko_loss, num_regions=16)))))
