"""Models: the teacher-student translation GAN, its distiller, connectors and frozen feature
networks, Pix2PixHD, and the multi-process wrapper."""
from .connectors import Conv1x1Connector, ConvBNReLUConnector, VIDRegressor
from .distillers import DistillTerm, TranslationDistiller
from .editors import MultiScaleDiscriminator, Pix2PixHD, Pix2PixHDGenerator
from .feature_nets import FrozenVGG16, TeacherDiscriminatorFeatures
from .frozen_teacher import FrozenTeacher, read_checkpoint, teacher_generator_cfg
from .student_init import STUDENT_INIT_RULES, init_student_from_teacher
from .grad_sync_wrapper import SeparateGradSyncDataParallel, average_gradients
from .teacher_student_gan import (SUPPORTED_STUDENTS, TeacherStudentCycleGAN, TeacherStudentGAN,
                                  TeacherStudentPix2Pix, TeacherStudentPix2PixHD)

__all__ = ['TeacherStudentGAN', 'TeacherStudentCycleGAN', 'TeacherStudentPix2Pix',
           'TeacherStudentPix2PixHD', 'Pix2PixHD', 'Pix2PixHDGenerator', 'MultiScaleDiscriminator',
           'SUPPORTED_STUDENTS', 'TranslationDistiller', 'DistillTerm', 'Conv1x1Connector',
           'ConvBNReLUConnector', 'VIDRegressor', 'FrozenVGG16', 'TeacherDiscriminatorFeatures',
           'SeparateGradSyncDataParallel', 'average_gradients', 'teacher_generator_cfg',
           'FrozenTeacher', 'read_checkpoint', 'init_student_from_teacher', 'STUDENT_INIT_RULES']
