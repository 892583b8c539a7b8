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


def test_bands_set_has_ground_truth_both_ways(tmp_path):
    """kind='bands': A and B differ exactly on the dark bands inside the objects; the test
    splits hold the same scene at the same index (training stays unpaired)."""
    from reko_mm.datasets import band_pattern, render_bands_scene
    root = str(tmp_path / 'bands')
    counts = generate_synthetic_dataset(root, 'unpaired', num_train=4, num_test=3, size=32,
                                        seed=5, kind='bands')
    assert counts == dict(trainA=4, trainB=4, testA=3, testB=3)
    for i in range(3):
        a = cv2.imread(os.path.join(root, 'testA', f'{i:04d}.png')).astype(int)
        b = cv2.imread(os.path.join(root, 'testB', f'{i:04d}.png')).astype(int)
        mask = load_mask(root, 'testA', f'{i:04d}.png')
        assert np.array_equal(mask, load_mask(root, 'testB', f'{i:04d}.png'))
        differ = np.abs(a - b).max(-1) > 0
        assert differ.any() and not (differ & ~mask).any(), 'only the objects differ'
        assert np.array_equal(differ, band_pattern(mask) & (np.abs(a - b).max(-1) > 0))
        assert (b[band_pattern(mask)] <= 25).all(), 'bands are dark'
    ta = cv2.imread(os.path.join(root, 'trainA', '0000.png'))
    tb = cv2.imread(os.path.join(root, 'trainB', '0000.png'))
    assert not np.array_equal(load_mask(root, 'trainA', '0000.png'),
                              load_mask(root, 'trainB', '0000.png')), 'training is unpaired'
    assert ta.shape == tb.shape == (32, 32, 3)
    # the boundary pixels are in the first (dark) band, the core keeps the colour
    scene = render_bands_scene(11, 32)
    obj = scene['mask'] > 0
    inner = cv2.erode(obj.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert band_pattern(obj)[obj & ~inner].all()
    with pytest.raises(ValueError, match="kind must be one of"):
        generate_synthetic_dataset(str(tmp_path / 'x'), kind='dots')


def test_scene_mask_transform(tmp_path):
    from reko_mm.datasets import LoadSceneMask
    root = str(tmp_path / 'bands')
    generate_synthetic_dataset(root, 'paired', num_train=1, num_test=1, size=32, kind='bands')
    out = LoadSceneMask(path_key='pair_path', key='scene_mask')(
        dict(pair_path=os.path.join(root, 'test', '0000.png')))
    assert out['scene_mask'].shape == (32, 32, 1)
    assert np.array_equal(out['scene_mask'][..., 0] > 0, load_mask(root, 'test', '0000.png'))
    with pytest.raises(FileNotFoundError, match='no object mask for .*make_synthetic'):
        LoadSceneMask(path_key='p')(dict(p=str(tmp_path / 'elsewhere' / 'x' / 'a.png')))


def test_ground_truth_error_formula():
    import math
    import torch
    from reko_mm.evaluation import GroundTruthError
    g = torch.Generator().manual_seed(0)
    gt = torch.randint(0, 256, (3, 4, 4), generator=g).float()
    fake = (gt + torch.randint(-20, 21, (3, 4, 4), generator=g)).clamp(0, 255)
    mask = torch.zeros(1, 4, 4)
    mask[0, :2] = 1
    metric = GroundTruthError(fake_key=['fake_b', 'fake_a'], gt_key=['img_b', 'img_a'],
                              prefix='GT')
    metric.process({}, [dict(fake_b=fake, img_b=gt, fake_a=gt, img_a=gt, mask=mask)])
    out = metric.compute_metrics(metric.results)
    err = fake - gt
    obj, bg = err[:, :2], err[:, 2:]

    def psnr(e):
        return 10 * math.log10(255**2 / max(float((e**2).mean()), 1e-10))
    # the mean over the two directions (the second one exact)
    assert out['psnr'] == pytest.approx((psnr(err) + psnr(err * 0)) / 2, rel=1e-6)
    assert out['psnr_obj'] == pytest.approx((psnr(obj) + psnr(obj * 0)) / 2, rel=1e-6)
    assert out['l1_bg'] == pytest.approx(float(bg.abs().mean()) / 255 / 2, rel=1e-6)
    assert 'ssim' not in out  # 4x4 images: smaller than SSIM's 11x11 window
    with pytest.raises(KeyError, match="no 'mask'.*LoadSceneMask"):
        metric.process({}, [dict(fake_b=fake, img_b=gt, fake_a=gt, img_a=gt)])
    # without a mask (a teacher-target student against the teacher's images): the whole image,
    # and SSIM (MMagic's) for images the size of its window or more
    from mmagic.evaluation.metrics.ssim import ssim
    big_gt = torch.randint(0, 256, (3, 16, 16), generator=g).float()
    big_fake = (big_gt + torch.randint(-30, 31, (3, 16, 16), generator=g)).clamp(0, 255)
    metric = GroundTruthError(fake_key='fake_v', gt_key='teacher_v', mask_key=None)
    metric.process({}, [dict(fake_v=big_fake, teacher_v=big_gt), dict(fake_v=big_gt,
                                                                      teacher_v=big_gt)])
    out = metric.compute_metrics(metric.results)
    assert sorted(out) == ['l1', 'psnr', 'ssim']
    want = (ssim(big_fake.numpy(), big_gt.numpy(), input_order='CHW') + 1.0) / 2
    assert out['ssim'] == pytest.approx(want, rel=1e-6) and 0.5 < out['ssim'] < 1
