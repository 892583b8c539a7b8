"""Fail early, with the path and the expected layout, when a config's dataset folder is missing
or holds no images, or when its images have a size a generator cannot take."""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.tif', '.tiff')

_LAYOUTS = {
    'UnpairedImageDataset': (
        lambda root, test: [osp.join(root, ('test' if test else 'train') + s) for s in 'AB'],
        'unpaired layout: <data_root>/trainA, trainB (training) and testA, testB (test_mode)'),
    'PairedImageDataset': (
        lambda root, test, test_dir='test': [osp.join(root, test_dir if test else 'train')],
        'paired layout: <data_root>/train and <data_root>/test, each image A|B side by side'),
    'BasicImageDataset': (
        lambda root, test, prefix: [osp.join(root, p) for p in (prefix or {'img': ''}).values()],
        'folder layout: <data_root>/<data_prefix> holding the images (any sizes)'),
}


LOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')

UNET_NUM_DOWN = 8  # MMagic's UnetGenerator default


def _dataset_cfgs(cfg, keys=LOADER_KEYS) -> List[tuple]:
    found = []
    for key in keys:
        loader = cfg.get(key)
        if not loader or not loader.get('dataset'):
            continue
        ds = loader['dataset']
        # wrappers (e.g. RepeatDataset) keep the real one under 'dataset'
        while isinstance(ds.get('dataset'), dict):
            ds = ds['dataset']
        found.append((key, ds))
    return found


def check_data_roots(cfg, keys=LOADER_KEYS) -> None:
    """Raise ``FileNotFoundError`` naming each missing folder of the config's datasets
    (of the dataloaders named in ``keys``)."""
    problems = []
    for key, ds in _dataset_cfgs(cfg, keys):
        layout = _LAYOUTS.get(ds.get('type'))
        if layout is None or ds.get('data_root') is None:
            continue
        folders_of, description = layout
        args = (ds['data_root'], bool(ds.get('test_mode', False)))
        if ds.get('type') == 'PairedImageDataset':
            args += (ds.get('test_dir', 'test'),)
        elif ds.get('type') == 'BasicImageDataset':
            args += (ds.get('data_prefix'),)
        folders = folders_of(*args)
        missing = [f for f in folders if not osp.isdir(f)]
        empty = [f for f in folders if osp.isdir(f) and not _has_images(f)]
        if missing:
            problems.append(f'{key}.dataset.data_root={ds["data_root"]!r}: missing '
                            f'{", ".join(osp.abspath(m) for m in missing)} (expected the '
                            f'{description})')
        if empty:
            problems.append(f'{key}.dataset.data_root={ds["data_root"]!r}: '
                            f'{", ".join(osp.abspath(m) for m in empty)} holds no images '
                            f'({"/".join(IMG_EXTENSIONS)}); expected the {description}')
    if problems:
        raise FileNotFoundError(
            'dataset folders missing or empty:\n  ' + '\n  '.join(problems) +
            '\nPoint the config at your data with --cfg-options ' +
            ' '.join(f'{key}.dataset.data_root=...' for key in keys) +
            ', or generate the synthetic set with '
            'python tools/dataset_converters/make_synthetic.py.')


def _has_images(folder: str) -> bool:
    for _, _, files in os.walk(folder):
        if any(f.lower().endswith(IMG_EXTENSIONS) for f in files):
            return True
    return False


def _pipeline_side(pipeline) -> Optional[int]:
    """The square side a pipeline ends with (its last crop or fixed resize), if it fixes one."""
    side = None
    if isinstance(pipeline, dict):
        pipeline = [pipeline]
    for t in pipeline or []:
        size = None
        if t.get('type') in ('Crop', 'FixedCrop', 'RandomCrop') and t.get('crop_size'):
            size = t['crop_size']
        elif t.get('type') == 'Resize' and isinstance(t.get('scale'), (list, tuple)) and \
                not t.get('keep_ratio') and min(t['scale']) > 0:
            size = t['scale']
        elif t.get('type') == 'TransformBroadcaster':
            size = _pipeline_side(t.get('transforms'))
            size = (size, size) if size else None
        if size and len(size) == 2 and size[0] == size[1]:
            side = int(size[0])
    return side


