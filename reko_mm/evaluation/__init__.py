"""Offline evaluation: local Inception weights and rank-exact FID/KID metrics."""
from .inception import (FIDHelperInception, default_inception_path, load_inception,
                        tf_bilinear_resize)
from .metrics import (OfflineTransFID, OfflineTransKID, frechet_distance,
                      kernel_inception_distance)

__all__ = ['FIDHelperInception', 'default_inception_path', 'load_inception',
           'tf_bilinear_resize', 'OfflineTransFID', 'OfflineTransKID',
           'frechet_distance', 'kernel_inception_distance']
