"""Procedurally generated image-to-image translation data with known crucial regions.

Every scene is a smooth background with a few foreground objects. The two domains differ only on
the objects: domain A paints them in flat colours ("horses"), domain B paints the same shapes with
black-and-white stripes ("zebras"); the background is identical. So the regions that a translation
has to change, the paper's "crucial regions", are known exactly, and a binary mask of them is
written next to every image.

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

__all__ = ['generate_synthetic_dataset', 'render_scene', 'UNPAIRED_SPLITS',
           'PAIRED_SPLITS']

UNPAIRED_SPLITS = ('trainA', 'trainB', 'testA', 'testB')
PAIRED_SPLITS = ('train', 'test')


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth, low-frequency colour field (float32 HxWx3 in [0, 1])."""
    coarse = rng.uniform(0.25, 0.75, size=(4, 4, 3)).astype(np.float32)
    bg = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    # a little fine grain, so the background is not trivially flat
    bg += rng.normal(0, 0.02, size=(size, size, 3)).astype(np.float32)
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


def render_scene(seed: int, size: int = 64,
                 max_objects: int = 3) -> Dict[str, np.ndarray]:
    """Render one scene in both domains.

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
                               overwrite: bool = False) -> Dict[str, int]:
    """Write a synthetic dataset in one of MMagic's layouts.

    Args:
        root: output folder.
        layout: ``'unpaired'`` (CycleGAN) or ``'paired'`` (Pix2Pix).
        num_train / num_test: images per split (per domain when unpaired).
        size: height and width of each image (the paired files are ``size x 2*size``).
        seed: the whole dataset is a function of it.
        overwrite: refuse to write into a non-empty ``root`` unless True, so nothing a user
            had there is lost.

    Returns:
        the number of images written per split.
    """
    if layout not in ('unpaired', 'paired'):
        raise ValueError(f"layout must be 'unpaired' or 'paired', got {layout!r}")
    if size < 16:
        raise ValueError(f'size must be at least 16 pixels, got {size}')
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
            # Unpaired domains draw different scenes (CycleGAN must not see pairs).
            scene = render_scene(seed * 1_000_003 + split_idx * 100_003 + i, size)
            name = f'{i:04d}.png'
            if layout == 'unpaired':
                img = scene['flat'] if split.endswith('A') else scene['striped']
            else:
                # pix2pix convention (facades): left = A = the photo-like target (stripes),
                # right = B = the flat "label" source.
                img = np.concatenate([scene['striped'], scene['flat']], axis=1)
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
