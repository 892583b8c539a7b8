"""Translation models MMagic does not have, in its form (one folder per model)."""
from .pix2pixhd import MultiScaleDiscriminator, Pix2PixHD, Pix2PixHDGenerator

__all__ = ['Pix2PixHD', 'Pix2PixHDGenerator', 'MultiScaleDiscriminator']
