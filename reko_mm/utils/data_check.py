"""Fail early, with the path and the expected layout, when a config's dataset folder is missing
or holds no images, or when its images have a size a generator cannot take."""
import os
import os.path as osp
from typing import Dict, List, Optional

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


def check_input_sizes(cfg, generators: Dict[str, dict], keys=LOADER_KEYS) -> None:
    """Raise ``ValueError`` when a UNet of ``generators`` (``{'model.generator': cfg, ...}``, as
    :func:`reko_mm.apis.generators_of` resolves them) cannot take the
    images the config's pipelines crop: a UNet of ``num_down`` levels needs sides that are
    multiples of ``2**num_down`` (otherwise it fails inside a convolution at the first step)."""
    for key, ds in _dataset_cfgs(cfg, keys):
        side = _pipeline_side(ds.get('pipeline'))
        if not side:
            continue
        for where, gen in generators.items():
            if gen.get('type') != 'UnetGenerator':
                continue
            need = 2**int(gen.get('num_down', 8))
            if side % need:
                fit = max(n for n in range(1, 13) if side % 2**n == 0) if side % 2 == 0 else 0
                raise ValueError(
                    f'{where} is a UnetGenerator with num_down={gen.get("num_down", 8)}: it '
                    f'needs image sides that are multiples of {need}, but {key} gives '
                    f'{side}x{side} images. Crop to a multiple of {need} (e.g. {need}), or use a '
                    f'generator of num_down <= {fit}' + (' (and a teacher trained so)'
                                                          if 'teacher' in where else '') + '.')
