"""Fail early, with the path and the expected layout, when a config's dataset folder is missing."""
import os.path as osp
from typing import List

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
        missing = [f for f in folders_of(*args) if not osp.isdir(f)]
        if missing:
            problems.append(f'{key}.dataset.data_root={ds["data_root"]!r}: missing '
                            f'{", ".join(osp.abspath(m) for m in missing)} (expected the '
                            f'{description})')
    if problems:
        raise FileNotFoundError(
            'dataset folders not found:\n  ' + '\n  '.join(problems) +
            '\nPoint the config at your data with --cfg-options ' +
            ' '.join(f'{key}.dataset.data_root=...' for key in keys) +
            ', or generate the synthetic set with '
            'python tools/dataset_converters/make_synthetic.py.')
