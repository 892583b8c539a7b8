"""pix2pixHD (Wang et al., CVPR 2018) as an MMagic translation model."""
import torch
import torch.nn.functional as F

from mmagic.models.editors import Pix2Pix
from mmagic.registry import MODELS

from .vgg_loss import VGG19PerceptualLoss


@MODELS.register_module()
class Pix2PixHD(Pix2Pix):
    """pix2pixHD at one scale: :class:`Pix2PixHDGenerator` and a :class:`MultiScaleDiscriminator`
    conditioned on the input, trained with LSGAN, the discriminator feature-matching loss and,
    optionally, the VGG19 perceptual loss.

    It is MMagic's ``Pix2Pix`` with pix2pixHD's losses: the same data pipeline, data
    preprocessor, training step, val/test loops, metrics, visualisation and checkpoints. The
    generator loss is::

        gan * sum_scales MSE(D_s(x, G(x)), 1)
        + feat_match * sum_scales sum_layers 1/num_scales * 4/(num_layers+1)
                     * L1(D_s,l(x, G(x)), D_s,l(x, y))
        + vgg * VGG19Loss(G(x), y) + pixel * L1(G(x), y)

    and the discriminator's ``0.5 * sum_scales (MSE(D_s(x, G(x)), 0) + MSE(D_s(x, y), 1))``.

    Args:
        loss_config (dict): ``gan_loss_weight`` (1), ``feat_match_weight`` (10, pix2pixHD's
            lambda_feat), ``vgg_loss_weight`` (0: off; pix2pixHD uses 10), ``vgg_weights`` (a
            local torchvision VGG19 file, required when the VGG loss is on),
            ``pixel_loss_weight`` (0: pix2pixHD has no L1 term).
        Other arguments: as MMagic's ``Pix2Pix``.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cfg = dict(self.loss_config)
        known = {'gan_loss_weight', 'feat_match_weight', 'vgg_loss_weight', 'vgg_weights',
                 'pixel_loss_weight'}
        unknown = sorted(set(cfg) - known)
        if unknown:
            raise ValueError(f'unknown keys in Pix2PixHD loss_config: {unknown}; valid: '
                             f'{sorted(known)}')
        self.gan_loss_weight = cfg.get('gan_loss_weight', 1.0)
        self.feat_match_weight = cfg.get('feat_match_weight', 10.0)
        self.vgg_loss_weight = cfg.get('vgg_loss_weight', 0.0)
        self.pixel_loss_weight = cfg.get('pixel_loss_weight', 0.0)
        self.vgg_loss = VGG19PerceptualLoss(cfg.get('vgg_weights')) \
            if self.vgg_loss_weight > 0 else None

    def _pair(self, outputs, image):
        target = self._default_domain
        source = self.get_other_domains(target)[0]
        return torch.cat((outputs[f'real_{source}'], image), 1)

    @staticmethod
    def _lsgan(predictions, target: float):
        return sum(F.mse_loss(p[-1], torch.full_like(p[-1], target)) for p in predictions)

    def _get_disc_loss(self, outputs):
        disc = self.get_module(self.discriminators)[self._default_domain]
        fake = self._pair(outputs, outputs[f'fake_{self._default_domain}']).detach()
        real = self._pair(outputs, outputs[f'real_{self._default_domain}'])
        losses = dict(loss_gan_d_fake=self._lsgan(disc(fake), 0.0),
                      loss_gan_d_real=self._lsgan(disc(real), 1.0))
        loss_d, log_vars_d = self.parse_losses(losses)
        return loss_d * 0.5, log_vars_d

    def _get_gen_loss(self, outputs):
        target = self._default_domain
        disc = self.get_module(self.discriminators)[target]
        fake_img, real_img = outputs[f'fake_{target}'], outputs[f'real_{target}']
        pred_fake = disc(self._pair(outputs, fake_img))
        losses = dict(loss_gan_g=self.gan_loss_weight * self._lsgan(pred_fake, 1.0))
        if self.feat_match_weight:
            with torch.no_grad():
                pred_real = disc(self._pair(outputs, real_img))
            num_scales, num_layers = len(pred_fake), len(pred_fake[0]) - 1
            weight = self.feat_match_weight * (4.0 / num_layers) / num_scales
            losses['loss_feat_match'] = weight * sum(
                F.l1_loss(f, r) for fs, rs in zip(pred_fake, pred_real)
                for f, r in zip(fs[:-1], rs[:-1]))
        if self.vgg_loss is not None:
            losses['loss_vgg'] = self.vgg_loss_weight * self.vgg_loss(fake_img, real_img)
        if self.pixel_loss_weight:
            losses['loss_pixel'] = self.pixel_loss_weight * F.l1_loss(fake_img, real_img)
        return self.parse_losses(losses)
