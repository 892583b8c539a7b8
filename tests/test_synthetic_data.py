"""The synthetic generator writes MMagic's layouts, deterministically, with correct masks."""
import os

import cv2
import numpy as np
import pytest

from reko_mm.datasets import generate_synthetic_dataset, load_mask, render_scene


def test_unpaired_layout_is_read_by_mmagic(synthetic_unpaired):
    from mmagic.datasets import UnpairedImageDataset
    from mmagic.utils import register_all_modules
    register_all_modules()
    pipeline = [dict(type='LoadImageFromFile', key='img_A'),
                dict(type='LoadImageFromFile', key='img_B')]
    train = UnpairedImageDataset(synthetic_unpaired, pipeline, domain_a='A', domain_b='B')
    test = UnpairedImageDataset(synthetic_unpaired, pipeline, domain_a='A', domain_b='B',
                                test_mode=True)
    assert len(train) == 8 and len(test) == 4
    sample = train[0]
    assert sample['img_A'].shape == (64, 64, 3) and sample['img_B'].shape == (64, 64, 3)
    for split in ('trainA', 'trainB', 'testA', 'testB'):
        assert sorted(os.listdir(os.path.join(synthetic_unpaired, 'masks', split))) == \
            sorted(os.listdir(os.path.join(synthetic_unpaired, split)))


def test_paired_layout_is_read_by_mmagic(synthetic_paired):
    from mmagic.datasets import PairedImageDataset
    from mmagic.utils import register_all_modules
    register_all_modules()
    pipeline = [dict(type='LoadPairedImageFromFile', key='pair', domain_a='A', domain_b='B')]
    train = PairedImageDataset(synthetic_paired, pipeline)
    test = PairedImageDataset(synthetic_paired, pipeline, test_mode=True)
    assert len(train) == 8 and len(test) == 4
    sample = train[3]
    assert sample['img_A'].shape == (64, 64, 3) and sample['img_B'].shape == (64, 64, 3)
    mask = load_mask(synthetic_paired, 'train', sample['pair_path'])
    differs = np.abs(sample['img_A'].astype(int) - sample['img_B'].astype(int)).max(-1) > 0
    # the two halves differ only on the objects
    assert not differs[~mask].any()
    assert differs[mask].mean() > 0.5


@pytest.mark.parametrize('seed', range(20))
def test_masks_match_the_objects(seed):
    scene = render_scene(seed, size=64)
    mask = scene['mask'] > 0
    assert 0.02 < mask.mean() < 0.9
    diff = np.abs(scene['flat'].astype(int) - scene['striped'].astype(int)).max(-1)
    assert (diff[~mask] == 0).all(), 'background must be identical in both domains'
    # inside the objects the domains differ almost everywhere (stripes vs flat colour)
    assert (diff[mask] > 0).mean() > 0.8


def test_deterministic_and_any_size(tmp_path):
    a = render_scene(7, size=48)
    b = render_scene(7, size=48)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert a['flat'].shape == (48, 48, 3)
    assert not np.array_equal(render_scene(8, 48)['flat'], a['flat'])
    counts = generate_synthetic_dataset(str(tmp_path / 'p'), 'paired', 3, 2, size=32, seed=5)
    assert counts == {'train': 3, 'test': 2}
    img = cv2.imread(str(tmp_path / 'p' / 'train' / '0002.png'))
    assert img.shape == (32, 64, 3)


def test_refuses_to_overwrite_user_data(tmp_path):
    root = tmp_path / 'mine'
    root.mkdir()
    (root / 'precious.txt').write_text('keep me')
    with pytest.raises(FileExistsError, match='not empty'):
        generate_synthetic_dataset(str(root), 'unpaired', 2, 1)
    assert (root / 'precious.txt').read_text() == 'keep me'
    assert not (root / 'trainA').exists()
