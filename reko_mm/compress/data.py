"""The images ``tools/compress.py`` trains on: the layout of the user's folder, recognised or
given, turned into the photo folder the teacher-target recipe reads (``<work>/data/photos/
{train,test}``: the generator's inputs; the teacher's translations of them are the targets).

Layouts (``layout='auto'`` picks the first that fits):

* ``unpaired``: CycleGAN's ``trainA/``, ``testA/`` (``trainB/``, ``testB/``): the inputs are
  the ``A`` side (``direction='BtoA'``: the ``B`` side).
* ``paired``: pix2pix's ``A|B`` images, side by side, twice as wide as high, in ``train/`` and
  ``test/`` (or in the folder itself): the inputs are the left half (``BtoA``: the right half).
  The other half is left out: the targets are the teacher's translations.
* ``photos``: images of any size in ``train/`` and ``test/``, or in the folder itself.

Without a test folder, ``holdout`` images (default: a tenth, at least 2, at most 200), spread
evenly over the sorted file names, are held out for scoring. Images are linked, not copied
(paired halves are written as PNG).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from ..utils.data_check import read_sizes

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
LAYOUTS = ('auto', 'photos', 'paired', 'unpaired')
DIRECTIONS = ('AtoB', 'BtoA')
MAX_HELD_OUT = 200
MIN_HELD_OUT = 2  # KID compares sets of at least 2 images


class CompressDataError(ValueError):
    """A data folder ``tools/compress.py`` cannot train on, with the fix."""


def images_in(folder: str) -> List[str]:
    """The image files directly in ``folder``, sorted (none when it is not a folder)."""
    if not osp.isdir(folder):
        return []
    return sorted(osp.join(folder, f) for f in os.listdir(folder)
                  if f.lower().endswith(IMAGE_SUFFIXES) and osp.isfile(osp.join(folder, f)))


def held_out_count(n: int, holdout: Optional[int]) -> int:
    """How many of ``n`` images to hold out when there is no test folder."""
    if n < MIN_HELD_OUT + 1:
        raise CompressDataError(
            f'{n} image(s): too few to train on some and hold {MIN_HELD_OUT} out for scoring. '
            f'Give at least {MIN_HELD_OUT + 1} (a few hundred for a student worth using).')
    k = holdout if holdout is not None else min(MAX_HELD_OUT, max(MIN_HELD_OUT, round(n / 10)))
    if not MIN_HELD_OUT <= k < n:
        raise CompressDataError(f'--holdout {k} of {n} images leaves too few to train on or to '
                                f'score (KID needs {MIN_HELD_OUT}); choose {MIN_HELD_OUT} to '
                                f'{n - 1}.')
    return k


def split_evenly(files: List[str], k: int) -> Tuple[List[str], List[str]]:
    """(train, test): ``k`` test files spread evenly over ``files`` (sorted), the rest train."""
    picks = {i * len(files) // k for i in range(k)}
    return ([f for i, f in enumerate(files) if i not in picks],
            [f for i, f in enumerate(files) if i in picks])


def _splits(root: str, train_dir: str, test_dir: str) -> Tuple[List[str], List[str]]:
    """(train images, test images) of ``root/train_dir`` and ``root/test_dir``, or of ``root``
    itself (test empty) when there is no train folder."""
    train = images_in(osp.join(root, train_dir))
    if train or osp.isdir(osp.join(root, train_dir)):
        return train, images_in(osp.join(root, test_dir))
    return images_in(root), []


def detect_layout(root: str, sizes: Dict[str, Optional[tuple]]) -> str:
    """``'unpaired'``, ``'paired'`` or ``'photos'`` for the folder ``root`` (``sizes``: the
    decoded (h, w) of its images, from :func:`read_sizes`)."""
    if any(osp.isdir(osp.join(root, d)) for d in ('trainA', 'trainB')):
        return 'unpaired'
    shapes = [s for s in sizes.values() if s]
    if shapes and all(w == 2 * h for h, w in shapes):
        return 'paired'
    return 'photos'


def _unreadable(sizes: Dict[str, Optional[tuple]]) -> List[str]:
    return [f for f, s in sizes.items() if s is None]


def prepare_data(src: str, out: str, layout: str = 'auto', direction: str = 'AtoB',
                 holdout: Optional[int] = None, log=print) -> dict:
    """Check ``src``, recognise its layout, and write the photo folder ``out`` (``train/``,
    ``test/``). Refuses, before anything is written, a missing folder, a folder without images,
    unreadable images, too few images to hold any out, and a layout that does not fit.

    Returns:
        dict: ``layout``, ``train`` and ``test`` (counts), ``held_out`` (``'test folder'`` or
        ``'split: k of n'``), ``root`` (``out``) and ``source`` (``src``, absolute).
    """
    if layout not in LAYOUTS:
        raise CompressDataError(f'--layout must be one of {LAYOUTS}, got {layout!r}')
    if direction not in DIRECTIONS:
        raise CompressDataError(f'--direction must be one of {DIRECTIONS}, got {direction!r}')
    src = osp.abspath(src)
    if not osp.isdir(src):
        raise CompressDataError(f'--data {src} is not a folder. Give a folder of images (or '
                                'train/ and test/ folders of them, or trainA/ and testA/).')
    side = direction[0]
    if layout == 'auto':
        unpaired = any(osp.isdir(osp.join(src, d)) for d in ('trainA', 'trainB'))
        train, test = _splits(src, f'train{side}', f'test{side}') if unpaired else \
            _splits(src, 'train', 'test')
    elif layout == 'unpaired':
        train, test = _splits(src, f'train{side}', f'test{side}')
    else:
        train, test = _splits(src, 'train', 'test')
    if not train:
        where = f'{src}/train{side}' if layout == 'unpaired' else src
        raise CompressDataError(
            f'no images ({", ".join(IMAGE_SUFFIXES)}) in {where}. Give a folder of images, or '
            'one with train/ (and test/) folders of them, or CycleGAN\'s trainA/ (and testA/).')
    sizes = read_sizes(train + test, log=lambda s: None)
    bad = _unreadable(sizes)
    if bad:
        raise CompressDataError(
            f'{len(bad)} of {len(sizes)} images cannot be decoded: {bad[:5]}. Remove or '
            're-save them (e.g. with PIL) and run again.')
    if layout == 'auto':
        layout = detect_layout(src, sizes)
        log(f'   layout: {layout} (recognised; --layout photos|paired|unpaired to choose)')
    if layout == 'paired':
        odd = [f for f, (h, w) in sizes.items() if w != 2 * h]
        if odd:
            raise CompressDataError(
                f'--layout paired needs A|B images twice as wide as high; {len(odd)} are not '
                f'(e.g. {odd[0]}: {sizes[odd[0]][1]}x{sizes[odd[0]][0]}). Use --layout photos.')
    if test:
        if len(test) < MIN_HELD_OUT:
            raise CompressDataError(
                f'the test folder holds {len(test)} image(s); scoring needs at least '
                f'{MIN_HELD_OUT} (KID compares sets). Add images to it, or remove it to hold '
                'some training images out.')
        held = 'test folder'
    else:
        k = held_out_count(len(train), holdout)
        held = f'split: {k} of {len(train)} images held out (evenly over the sorted names)'
        train, test = split_evenly(train, k)
    plan = {'train': train, 'test': test}
    for split, files in plan.items():
        folder = osp.join(out, split)
        os.makedirs(folder, exist_ok=True)
        wanted = set()
        for f in files:
            name = osp.basename(f)
            if layout == 'paired':
                name = osp.splitext(name)[0] + '.png'
                _write_half(f, osp.join(folder, name), direction)
            else:
                _link(f, osp.join(folder, name))
            wanted.add(name)
        for stale in set(os.listdir(folder)) - wanted:  # files of an earlier split of this run
            os.remove(osp.join(folder, stale))
    log(f'   {len(train)} training and {len(test)} held-out images ({held}) -> {out}')
    return dict(layout=layout, direction=direction, train=len(train), test=len(test),
                held_out=held, root=out, source=src)


def _link(src: str, dst: str) -> None:
    if osp.islink(dst) and os.readlink(dst) == src:
        return
    if osp.lexists(dst):
        os.remove(dst)
    os.symlink(src, dst)


def _write_half(src: str, dst: str, direction: str) -> None:
    """The input half of an A|B image as a PNG (rewritten only when ``src`` is newer)."""
    import cv2
    if osp.exists(dst) and osp.getmtime(dst) >= osp.getmtime(src):
        return
    img = cv2.imread(src, cv2.IMREAD_COLOR)
    half = img.shape[1] // 2
    img = img[:, :half] if direction == 'AtoB' else img[:, half:]
    tmp = dst + '.part.png'
    cv2.imwrite(tmp, img)
    os.replace(tmp, dst)
