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
evenly over the sorted file names, are held out for scoring. Images are linked, not copied,
under a lower-case suffix; paired halves and images of a type that not every step reads
(``.tif``, ``.webp``) are written as PNG.
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from ..benchmarks.teacher_scores import IMAGE_SUFFIXES as READ_EVERYWHERE
from ..datasets.teacher_translations import IMAGE_SUFFIXES
from ..utils.data_check import read_sizes
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


def held_out_count(n: int, holdout: Optional[int], where: str = 'the folder') -> int:
    """How many of ``n`` images (in ``where``) to hold out when there is no test folder."""
    if n < MIN_HELD_OUT + 1:
        raise CompressDataError(
            f'{where}: {n} image(s), too few to train on some and hold {MIN_HELD_OUT} out for '
            f'scoring. Give at least {MIN_HELD_OUT + 1} (a few hundred for a student worth '
            'using).')
    k = holdout if holdout is not None else \
        min(MAX_HELD_OUT, max(MIN_HELD_OUT, round(n / 10)))
    if not MIN_HELD_OUT <= k < n:
        raise CompressDataError(f'{where}: --holdout {k} of {n} images leaves too few to train '
                                f'on or to score (KID needs {MIN_HELD_OUT}); choose '
                                f'{MIN_HELD_OUT} to {n - 1}.')
    return k


def split_evenly(files: List[str], k: int) -> Tuple[List[str], List[str]]:
    """(train, test): ``k`` test files spread evenly over ``files`` (sorted), the rest train."""
    from ..benchmarks.teacher_scores import spread
    picks = set(spread(len(files), k))
    return ([f for i, f in enumerate(files) if i not in picks],
            [f for i, f in enumerate(files) if i in picks])


def _splits(root: str, train_dir: str, test_dir: str,
            fall_back: bool = True) -> Tuple[List[str], List[str], str, str]:
    """(train images, test images, train folder, test folder) of ``root/train_dir`` and
    ``root/test_dir``, or, when there is no train folder and ``fall_back``, of ``root`` itself
    (no test images)."""
    train_folder, test_folder = osp.join(root, train_dir), osp.join(root, test_dir)
    if osp.isdir(train_folder) or not fall_back:
        return images_in(train_folder), images_in(test_folder), train_folder, test_folder
    return images_in(root), [], root, test_folder


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
    side, other = direction[0], 'B' if direction[0] == 'A' else 'A'
    unpaired = layout == 'unpaired' or (
        layout == 'auto' and any(osp.isdir(osp.join(src, d)) for d in ('trainA', 'trainB')))
    if unpaired:
        train, test, train_folder, test_folder = _splits(src, f'train{side}', f'test{side}',
                                                         fall_back=False)
    else:
        train, test, train_folder, test_folder = _splits(src, 'train', 'test')
    if not train:
        hint = (f' (it has train{other}/: --direction {other}to{side})'
                if unpaired and osp.isdir(osp.join(src, f'train{other}')) else '')
        raise CompressDataError(
            f'no images ({", ".join(IMAGE_SUFFIXES)}) in {train_folder}{hint}. Give a folder of '
            'images, or one with train/ (and test/) folders of them, or CycleGAN\'s trainA/ '
            '(and testA/).')
    sizes = read_sizes(train + test, log=lambda s: None)
    bad = _unreadable(sizes)
    if bad:
        raise CompressDataError(
            f'{len(bad)} of {len(sizes)} images cannot be decoded: {bad[:5]}. Remove or '
            're-save them (e.g. with PIL) and run again.')
    if layout == 'auto':
        layout = 'unpaired' if unpaired else detect_layout(src, sizes)
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
                f'{test_folder} holds {len(test)} image(s); scoring needs at least '
                f'{MIN_HELD_OUT} (KID compares sets). Add images to it, or remove it to hold '
                'some training images out.')
        held = 'test folder'
    else:
        k = held_out_count(len(train), holdout, train_folder)
        held = f'split: {k} of {len(train)} images held out (evenly over the sorted names)'
        train, test = split_evenly(train, k)
    plan = {'train': train, 'test': test}
    for split, files in plan.items():
        folder = osp.join(out, split)
        os.makedirs(folder, exist_ok=True)
        wanted = set()
        for f in files:
            stem, suffix = osp.splitext(osp.basename(f))
            if layout == 'paired':
                name = stem + '.png'
                _write_image(f, osp.join(folder, name), direction)
            elif suffix.lower() in READ_EVERYWHERE:
                name = stem + suffix.lower()
                _link(f, osp.join(folder, name))
            else:
                name = stem + '.png'
                _write_image(f, osp.join(folder, name))
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


def _write_image(src: str, dst: str, direction: Optional[str] = None) -> None:
    """``src`` as a PNG, or the input half of an A|B image with ``direction`` (rewritten only
    when ``src`` is newer)."""
    import cv2
    if osp.exists(dst) and osp.getmtime(dst) >= osp.getmtime(src):
        return
    img = cv2.imread(src, cv2.IMREAD_COLOR)
    if direction is not None:
        half = img.shape[1] // 2
        img = img[:, :half] if direction == 'AtoB' else img[:, half:]
    tmp = dst + '.part.png'
    cv2.imwrite(tmp, img)
    os.replace(tmp, dst)
