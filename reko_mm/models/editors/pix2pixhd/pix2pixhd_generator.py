"""pix2pixHD's global generator (Wang et al., "High-Resolution Image Synthesis and Semantic
Manipulation with Conditional GANs", CVPR 2018), in MMagic's form."""
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmagic.models.editors.cyclegan.cyclegan_modules import ResidualBlockWithDropout
from mmagic.models.utils import generation_init_weights
from mmagic.registry import MODELS


@MODELS.register_module()
class Pix2PixHDGenerator(BaseModule):
    """The global generator G1 of pix2pixHD: a 7x7 convolution, ``num_down`` stride-2
    down-samplings, ``num_blocks`` residual blocks at ``2**num_down * base_channels``
    channels, as many transposed-convolution up-samplings and a 7x7 output convolution with
    tanh; instance normalisation and reflection padding throughout, biases in every
    convolution (NVIDIA's ``GlobalGenerator`` with its defaults).

    ``self.model`` is an ``nn.Sequential``, as in MMagic's ``ResnetGenerator``: index 0 is the
    7x7 convolution, 1..num_down the down-samplings, then the residual blocks (4..12 for the
    defaults), then the up-samplings and the output. The local enhancer of the original
    (G2, for 2048x1024) and its instance / feature-map inputs are not needed at 256x256.

    Args:
        in_channels (int): channels of the input (label) image.
        out_channels (int): channels of the output image.
        base_channels (int): ``ngf``: 64 for the paper's teacher (45.59 M parameters), 12 for
            its 28x smaller student (1.61 M).
        num_down (int): down-samplings (3).
        num_blocks (int): residual blocks (9).
        norm_cfg (dict): normalisation (instance norm, no affine parameters).
        padding_mode (str): padding of the 7x7 and residual convolutions ('reflect').
        init_cfg (dict): MMagic's generation init (normal, gain 0.02, as pix2pixHD).
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, base_channels: int = 64,
                 num_down: int = 3, num_blocks: int = 9, norm_cfg: dict = dict(type='IN'),
                 padding_mode: str = 'reflect',
                 init_cfg: dict = dict(type='normal', gain=0.02)):
        super().__init__(init_cfg=init_cfg)
        if num_down < 1 or num_blocks < 0:
            raise ValueError(f'num_down must be >= 1 and num_blocks >= 0, got {num_down} and '
                             f'{num_blocks}')
        model = [ConvModule(in_channels, base_channels, kernel_size=7, padding=3, bias=True,
                            norm_cfg=norm_cfg, padding_mode=padding_mode)]
        for i in range(num_down):
            c = base_channels * 2**i
            model.append(ConvModule(c, 2 * c, kernel_size=3, stride=2, padding=1, bias=True,
                                    norm_cfg=norm_cfg))
        for _ in range(num_blocks):
            model.append(ResidualBlockWithDropout(base_channels * 2**num_down,
                                                  padding_mode=padding_mode,
                                                  norm_cfg=norm_cfg, use_dropout=False))
        for i in range(num_down):
            c = base_channels * 2**(num_down - i)
            model.append(ConvModule(c, c // 2, kernel_size=3, stride=2, padding=1, bias=True,
                                    conv_cfg=dict(type='deconv', output_padding=1),
                                    norm_cfg=norm_cfg))
        model.append(ConvModule(base_channels, out_channels, kernel_size=7, padding=3,
                                bias=True, norm_cfg=None, act_cfg=dict(type='Tanh'),
                                padding_mode=padding_mode))
        self.model = nn.Sequential(*model)
        self.num_down = num_down
        self.init_type = (init_cfg or {}).get('type', 'normal')
        self.init_gain = (init_cfg or {}).get('gain', 0.02)

    def forward(self, x):
        """(N, C_in, H, W) -> (N, C_out, H, W); H and W divisible by 2**num_down."""
        return self.model(x)

    def init_weights(self):
        if self.init_cfg is not None and self.init_cfg.get('type') == 'Pretrained':
            super().init_weights()
            return
        generation_init_weights(self, init_type=self.init_type, init_gain=self.init_gain)
        self._is_init = True
