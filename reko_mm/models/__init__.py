from .grad_sync_wrapper import SeparateGradSyncDataParallel, average_gradients
from .teacher_student_gan import (SUPPORTED_STUDENTS, TeacherStudentCycleGAN, TeacherStudentGAN,
                                  TeacherStudentPix2Pix, student_config, student_model_cfg,
                                  teacher_generator_cfg)

__all__ = ['TeacherStudentGAN', 'TeacherStudentCycleGAN', 'TeacherStudentPix2Pix',
           'SUPPORTED_STUDENTS', 'SeparateGradSyncDataParallel', 'average_gradients',
           'student_config', 'student_model_cfg', 'teacher_generator_cfg']
