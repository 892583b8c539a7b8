"""Data transforms: the object masks beside a synthetic set's image, and the teacher's cached
features beside a cached translation pair."""
import math
import os.path as osp
import zipfile

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmagic.datasets.transforms import PackInputs
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


def npz_shapes(path: str) -> dict:
    """``{name: (shape, dtype)}`` of the arrays in an ``.npz``, from their headers only."""
    out = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            with archive.open(member) as f:
                version = np.lib.format.read_magic(f)
                read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, _, dtype = read(f)
            out[member[:-4] if member.endswith('.npy') else member] = (shape, dtype)
    return out


@TRANSFORMS.register_module()
class LoadTeacherFeatures(BaseTransform):
    """Load the teacher's cached features of a sample (``TeacherTranslationDataset`` with
    ``features``) as ``results[key] = {layer: C x h x w float16 array}``.

    In a resumed run's replay of the batches already trained (``results['replay']``, see
    :mod:`reko_mm.datasets.replay`) only the arrays' headers are read: each array is a read-only
    view of one zero, of the cached array's shape and dtype.

    Args:
        key (str): where to put them (default ``'teacher_features'``).
        path_key (str): the results key of the ``.npz`` path.
    """

    def __init__(self, key: str = 'teacher_features',
                 path_key: str = 'teacher_features_path'):
        self.key = key
        self.path_key = path_key

    def transform(self, results: dict) -> dict:
        if self.path_key not in results:
            raise KeyError(
                f'LoadTeacherFeatures: no {self.path_key!r} in the results (keys: '
                f'{sorted(results)}); train on TeacherTranslationDataset with features=[...]')
        if results.get('replay'):
            shapes = npz_shapes(results[self.path_key])
            results[self.key] = {n: np.broadcast_to(np.zeros((), dtype), shape)
                                 for n, (shape, dtype) in shapes.items()}
            return results
        with np.load(results[self.path_key], allow_pickle=False) as arrays:
            results[self.key] = {n: arrays[n] for n in arrays.files}
        return results


@TRANSFORMS.register_module()
class CropFlipWithFeatures(BaseTransform):
    """A random ``crop_size`` crop of the images ``keys``, and of the teacher's features
    (``results[feature_key]``, ``{layer: C x h x w}``) at the same place, then a horizontal flip
    of all of them with probability ``flip_ratio``: MMagic's ``FixedCrop`` and ``Flip`` for an
    image pair with its cached teacher features.

    The crop starts at a multiple of the layers' stride (image side / feature side), so that it
    covers whole feature positions; ``TeacherTranslationDataset`` cuts the sides to such a
    multiple. Records ``crop_pos`` (x, y) and ``flip`` in the results.

    Args:
        keys (list[str]): the images (H x W x C, all the same size).
        crop_size (tuple[int]): (width, height), each a multiple of the strides.
        flip_ratio (float): the probability of a horizontal flip.
        feature_key (str): where :class:`LoadTeacherFeatures` put the features.
    """

    def __init__(self, keys, crop_size, flip_ratio: float = 0.5,
                 feature_key: str = 'teacher_features'):
        self.keys = [keys] if isinstance(keys, str) else list(keys)
        self.crop_w, self.crop_h = (crop_size, crop_size) if isinstance(crop_size, int) \
            else crop_size
        self.flip_ratio = flip_ratio
        self.feature_key = feature_key

    def _stride(self, shape, features) -> int:
        h, w = shape
        strides = set()
        for n, f in features.items():
            fh, fw = f.shape[-2:]
            if h % fh or w % fw or h // fh != w // fw:
                raise ValueError(
                    f"CropFlipWithFeatures: the teacher's cached {n!r} is {fh}x{fw} for a "
                    f'{h}x{w} image: not one whole stride; rebuild the cache '
                    '(tools/dataset_converters/teacher_translations.py CONFIG)')
            strides.add(h // fh)
        return math.lcm(1, *strides)

    def transform(self, results: dict) -> dict:
        features = results[self.feature_key]
        h, w = results[self.keys[0]].shape[:2]
        for k in self.keys[1:]:
            if results[k].shape[:2] != (h, w):
                raise ValueError(f'CropFlipWithFeatures: {k} is {results[k].shape[:2]}, '
                                 f'{self.keys[0]} is {(h, w)}')
        stride = self._stride((h, w), features)
        if self.crop_h > h or self.crop_w > w or self.crop_h % stride or self.crop_w % stride:
            raise ValueError(f'CropFlipWithFeatures: a {self.crop_w}x{self.crop_h} crop of a '
                             f'{w}x{h} image whose features have stride {stride}: the crop must '
                             f'fit and be a multiple of {stride}')
        y = stride * np.random.randint(0, (h - self.crop_h) // stride + 1)
        x = stride * np.random.randint(0, (w - self.crop_w) // stride + 1)
        flip = np.random.rand() < self.flip_ratio
        for k in self.keys:
            img = results[k][y:y + self.crop_h, x:x + self.crop_w]
            results[k] = np.ascontiguousarray(img[:, ::-1] if flip else img)
        cropped = {}
        for n, f in features.items():
            s = h // f.shape[-2]
            f = f[..., y // s:(y + self.crop_h) // s, x // s:(x + self.crop_w) // s]
            cropped[n] = np.ascontiguousarray(f[..., ::-1] if flip else f)
        results[self.feature_key] = cropped
        results['crop_pos'] = (x, y)
        results['flip'] = flip
        return results


@TRANSFORMS.register_module()
class PackInputsWithFeatures(PackInputs):
    """MMagic's ``PackInputs``, with the teacher's features (``results[feature_key]``) packed
    beside ``inputs`` and ``data_samples`` as ``{layer: tensor}``; ``TeacherStudentGAN``
    (``as_target='cached'``) reads them there in place of running the teacher."""

    def __init__(self, feature_key: str = 'teacher_features', **kwargs):
        super().__init__(**kwargs)
        self.feature_key = feature_key

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        packed[self.feature_key] = {n: torch.from_numpy(f)
                                    for n, f in results[self.feature_key].items()}
        return packed
