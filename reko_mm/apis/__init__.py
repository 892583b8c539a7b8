"""Building what a config describes."""
from ..utils.config import load_config
from .configs import evaluation_config, student_config, student_model_cfg
from .evaluation import prepare_test_cfg, swap_exported_generators
from .models import (build_model_from_config, generator_complexity, generators_of,
                     teacher_and_student_generators)
from .releases import ReleaseError, released_student, released_students

__all__ = ['load_config', 'evaluation_config', 'student_config', 'student_model_cfg',
           'build_model_from_config', 'generator_complexity', 'generators_of',
           'teacher_and_student_generators', 'prepare_test_cfg', 'swap_exported_generators',
           'ReleaseError', 'released_student', 'released_students']
