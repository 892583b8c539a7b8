from .excluding import (ExcludingBasicImageDataset, ExcludingPairedImageDataset,
                        ExcludingUnpairedImageDataset)
from .synthetic import (KINDS, band_pattern, generate_synthetic_dataset, load_mask,
                        render_bands_scene, render_scene)
from .teacher_translations import (StaleCacheError, TeacherTranslationDataset,
                                   build_teacher_translations)
from .transforms import (CropFlipWithFeatures, LoadSceneMask, LoadTeacherFeatures,
                         PackInputsWithFeatures, mask_path_of)

__all__ = ['ExcludingBasicImageDataset', 'ExcludingPairedImageDataset',
           'ExcludingUnpairedImageDataset', 'generate_synthetic_dataset', 'render_scene',
           'render_bands_scene', 'band_pattern', 'load_mask', 'KINDS', 'LoadSceneMask',
           'mask_path_of', 'TeacherTranslationDataset', 'StaleCacheError',
           'build_teacher_translations', 'LoadTeacherFeatures', 'CropFlipWithFeatures',
           'PackInputsWithFeatures']
