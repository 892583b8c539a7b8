"""A CycleGAN with no batch-coupled layer: InstanceNorm everywhere, no image buffer."""
import torch
from mmengine import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.registry import init_default_scope


def build_model():
    from mmagic.registry import MODELS
    init_default_scope('mmagic')
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='CycleGAN', data_preprocessor=dict(type='DataPreprocessor'), buffer_size=0,
        generator=dict(type='ResnetGenerator', in_channels=3, out_channels=3, base_channels=8,
                       norm_cfg=dict(type='IN'), use_dropout=False, num_blocks=2,
                       init_cfg=dict(type='normal', gain=0.02)),
        discriminator=dict(type='PatchDiscriminator', in_channels=3, base_channels=8,
                           num_conv=2, norm_cfg=dict(type='IN'),
                           init_cfg=dict(type='normal', gain=0.02)),
        default_domain='b', reachable_domains=['a', 'b'], related_domains=['a', 'b']))
    model.init_weights()
    return model


def make_batch(n, size=32):
    from mmagic.structures import DataSample
    g = torch.Generator().manual_seed(42)
    return dict(inputs={f'img_{d}': [torch.randint(0, 255, (3, size, size), generator=g).float()
                                     for _ in range(n)] for d in 'ab'},
                data_samples=[DataSample() for _ in range(n)])


def data_slice(batch, start, stop):
    return dict(inputs={k: v[start:stop] for k, v in batch['inputs'].items()},
                data_samples=batch['data_samples'][start:stop])


def optims(model):
    def wrap(m):
        return OptimWrapper(torch.optim.SGD(m.parameters(), lr=0.1))
    return OptimWrapperDict(generators=wrap(model.generators),
                            discriminators=wrap(model.discriminators))


def step(model, data, opt):
    MessageHub.get_current_instance().update_info('iter', 0)
    return model.train_step(data, opt)