def unet_side_problem(gen: dict, side: int, where: str, source: str) -> Optional[str]:
    """Why the generator config ``gen`` (``where``: its name in messages) cannot take
    ``side`` x ``side`` images (from ``source``), or None: a UNet of ``num_down`` levels needs
    sides that are multiples of ``2**num_down`` (otherwise it fails inside a convolution)."""
    if gen.get('type') != 'UnetGenerator':
        return None
    num_down = int(gen.get('num_down', UNET_NUM_DOWN))
    need = 2**num_down
    if side % need == 0:
        return None
    fit = max(n for n in range(1, 13) if side % 2**n == 0) if side % 2 == 0 else 0
    return (f'{where} is a UnetGenerator with num_down={num_down}: it needs image sides that '
            f'are multiples of {need}, but {source} gives {side}x{side} images. Crop to a '
            f'multiple of {need} (e.g. {need}), or use a generator of num_down <= {fit}' +
            (' (and a teacher trained so)' if 'teacher' in where else '') + '.')


def check_input_sizes(cfg, generators: Dict[str, dict], keys=LOADER_KEYS) -> None:
    """Raise ``ValueError`` when a UNet of ``generators`` (``{'model.generator': cfg, ...}``, as
    :func:`reko_mm.apis.generators_of` resolves them) cannot take the images the config's
    pipelines crop (:func:`unet_side_problem`)."""
    for key, ds in _dataset_cfgs(cfg, keys):
        side = _pipeline_side(ds.get('pipeline'))
        if not side:
            continue
        for where, gen in generators.items():
            problem = unet_side_problem(gen, side, where, key)
            if problem:
                raise ValueError(problem)


# the datasets that leave out the unreadable files (reko_mm/datasets/excluding.py)
EXCLUDING = {'UnpairedImageDataset': 'ExcludingUnpairedImageDataset',
             'PairedImageDataset': 'ExcludingPairedImageDataset',
             'BasicImageDataset': 'ExcludingBasicImageDataset'}


class DataCheckError(ValueError):
    """Images a training run cannot use, found before its first step."""


def _images_in(folder: str) -> List[str]:
    out = []
    for root, _, files in os.walk(folder):
        out += [osp.join(root, f) for f in files if f.lower().endswith(IMG_EXTENSIONS)]
    return sorted(out)


def dataset_images(ds: dict) -> List[str]:
    """The image files a dataset config reads (MMagic's unpaired, paired and folder layouts)."""
    layout = _LAYOUTS.get(ds.get('type', '').replace('Excluding', ''))
    if layout is None or ds.get('data_root') is None:
        return []
    args = (ds['data_root'], bool(ds.get('test_mode', False)))
    if ds['type'].endswith('PairedImageDataset') and 'Unpaired' not in ds['type']:
        args += (ds.get('test_dir', 'test'),)
    elif ds['type'].endswith('BasicImageDataset'):
        args += (ds.get('data_prefix'),)
    return [f for folder in layout[0](*args) if osp.isdir(folder) for f in _images_in(folder)]


def _decode(path: str):
    import cv2
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    return None if img is None else img.shape[:2]


