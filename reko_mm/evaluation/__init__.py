"""Offline evaluation: local Inception weights, rank-exact FID/KID metrics, and the error
against ground truth on the synthetic sets."""
from .gt_metrics import GroundTruthError
from .inception import (FIDHelperInception, default_inception_path, load_inception,
                        tf_bilinear_resize)
from .metrics import (OfflineTransFID, OfflineTransKID, frechet_distance,
                      kernel_inception_distance)

__all__ = ['FIDHelperInception', 'default_inception_path', 'load_inception',
           'tf_bilinear_resize', 'OfflineTransFID', 'OfflineTransKID',
           'frechet_distance', 'kernel_inception_distance', 'GroundTruthError']
