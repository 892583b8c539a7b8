"""Procedurally generated image-to-image translation data with known crucial regions.

Every scene is a smooth background with a few foreground objects. The two domains differ only on
the objects, and the background is identical, so the regions that a translation has to change,
the paper's "crucial regions", are known exactly; a binary mask of them is written next to every
image. Two kinds of scene:

* ``kind='stripes'`` (the quick start's first set): domain A paints the objects in flat colours
  ("horses"), domain B paints them with black-and-white stripes of random orientation and period
  ("zebras"). B -> A has no single right answer (the colour is lost), nor has A -> B.
* ``kind='bands'`` (ground truth in both directions): domain A paints each object in one flat
  colour; domain B paints the same object with dark bands that follow its boundary (pixels at
  inside distance ``[1, 1 + band)``, ``[1 + 2 band, 1 + 3 band)``, ... up to ``rings`` bands;
  one by default, an outline), the object's colour between them. The background is a smooth
  colour field without pixel noise. Both translations are deterministic and local (the colour
  is never more than ``band`` pixels away, the boundary within the receptive field), so every
  test output has a true answer: the test splits of the unpaired layout hold the *same* scene
  at the same index in ``testA`` and ``testB`` (training stays unpaired).

Layouts are the ones MMagic's datasets read:

* unpaired (``UnpairedImageDataset``)::

    root/trainA/0000.png  root/trainB/0000.png  root/testA/...  root/testB/...
    root/masks/trainA/0000.png  ...  (255 on objects, 0 elsewhere)

* paired (``PairedImageDataset``; A | B side by side, as pix2pix's facades)::

    root/train/0000.png  root/test/0000.png      (left half A = striped, right half B = flat)
    root/masks/train/0000.png  ...               (one mask per pair, size x size)

In the paired layout the two halves show the same scene, as pix2pix needs.
"""
import os
import os.path as osp
from typing import Dict, List, Optional

import cv2
import numpy as np

__all__ = ['generate_synthetic_dataset', 'render_scene', 'render_bands_scene', 'band_pattern',
           'UNPAIRED_SPLITS', 'PAIRED_SPLITS', 'KINDS']

UNPAIRED_SPLITS = ('trainA', 'trainB', 'testA', 'testB')
PAIRED_SPLITS = ('train', 'test')


def _background(rng: np.random.Generator, size: int, grain: float = 0.02,
                cells: int = 4) -> np.ndarray:
    """A smooth, low-frequency colour field (float32 HxWx3 in [0, 1]) interpolated from a
    ``cells`` x ``cells`` grid, plus pixel noise of std ``grain``."""
    coarse = rng.uniform(0.25, 0.75, size=(cells, cells, 3)).astype(np.float32)
    bg = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    if grain:  # a little fine grain, so the background is not trivially flat
        bg += rng.normal(0, grain, size=(size, size, 3)).astype(np.float32)
    return np.clip(bg, 0, 1)


def _object_masks(rng: np.random.Generator, size: int,
                  num_objects: int) -> List[np.ndarray]:
    """Random ellipses and rotated rectangles covering about 5-20 % of the image each."""
    masks = []
    for _ in range(num_objects):
        mask = np.zeros((size, size), np.uint8)
        cx, cy = rng.uniform(0.2, 0.8, size=2) * size
        ax, ay = rng.uniform(0.12, 0.25, size=2) * size
        angle = float(rng.uniform(0, 180))
        if rng.random() < 0.5:
            cv2.ellipse(mask, (int(cx), int(cy)), (int(ax), int(ay)), angle, 0,
                        360, 1, -1)
        else:
            box = cv2.boxPoints(((cx, cy), (2 * ax, 2 * ay), angle))
            cv2.fillPoly(mask, [box.astype(np.int32)], 1)
        masks.append(mask.astype(bool))
    return masks


DARK = 0.08  # the bands' grey level (kind='bands')
KINDS = ('stripes', 'bands')


