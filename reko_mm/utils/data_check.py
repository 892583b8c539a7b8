"""Fail early, with the path and the expected layout, when a config's dataset folder is missing
or holds no images."""
import os
import os.path as osp
from typing import List

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.tif', '.tiff')

_LAYOUTS = {
    'UnpairedImageDataset': (
        lambda root, test: [osp.join(root, ('test' if test else 'train') + s) for s in 'AB'],
        'unpaired layout: <data_root>/trainA, trainB (training) and testA, testB (test_mode)'),
    'PairedImageDataset': (
        lambda root, test, test_dir='test': [osp.join(root, test_dir if test else 'train')],
        'paired layout: <data_root>/train and <data_root>/test, each image A|B side by side'),
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
