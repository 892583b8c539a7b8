"""Data transforms for the synthetic sets: the object masks beside an image."""
import os.path as osp

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmagic.registry import TRANSFORMS


def mask_path_of(image_path: str) -> str:
    """``<root>/<split>/<name>`` -> ``<root>/masks/<split>/<name>`` (the generator's layout)."""
    folder, name = osp.split(image_path)
    return osp.join(osp.dirname(folder), 'masks', osp.basename(folder), name)


@TRANSFORMS.register_module()
class LoadSceneMask(BaseTransform):
    """Load the object mask that :func:`generate_synthetic_dataset` writes beside an image, as
    ``results[key]`` (H x W x 1, uint8 0/1): the crucial regions of the ground-truth metrics.

    Args:
        path_key (str): the results key of the image path (``img_A_path`` for MMagic's
            unpaired and paired datasets; a 'bands' test scene is the same in both domains).
        key (str): where to put the mask.
    """

    def __init__(self, path_key: str = 'img_A_path', key: str = 'mask'):
        self.path_key = path_key
        self.key = key

    def transform(self, results: dict) -> dict:
        if self.path_key not in results:
            raise KeyError(f'LoadSceneMask: no {self.path_key!r} in the results (keys: '
                           f'{sorted(results)}); load the image before the mask')
        path = mask_path_of(results[self.path_key])
        mask = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise FileNotFoundError(
                f'no object mask for {results[self.path_key]} at {path}: the ground-truth '
                'metrics need the masks that reko_mm.datasets.generate_synthetic_dataset '
                '(tools/dataset_converters/make_synthetic.py) writes.')
        results[self.key] = (mask > 127).astype(np.uint8)[..., None]
        return results
