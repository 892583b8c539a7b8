from .multiscale_discriminator import MultiScaleDiscriminator
from .pix2pixhd import Pix2PixHD
from .pix2pixhd_generator import Pix2PixHDGenerator
from .vgg_loss import VGG19PerceptualLoss

__all__ = ['Pix2PixHD', 'Pix2PixHDGenerator', 'MultiScaleDiscriminator', 'VGG19PerceptualLoss']
