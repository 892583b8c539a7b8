# GCC (Li et al., NeurIPS 2021): Gram ("texture") and content terms on the four generator points
# through 1x1 convs (no bias, PyTorch's init), and the same two on the teacher discriminator's
# features (model.1, model.3 of MMagic's PatchDiscriminator) of the student's vs the teacher's
# image; the discriminator comes from the teacher checkpoint. CycleGAN (horse2zebra script):
# MSE, lambda_gram 10, lambda_content 0.01. Pix2Pix (cityscapes script): square roots of the
# MSEs, lambda_gram 1e4, lambda_content 50.
_base_ = ['./kd_points.py']
gcc_feature_nets = dict(teacher_d=dict(type='TeacherDiscriminatorFeatures',
                                       layers=['model.1', 'model.3']))
_gcc_connector = dict(type='Conv1x1Connector', bias=False, init_std=None)
_teacher_d = dict(feature_net='teacher_d', layers=['model.1', 'model.3'])
gcc_resnet_losses = dict(
    gcc_gram=dict(inputs=dict(layers=_base_.kd_resnet_points), reduce='sum',
                  connector=_gcc_connector, loss=dict(type='GramLoss', loss_weight=10.0)),
    gcc_content=dict(inputs=dict(layers=_base_.kd_resnet_points), reduce='sum',
                     connector=_gcc_connector, loss=dict(type='ContentLoss', loss_weight=0.01)),
    gcc_d_gram=dict(inputs=_teacher_d, reduce='sum',
                    loss=dict(type='GramLoss', loss_weight=10.0)),
    gcc_d_content=dict(inputs=_teacher_d, reduce='sum',
                       loss=dict(type='ContentLoss', loss_weight=0.01)))
gcc_unet_losses = dict(
    gcc_gram=dict(inputs=dict(layers=_base_.kd_unet_points), reduce='sum',
                  connector=_gcc_connector,
                  loss=dict(type='GramLoss', sqrt=True, loss_weight=1e4)),
    gcc_content=dict(inputs=dict(layers=_base_.kd_unet_points), reduce='sum',
                     connector=_gcc_connector,
                     loss=dict(type='ContentLoss', sqrt=True, loss_weight=50.0)),
    gcc_d_gram=dict(inputs=_teacher_d, reduce='sum',
                    loss=dict(type='GramLoss', sqrt=True, loss_weight=1e4)),
    gcc_d_content=dict(inputs=_teacher_d, reduce='sum',
                       loss=dict(type='ContentLoss', sqrt=True, loss_weight=50.0)))
# Pix2PixHD: the Pix2Pix weights; the teacher's finest-scale discriminator, after its second
# and fourth blocks
gcc_hd_feature_nets = dict(teacher_d=dict(
    type='TeacherDiscriminatorFeatures',
    layers=['discriminators.0.model.1', 'discriminators.0.model.3']))
_teacher_d_hd = dict(feature_net='teacher_d',
                     layers=['discriminators.0.model.1', 'discriminators.0.model.3'])
gcc_hd_losses = dict(
    gcc_gram=dict(inputs=dict(layers=_base_.kd_hd_points), reduce='sum',
                  connector=_gcc_connector,
                  loss=dict(type='GramLoss', sqrt=True, loss_weight=1e4)),
    gcc_content=dict(inputs=dict(layers=_base_.kd_hd_points), reduce='sum',
                     connector=_gcc_connector,
                     loss=dict(type='ContentLoss', sqrt=True, loss_weight=50.0)),
    gcc_d_gram=dict(inputs=_teacher_d_hd, reduce='sum',
                    loss=dict(type='GramLoss', sqrt=True, loss_weight=1e4)),
    gcc_d_content=dict(inputs=_teacher_d_hd, reduce='sum',
                       loss=dict(type='ContentLoss', sqrt=True, loss_weight=50.0)))
# Its learnable parts (connectors, loss parameters) train with the student.
gcc_optim_wrapper = _base_.distill_parts_trained
