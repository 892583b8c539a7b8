# ReKo student on the 'bands' set: the no-KD student distilled from the ngf-16 teacher. The
# residual blocks work on 8x8 maps at 32x32, so K = 16 keeps a quarter of the positions (as
# K = 64 does on the 16x16 maps of the 64x64 quick start).
_base_ = ['./cyclegan_bands_nokd.py', '../_base_/methods/reko.py']
model = dict(
    _base_.teacher_student,
    distill=dict(losses=dict(reko=dict(_base_.reko_resnet_losses.reko,
                                       loss=dict(_base_.reko_loss, num_regions=16))),
                 probe_size=32))