def _disjoint_masks(rng: np.random.Generator, size: int, num_objects: int) -> List[np.ndarray]:
    """Objects as in :func:`_object_masks`, redrawn (up to 30 times each) until none touches
    another, so each has its own boundary."""
    masks, union = [], np.zeros((size, size), bool)
    for _ in range(num_objects):
        for _ in range(30):
            obj = _object_masks(rng, size, 1)[0]
            grown = cv2.dilate(obj.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
            if obj.sum() >= 9 and not (grown & union).any():
                masks.append(obj)
                union |= obj
                break
    return masks


def band_pattern(mask: np.ndarray, band: int = 2, rings: int = 1) -> np.ndarray:
    """Where an object's dark bands lie: inside distance (1 on the boundary pixels) in
    ``[1 + 2 k band, 1 + (2 k + 1) band)`` for ``k < rings``."""
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    ring = np.floor((dist - 1) / band).astype(int)
    return mask & (ring % 2 == 0) & (ring < 2 * rings)


def render_bands_scene(seed: int, size: int = 32, max_objects: int = 3, band: int = 2,
                       rings: int = 1, grain: float = 0.0,
                       cells: int = 2) -> Dict[str, np.ndarray]:
    """One ``kind='bands'`` scene: ``flat`` (domain A), ``banded`` (domain B) and ``mask``.

    The background has no pixel noise by default: a translation that keeps it is then a
    question of the objects, which is what the ground-truth metrics measure."""
    rng = np.random.default_rng(seed)
    bg = _background(rng, size, grain, cells)
    img_a, img_b = bg.copy(), bg.copy()
    union = np.zeros((size, size), bool)
    for obj in _disjoint_masks(rng, size, int(rng.integers(1, max_objects + 1))):
        colour = rng.uniform(0.3, 0.95, size=3).astype(np.float32)
        img_a[obj] = colour
        dark = band_pattern(obj, band, rings)
        img_b[obj & ~dark] = colour
        img_b[dark] = DARK
        union |= obj
    to_u8 = lambda x: (np.clip(x, 0, 1) * 255).round().astype(np.uint8)  # noqa: E731
    return dict(flat=to_u8(img_a), banded=to_u8(img_b), mask=union.astype(np.uint8) * 255)


def render_scene(seed: int, size: int = 64,
                 max_objects: int = 3) -> Dict[str, np.ndarray]:
    """Render one ``kind='stripes'`` scene in both domains.

    Returns:
        dict with ``flat`` (objects in flat colours: unpaired domain A) and ``striped``
        (the same objects striped: unpaired domain B), uint8 HxWx3 BGR as OpenCV writes them,
        and ``mask`` (uint8 HxW, 255 on the objects).
    """
    rng = np.random.default_rng(seed)
    bg = _background(rng, size)
    img_a, img_b = bg.copy(), bg.copy()
    union = np.zeros((size, size), bool)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    for obj in _object_masks(rng, size, int(rng.integers(1, max_objects + 1))):
        colour = rng.uniform(0.1, 0.9, size=3).astype(np.float32)
        # domain A: flat colour with soft shading
        shade = 0.85 + 0.15 * (yy / size)
        img_a[obj] = (colour[None, :] * shade[obj][:, None])
        # domain B: stripes of random frequency and orientation
        theta = rng.uniform(0, np.pi)
        period = rng.uniform(0.08, 0.16) * size
        phase = (xx * np.cos(theta) + yy * np.sin(theta)) * (2 * np.pi / period)
        stripes = (np.sin(phase) > 0).astype(np.float32)
        img_b[obj] = np.repeat(0.05 + 0.9 * stripes[obj][:, None], 3, axis=1)
        union |= obj
    to_u8 = lambda x: (np.clip(x, 0, 1) * 255).round().astype(np.uint8)  # noqa: E731
    return dict(flat=to_u8(img_a), striped=to_u8(img_b), mask=union.astype(np.uint8) * 255)


def generate_synthetic_dataset(root: str,
                               layout: str = 'unpaired',
                               num_train: int = 64,
                               num_test: int = 16,
                               size: int = 64,
                               seed: int = 0,
                               overwrite: bool = False,
                               kind: str = 'stripes',
                               band: int = 2,
                               rings: int = 1) -> Dict[str, int]:
    """Write a synthetic dataset in one of MMagic's layouts.

    Args:
        root: output folder.
        layout: ``'unpaired'`` (CycleGAN) or ``'paired'`` (Pix2Pix).
        num_train / num_test: images per split (per domain when unpaired).
        size: height and width of each image (the paired files are ``size x 2*size``).
        seed: the whole dataset is a function of it.
        overwrite: refuse to write into a non-empty ``root`` unless True, so nothing a user
            had there is lost.
        kind: ``'stripes'`` or ``'bands'`` (ground truth both ways; see the module docstring).
        band, rings: band width in pixels and number of dark bands (``kind='bands'``).

    Returns:
        the number of images written per split.
    """
    if layout not in ('unpaired', 'paired'):
        raise ValueError(f"layout must be 'unpaired' or 'paired', got {layout!r}")
    if size < 16:
        raise ValueError(f'size must be at least 16 pixels, got {size}')
    if kind not in KINDS:
        raise ValueError(f'kind must be one of {KINDS}, got {kind!r}')
    splits = UNPAIRED_SPLITS if layout == 'unpaired' else PAIRED_SPLITS
    if osp.isdir(root) and os.listdir(root) and not overwrite:
        existing = [s for s in splits if osp.isdir(osp.join(root, s))]
        raise FileExistsError(
            f'{root} is not empty (has {sorted(os.listdir(root))[:5]}); refusing to write '
            f'into it. Choose another folder, or pass overwrite=True / --overwrite to replace '
            f'the splits {existing or list(splits)}.')
    counts = {}
    for split_idx, split in enumerate(splits):
        n = num_train if split.startswith('train') else num_test
        img_dir, mask_dir = osp.join(root, split), osp.join(root, 'masks', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(mask_dir, exist_ok=True)
        for i in range(n):
            # Unpaired domains draw different scenes (CycleGAN must not see pairs) when
            # training; a 'bands' test set pairs them, so every output has a true answer.
            scene_split = split_idx
            if kind == 'bands' and layout == 'unpaired' and split.startswith('test'):
                scene_split = splits.index('testA')
            scene_seed = seed * 1_000_003 + scene_split * 100_003 + i
            if kind == 'bands':
                scene = render_bands_scene(scene_seed, size, band=band, rings=rings)
                other = scene['banded']
            else:
                scene = render_scene(scene_seed, size)
                other = scene['striped']
            name = f'{i:04d}.png'
            if layout == 'unpaired':
                img = scene['flat'] if split.endswith('A') else other
            else:
                # pix2pix convention (facades): left = A = the photo-like target (stripes or
                # bands), right = B = the flat "label" source.
                img = np.concatenate([other, scene['flat']], axis=1)
            cv2.imwrite(osp.join(img_dir, name), img)
            cv2.imwrite(osp.join(mask_dir, name), scene['mask'])
        counts[split] = n
    return counts


def load_mask(root: str, split: str, name: str) -> Optional[np.ndarray]:
    """Read the object mask of ``root/split/name`` as a bool array (None when absent)."""
    path = osp.join(root, 'masks', split, osp.basename(name))
    if not osp.exists(path):
        return None
    return cv2.imread(path, cv2.IMREAD_GRAYSCALE) > 127
