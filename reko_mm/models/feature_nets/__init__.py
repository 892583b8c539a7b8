from .frozen_vgg import VGG16_LAYERS, FrozenVGG16
from .teacher_discriminator import TeacherDiscriminatorFeatures

__all__ = ['FrozenVGG16', 'VGG16_LAYERS', 'TeacherDiscriminatorFeatures']
