"""reko-mm: Region-aware Knowledge Distillation (ReKo) for MMagic image-to-image translation.

Importing the package applies the compatibility fixes in :mod:`reko_mm.compat` and registers
``RegionAwareDistillLoss``, ``TeacherStudentGAN`` (and its CycleGAN / Pix2Pix forms) and
``ModuleOutputRecorder`` and the offline ``OfflineTransFID`` / ``OfflineTransKID`` metrics in
MMagic's registries, so configs name them with no scope prefix.
"""
from . import compat

compat.apply_all()

from . import datasets, engine, evaluation, losses, models, recorders  # noqa: E402,F401
from .losses import RegionAwareDistillLoss  # noqa: E402
from .models import TeacherStudentGAN  # noqa: E402
from .recorders import ModuleOutputRecorder  # noqa: E402

__version__ = '0.1.0'
__all__ = ['RegionAwareDistillLoss', 'TeacherStudentGAN', 'ModuleOutputRecorder', '__version__']
