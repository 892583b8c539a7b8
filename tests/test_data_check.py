"""Bad data is refused before the first step, with the files and the fix; unreadable files
can be left out on request."""
import os

import cv2
import numpy as np
import pytest
from mmengine.config import Config

import reko_mm  # noqa: F401
from mmagic.registry import DATASETS
from mmengine.registry import init_default_scope

from conftest import ROOT
from reko_mm.utils import DataCheckError, check_images

init_default_scope('mmagic')


def image(path, h, w, seed=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 255, (h, w, 3), np.uint8))


def unpaired(root, sizes_a=((64, 64),) * 4, sizes_b=((64, 64),) * 4):
    for split in ('train', 'test'):
        for domain, sizes in (('A', sizes_a), ('B', sizes_b)):
            for i, (h, w) in enumerate(sizes):
                image(root / f'{split}{domain}' / f'{i}.png', h, w, i)
    return str(root)


def config(name, root, **loader):
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'reko', name))
    for key in ('train_dataloader', 'val_dataloader'):
        if cfg.get(key):
            cfg[key].dataset.data_root = root
    cfg.train_dataloader.update(loader)
    return cfg


def bad_file(root):
    (root / 'trainA' / '2.png').write_text('not an image')


CASES = {
    'an unreadable image': (
        lambda r: (unpaired(r), bad_file(r)), 'synthetic/cyclegan_synthetic_teacher.py', {},
        r'1 of 8 images cannot be read .*trainA/2\.png.*data_check\.skip_unreadable=True'),
    'paired images that are not A|B': (
        lambda r: [image(r / s / f'{i}.png', 64, 64 + 64 * (i != 1), i)
                   for s in ('train', 'test') for i in range(3)],
        'synthetic/pix2pix_synthetic_teacher.py', {},
        r'1 paired images are not twice as wide as they are high .*train/1\.png'),
    'mixed sizes in a batch': (
        lambda r: unpaired(r, sizes_b=((64, 64), (64, 64), (48, 64), (64, 64))),
        'synthetic/cyclegan_synthetic_teacher.py', dict(batch_size=2),
        r'batches of 2 need images of one size, but they come in 2 sizes'),
    'a crop larger than the resized images': (
        lambda r: [image(r / s / f'{i}.png', 80, 60, i) for s in ('train', 'test')
                   for i in range(3)],
        'vintagify/vintagify_7x_nokd.py', {},
        r'resizes the short side to 256 and then crops \(300, 300\), which is larger'),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_bad_data_is_refused_before_training_with_the_files(case, tmp_path):
    make, name, loader, message = CASES[case]
    make(tmp_path)
    cfg = config(name, str(tmp_path))
    cfg.train_dataloader.update(loader)
    if case == 'a crop larger than the resized images':
        cfg.train_dataloader.dataset.pipeline[2].crop_size = (300, 300)
    with pytest.raises(DataCheckError, match=message):
        check_images(cfg, log=lambda _: None)


def test_images_smaller_than_a_crop_without_resize_are_named(tmp_path):
    for s in ('train', 'test'):
        for i in range(3):
            image(tmp_path / s / f'{i}.png', 64 if i else 20, 128 if i else 40, i)
    cfg = config('bands/pix2pix_bands_teacher.py', str(tmp_path))
    cfg.train_dataloader.dataset.pipeline.insert(1, dict(type='Crop', keys=['img_A', 'img_B'],
                                                         crop_size=(32, 32)))
    with pytest.raises(DataCheckError, match=r'1 images are smaller than the crop \(32, 32\)'):
        check_images(cfg, log=lambda _: None)


def test_unreadable_images_can_be_left_out_and_are_counted(tmp_path):
    unpaired(tmp_path)
    bad_file(tmp_path)
    cfg = config('synthetic/cyclegan_synthetic_teacher.py', str(tmp_path))
    cfg.merge_from_dict({'data_check.skip_unreadable': True})
    lines = []
    assert check_images(cfg, log=lines.append) == 1
    assert any('training without the 1 unreadable images' in line for line in lines), lines
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert type(dataset).__name__ == 'ExcludingUnpairedImageDataset'
    assert dataset.len_a == 3 and dataset.len_b == 4
    assert all('2.png' not in i['path'] for i in dataset.data_infos_a)
    dataset[0]  # the rest loads
