# The four feature points the comparison methods distil (shared/notes/kd-methods.md, sec. 1.1):
# GAN Compression, CAT, OMGD and GCC all use the ReLU after the second down-sampling and the
# outputs of residual blocks 3, 6 and 9 (reference names model.9/12/15/18), all 4*ngf channels at
# 1/4 resolution. In MMagic's ResnetGenerator those are model.2, model.5, model.8, model.11.
kd_resnet_points = ['model.2', 'model.5', 'model.8', 'model.11']
# MMagic's UnetGenerator (num_down >= 5): the same four tensors GCC and OMGD pick for their UNet
# (2C at 1/4, 8C at 1/16, 16C at 1/16, 4C at 1/4 resolution). reko-mm records what each module
# returns (a clone), i.e. before the next block's in-place activation.
kd_unet_points = [
    'model.model.1.model.0',
    'model.model.1.model.1.model.1.model.0',
    'model.model.1.model.1.model.1.model.1',
    'model.model.1.model.1',
]
# SRPKD reads the encoder's output.
kd_resnet_encoder = ['model.2']
kd_unet_encoder = ['model.model.1.model.0']
# Methods with learnable parts (connectors, VID's variance) train them with the student.
distill_parts_trained = dict(
    generators=dict(modules=['generators', 'distill']),
    discriminators=dict(modules='discriminators'))
# pix2pixHD's global generator (Pix2PixHDGenerator): after its last down-sampling and residual
# blocks 3, 6 and 9, the points above in its deeper encoder (8C at 1/8 resolution).
kd_hd_points = ['model.3', 'model.6', 'model.9', 'model.12']
kd_hd_encoder = ['model.3']
