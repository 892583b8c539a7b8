# ruff: noqa: F811
"""The teacher's translations computed once (``as_target='cached'``): what the cache holds, that
the student trains on it without running the teacher, and that a stale cache is refused."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from reko_mm.datasets import StaleCacheError, build_teacher_translations
# the photo and teacher fixtures of test_distil_your_model, shared (hence F811 below)
from test_distil_your_model import photos, run, vintage_teacher, vintagify_cfg  # noqa: F401

SIZE = 32


def cached_cfg(photos, teacher, work_dir, cache, **options):
    cfg = vintagify_cfg('vintagify_7x_nokd_cached.py', photos, teacher, work_dir, size=SIZE,
                        **options)
    ds = cfg.train_dataloader.dataset
    ds.update(data_root=str(cache), photo_root=photos, teacher_ckpt=teacher, size=SIZE)
    for t in ds.pipeline:
        if t.type == 'FixedCrop':
            t.crop_size = (SIZE, SIZE)
    return cfg


def test_the_cache_holds_the_teachers_translations_of_the_resized_photos(photos, vintage_teacher,
                                                                          tmp_path):
    teacher, source = vintage_teacher
    cache = tmp_path / 'cache'
    info = build_teacher_translations(cached_cfg(photos, teacher, tmp_path, cache),
                                      log=lambda _: None)
    assert info['built'] == 6 and info['kept'] == 0 and info['bytes'] > 0
    manifest = json.load(open(cache / 'manifest.json'))
    assert sorted(manifest['splits']['train']) == [f'{i:03d}' for i in range(6)]
    for name in manifest['splits']['train']:
        original = cv2.imread(osp.join(photos, 'train', f'{name}.jpg'))
        photo = cv2.imread(str(cache / 'train' / 'photo' / f'{name}.png'))
        target = cv2.imread(str(cache / 'train' / 'vintage' / f'{name}.png'))
        # short side SIZE (bicubic, as the config's Resize), sides cut to a multiple of 4
        h, w = original.shape[:2]
        s = SIZE / min(h, w)
        resized = cv2.resize(original, (int(w * s + 0.5), int(h * s + 0.5)),
                             interpolation=cv2.INTER_CUBIC)
        assert photo.shape[:2] == (resized.shape[0] // 4 * 4, resized.shape[1] // 4 * 4)
        assert min(photo.shape[:2]) == SIZE
        assert np.array_equal(photo, resized[:photo.shape[0], :photo.shape[1]])
        # the teacher (BGR) is the source network (RGB) with its colours flipped, on the whole
        # resized photo, rounded to 8 bits
        x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 127.5 - 1
        with torch.no_grad():
            want = source(x.flip(1)).flip(1)[0].permute(1, 2, 0).numpy() * 127.5 + 127.5
        assert np.abs(target.astype(np.float32) - want).max() <= 0.51
    # built again: everything still matches and is kept
    again = build_teacher_translations(cached_cfg(photos, teacher, tmp_path, cache),
                                       log=lambda _: None)
    assert again['built'] == 0 and again['kept'] == 6


def test_a_student_trains_on_the_cache_and_the_teacher_runs_only_to_validate(
        photos, vintage_teacher, tmp_path):
    teacher, _ = vintage_teacher
    cfg = cached_cfg(photos, teacher, tmp_path / 'run', tmp_path / 'cache', iters=3)
    build_teacher_translations(cfg, log=lambda _: None)
    seen = []
    from mmagic.models.editors import Pix2Pix
    original = Pix2Pix._get_disc_loss

    def spy(self, outputs):
        seen.append(outputs)
        return original(self, outputs)
    Pix2Pix._get_disc_loss = spy
    try:
        runner, logs, teacher_calls = run(cfg)
    finally:
        Pix2Pix._get_disc_loss = original
    assert len(logs) == 3 and all(np.isfinite(v) for log in logs for v in log.values())
    assert not [c for c in teacher_calls if c.startswith('train')]
    assert teacher_calls  # validation scores against the teacher itself
    # the discriminator's real pair is a crop of a cached translation
    targets = [cv2.imread(str(p)) for p in (tmp_path / 'cache' / 'train' / 'vintage').iterdir()]
    real = ((seen[0]['real_vintage'][0] + 1) * 127.5).permute(1, 2, 0).numpy()
    best = min(np.abs(flip[y:y + SIZE, x:x + SIZE] - real).max()
               for t in targets for flip in (t, t[:, ::-1])
               for y in range(flip.shape[0] - SIZE + 1) for x in range(flip.shape[1] - SIZE + 1))
    assert best < 1e-3


def test_a_stale_cache_is_refused_and_rebuilt_where_it_changed(photos, vintage_teacher,
                                                               tmp_path):
    teacher, _ = vintage_teacher
    import shutil
    own = tmp_path / 'photos'
    shutil.copytree(photos, own)
    cache = tmp_path / 'cache'
    cfg = cached_cfg(str(own), teacher, tmp_path / 'run', cache)
    build_teacher_translations(cfg, log=lambda _: None)
    from mmengine.runner import Runner
    # another teacher file
    other = tmp_path / 'other.pth'
    ckpt = torch.load(teacher, weights_only=True)
    ckpt['state_dict'] = {k: v + 1 if v.is_floating_point() else v
                          for k, v in ckpt['state_dict'].items()}
    torch.save(ckpt, other)
    with pytest.raises(StaleCacheError, match=r'teacher_sha256: the cache has .*'
                                               r'teacher_translations\.py'):
        Runner.from_cfg(cached_cfg(str(own), str(other), tmp_path / 'r1', cache)).train()
    # another resize
    with pytest.raises(StaleCacheError, match=r"size: the cache has 32, the config asks for 36"):
        bigger = cached_cfg(str(own), teacher, tmp_path / 'r2', cache)
        bigger.train_dataloader.dataset.size = 36
        Runner.from_cfg(bigger).train()
    # a photo changed
    img = cv2.imread(str(own / 'train' / '002.jpg'))
    cv2.imwrite(str(own / 'train' / '002.jpg'), 255 - img)
    with pytest.raises(StaleCacheError, match=r'1 photos changed since \(e\.g\. 002\)'):
        Runner.from_cfg(cached_cfg(str(own), teacher, tmp_path / 'r3', cache)).train()
    info = build_teacher_translations(cfg, log=lambda _: None)
    assert (info['built'], info['kept']) == (1, 5)
    # a folder that is not a cache is left alone
    (tmp_path / 'mine').mkdir()
    (tmp_path / 'mine' / 'notes.txt').write_text('mine')
    with pytest.raises(FileExistsError, match='not a cache'):
        build_teacher_translations(cached_cfg(str(own), teacher, tmp_path, tmp_path / 'mine'))
    assert os.listdir(tmp_path / 'mine') == ['notes.txt']


def test_cached_targets_are_refused_where_the_teacher_has_to_run_or_made_them_not(
        photos, vintage_teacher, tmp_path):
    teacher, _ = vintage_teacher
    from mmagic.registry import MODELS
    from mmagic.structures import DataSample
    cfg = vintagify_cfg('vintagify_7x.py', photos, teacher, tmp_path,
                        **{'model.teacher.as_target': 'cached'})
    with pytest.raises(ValueError, match=r"as_target='cached' .*\['reko'\].*as_target=True"):
        MODELS.build(cfg.model)
    with pytest.raises(TypeError, match=r"True, False or 'cached'"):
        MODELS.build(vintagify_cfg('vintagify_7x_nokd.py', photos, teacher, tmp_path,
                                   **{'model.teacher.as_target': 1}).model)
    model = MODELS.build(cached_cfg(photos, teacher, tmp_path, tmp_path / 'c').model)
    sample = DataSample(metainfo=dict(teacher_sha256='0' * 64))
    with pytest.raises(ValueError, match=r"made by a teacher with sha256 \['0000"):
        model._check_cached_targets(dict(inputs=dict(img_photo=torch.zeros(1, 3, 8, 8),
                                                     img_vintage=torch.zeros(1, 3, 8, 8)),
                                         data_samples=[sample]))
    with pytest.raises(KeyError, match=r"no target images 'img_vintage'"):
        model._check_cached_targets(dict(inputs=dict(img_photo=torch.zeros(1, 3, 8, 8)),
                                         data_samples=[sample]))


def test_a_student_that_is_its_teacher_scores_as_the_teacher(photos, vintage_teacher, tmp_path):
    """score_against_teacher compares the student's images with the teacher's: a student whose
    generator carries the teacher's weights matches it exactly, the photo itself does not."""
    from mmagic.registry import MODELS
    from reko_mm.apis import student_config
    from reko_mm.benchmarks.teacher_scores import scores_against_teacher
    from reko_mm.utils import load_config, safe_torch_load
    teacher, _ = vintage_teacher
    config = 'configs/reko/vintagify/vintagify_7x_nokd.py'
    options = {'model.generator.base_channels': 8, 'model.discriminator.base_channels': 8}
    model = MODELS.build(student_config(load_config(config, options)).model)
    own = safe_torch_load(teacher)['state_dict']
    model.generators['vintage'].load_state_dict(
        {k[len('generators.vintage.'):]: v for k, v in own.items()})
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'same.pth')
    out = scores_against_teacher(config, str(tmp_path / 'same.pth'), teacher,
                                 osp.join(photos, 'train'), sizes=(32, 48), num=4,
                                 cfg_options=options, log=lambda _: None,
                                 grid=str(tmp_path / 'grid.png'), grid_rows=3)
    # the picture: 3 photos x (photo | teacher | student) at the smaller size; student = teacher
    import cv2
    grid = cv2.imread(str(tmp_path / 'grid.png'))
    assert grid.shape == (3 * 32, 3 * 32, 3)
    assert np.array_equal(grid[:, 32:64], grid[:, 64:]) and not np.array_equal(grid[:, :32],
                                                                                grid[:, 32:64])
    for size in ('32', '48'):
        assert out[size]['images'] == 4
        assert out[size]['psnr'] > 90 and out[size]['ssim'] > 0.999
        # KID is an unbiased estimate over random subsets: noisy on 4 images, finite
        assert np.isfinite(out[size]['kid']) and np.isfinite(out[size]['identity_kid'])
        assert out[size]['identity_psnr'] < 40
    assert 0 < out['teacher_across_sizes']['psnr'] < 90