def read_sizes(paths: List[str], workers: int = 2, log=print) -> Dict[str, Optional[tuple]]:
    """``{path: (h, w) or None}``: every image decoded (OpenCV, as MMagic's loader reads them),
    ``workers`` at a time, with a progress line every quarter."""
    import time
    from concurrent.futures import ThreadPoolExecutor
    out, t0, step = {}, time.time(), max(1, len(paths) // 4)
    with ThreadPoolExecutor(workers) as pool:
        for i, (path, size) in enumerate(zip(paths, pool.map(_decode, paths)), 1):
            out[path] = size
            if i % step == 0 and i < len(paths):
                elapsed = time.time() - t0
                log(f'data check: {i}/{len(paths)} images decoded, {elapsed:.0f} s, about '
                    f'{elapsed / i * (len(paths) - i):.0f} s left')
    return out


def _fixed_size(pipeline) -> Tuple[Optional[tuple], Optional[int], Optional[tuple]]:
    """What a pipeline does to sizes: ``(crop (h, w), short side its resize sets, fixed
    (h, w) its resize sets)``, each None when it does not."""
    crop = short = fixed = None
    if isinstance(pipeline, dict):
        pipeline = [pipeline]
    for t in pipeline or []:
        kind = t.get('type')
        if kind == 'TransformBroadcaster':
            c, s, f = _fixed_size(t.get('transforms'))
            crop, short, fixed = c or crop, s or short, f or fixed
        elif kind == 'Resize' and isinstance(t.get('scale'), (list, tuple)):
            scale = tuple(t['scale'])
            if min(scale) == -1 or t.get('keep_ratio'):
                short, fixed = max(scale) if min(scale) == -1 else min(scale), None
            else:
                fixed, short = scale, None
            crop = None
        elif kind in ('Crop', 'FixedCrop', 'RandomCrop') and t.get('crop_size'):
            crop = tuple(t['crop_size'])
    return crop, short, fixed


def check_images(cfg, keys=LOADER_KEYS, workers: int = 2, log=print) -> int:
    """Decode every image the config's datasets read, before training, and refuse what would
    fail or mislead later: unreadable files (unless ``data_check.skip_unreadable=True``, which
    leaves them out and says how many), paired images whose width is not twice their height,
    images smaller than the pipeline's crop, and mixed sizes where a batch needs equal ones.
    Returns the number of images left out. Raises :class:`DataCheckError`."""
    skip = bool((cfg.get('data_check') or {}).get('skip_unreadable', False))
    found = _dataset_cfgs(cfg, keys)
    paths = sorted({p for _, ds in found for p in dataset_images(ds)})
    if not paths:
        return 0
    import time
    t0 = time.time()
    sizes = read_sizes(paths, workers, log)
    bad = [p for p, s in sizes.items() if s is None]
    log(f'data check: {len(paths)} images decoded in {time.time() - t0:.1f} s, '
        f'{len(bad)} unreadable')
    if bad and not skip:
        raise DataCheckError(
            f'{len(bad)} of {len(paths)} images cannot be read (not an image, or truncated): '
            + ', '.join(bad[:5]) + (f' and {len(bad) - 5} more' if len(bad) > 5 else '') +
            '. Replace or remove them, or train without them with --cfg-options '
            'data_check.skip_unreadable=True.')
    problems = []
    for key, ds in found:
        files = [p for p in dataset_images(ds) if sizes.get(p)]
        paired = ds.get('type', '').endswith('PairedImageDataset') and \
            'Unpaired' not in ds['type']
        if paired:
            wrong = [p for p in files if sizes[p][1] != 2 * sizes[p][0]]
            if wrong:
                problems.append(f'{key}: {len(wrong)} paired images are not twice as wide as '
                                f'they are high (A|B side by side): {wrong[:3]} '
                                f'{[sizes[p] for p in wrong[:3]]}')
        halves = {p: (sizes[p][0], sizes[p][1] // 2) if paired else sizes[p] for p in files}
        crop, short, fixed = _fixed_size(ds.get('pipeline'))
        if crop and not fixed:
            if short is not None:
                if min(crop) > short:
                    problems.append(f'{key}: the pipeline resizes the short side to {short} and '
                                    f'then crops {crop}, which is larger')
            else:
                small = [p for p, (h, w) in halves.items() if h < crop[0] or w < crop[1]]
                if small:
                    problems.append(f'{key}: {len(small)} images are smaller than the crop '
                                    f'{crop} (h, w): {small[:3]} {[halves[p] for p in small[:3]]}'
                                    '; resize them first or crop smaller')
        loader = cfg.get(key) or {}
        if loader.get('batch_size', 1) > 1 and not crop and not fixed and \
                len(set(halves.values())) > 1:
            shown = sorted(set(halves.values()))[:4]
            problems.append(f'{key}: batches of {loader["batch_size"]} need images of one size, '
                            f'but they come in {len(set(halves.values()))} sizes ({shown}...) '
                            'and the pipeline neither resizes nor crops them to one')
    if problems:
        raise DataCheckError('the data cannot be trained on as configured:\n  ' +
                             '\n  '.join(problems))
    if bad:
        for key, ds in found:
            ds['exclude'] = [p for p in dataset_images(ds) if p in set(bad)]
            ds['type'] = EXCLUDING.get(ds['type'], ds['type'])
        log(f'data check: training without the {len(bad)} unreadable images '
            '(data_check.skip_unreadable=True): ' + ', '.join(bad[:5]))
    return len(bad)
