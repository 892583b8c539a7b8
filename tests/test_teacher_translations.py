# ruff: noqa: F811
"""The teacher's translations computed once (``as_target='cached'``): what the cache holds, that
the student trains on it without running the teacher, and that a stale cache is refused."""
import glob
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from reko_mm.datasets import StaleCacheError, build_teacher_translations
from conftest import run_tool
# the photo and teacher fixtures of test_distil_your_model, shared (hence F811 below)
from test_distil_your_model import photos, run, vintage_teacher, vintagify_cfg  # noqa: F401

SIZE = 32


def cached_cfg(photos, teacher, work_dir, cache, name='vintagify_7x_nokd_cached.py',
               **options):
    cfg = vintagify_cfg(name, photos, teacher, work_dir, size=SIZE, **options)
    ds = cfg.train_dataloader.dataset
    ds.update(data_root=str(cache), photo_root=photos, teacher_ckpt=teacher, size=SIZE)
    for t in ds.pipeline:
        if t.type in ('FixedCrop', 'CropFlipWithFeatures'):
            t.crop_size = (SIZE, SIZE)
    return cfg


REKO_LAYERS = ['model.11', 'model.5', 'model.8']


def reko_cached_cfg(photos, teacher, work_dir, cache, **options):
    return cached_cfg(photos, teacher, work_dir, cache, name='vintagify_7x_fast.py', **options)


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


def test_cached_targets_are_refused_where_the_teacher_made_them_not(
        photos, vintage_teacher, tmp_path):
    teacher, _ = vintage_teacher
    from mmagic.registry import MODELS
    from mmagic.structures import DataSample
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
        assert out[size]['detail'] == 1.0  # the teacher's own images
    assert 0 < out['teacher_across_sizes']['psnr'] < 90

    # the teacher's translations kept for the next student: the same scores, the teacher not run
    from reko_mm.models import FrozenTeacher
    kept, lines = tmp_path / 'kept', []

    def score(**kwargs):
        return scores_against_teacher(config, str(tmp_path / 'same.pth'), teacher,
                                      osp.join(photos, 'train'), sizes=(32, 48), num=4,
                                      cfg_options=options, teacher_cache=str(kept), **kwargs)
    assert score(log=lines.append) == out
    assert lines[-1].endswith('teacher 0 read, 8 run')  # 4 photos at 2 sizes
    real_translate = FrozenTeacher.translate
    try:
        FrozenTeacher.translate = lambda *a, **k: pytest.fail('the teacher ran')
        assert score(log=lines.append) == out
    finally:
        FrozenTeacher.translate = real_translate
    assert lines[-1].endswith('teacher 8 read, 0 run')
    # the unchanged photo's detail: the mean over the photos over the mean over the teacher's
    from reko_mm.benchmarks.teacher_scores import IMAGE_SUFFIXES, detail, spread, square
    from reko_mm.utils.checkpoint import file_sha256
    files = sorted(f for f in glob.glob(osp.join(photos, 'train', '*'))
                   if f.lower().endswith(IMAGE_SUFFIXES))
    files = [files[i] for i in spread(len(files), 4)]
    for size in (32, 48):
        kept_at = kept / file_sha256(teacher)[:16] / str(size)
        ratio = np.mean([detail(square(cv2.imread(f), size)) for f in files]) / np.mean(
            [detail(cv2.imread(str(kept_at / f'{file_sha256(f)[:16]}.png'))) for f in files])
        assert 0 < ratio != 1
        assert out[str(size)]['identity_detail'] == pytest.approx(ratio, rel=1e-6)
    # zoomed: each tile is the centre half of the image, every pixel a 2x2 square
    assert score(log=lines.append, grid=str(tmp_path / 'zoom.png'), grid_rows=3,
                 grid_zoom=2) == out
    zoom = cv2.imread(str(tmp_path / 'zoom.png'))
    assert zoom.shape == grid.shape
    for col in range(3):
        assert np.array_equal(zoom[32:64, 32 * col:32 * col + 32], np.repeat(np.repeat(
            grid[32 + 8:32 + 24, 32 * col + 8:32 * col + 24], 2, 0), 2, 1))
    with pytest.raises(ValueError, match='grid_zoom is a whole number from 1, got 0'):
        score(log=lines.append, grid=str(tmp_path / 'zoom.png'), grid_zoom=0)
    from reko_mm.benchmarks.teacher_scores import TeacherTranslations
    with pytest.raises(NotADirectoryError, match='is a file; give a folder'):
        TeacherTranslations(None, teacher, str(tmp_path / 'same.pth'))


def test_a_zoom_without_a_picture_or_below_1_is_refused():
    args = ['tools/analysis_tools/score_against_teacher.py', 'cfg.py', 'ckpt.pth',
            '--teacher-ckpt', 't.pth', '--photos', 'photos', '--zoom']
    proc = run_tool(args + ['4'], check=False, timeout=300)
    assert proc.returncode == 2
    assert '--zoom enlarges the side-by-side picture: give --grid FILE too' in proc.stdout
    proc = run_tool(args + ['0', '--grid', 'grid.png'], check=False, timeout=300)
    assert proc.returncode == 2
    assert '--zoom is a whole number from 1 (1: no zoom), got 0' in proc.stdout


def test_detail_is_smaller_for_a_smoother_image_and_larger_for_a_grainier_one():
    """The scores' detail: a blurred image carries less, the same image with grain more, a flat
    one none; the colour channels count through the grey image, so an edge between two colours
    of the same grey carries (almost) none and the same edge between two greys does."""
    import cv2
    from reko_mm.benchmarks.teacher_scores import detail
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:64, :64]
    img = np.repeat((127 + 60 * np.sin(xx / 3.0) * np.cos(yy / 5.0))[..., None], 3, 2)
    blurred = cv2.GaussianBlur(img, (0, 0), 1.5)
    grainy = np.clip(img + rng.normal(0, 8, img.shape), 0, 255)
    assert detail(blurred) < detail(img) < detail(grainy)
    assert detail(np.full((64, 64, 3), 90.0)) == 0
    # BGR (100, 100, 100) and (0, 100, 138.1...) are both grey 100 (0.114 B + 0.587 G + 0.299 R)
    left, right = np.full((64, 32, 3), 100.0), np.zeros((64, 32, 3))
    right[..., 1], right[..., 2] = 100, (100 - 0.587 * 100) / 0.299
    hue_edge = np.concatenate([left, right], 1)
    assert detail(hue_edge) < 1e-3
    assert detail(np.concatenate([left, np.full((64, 32, 3), 140.0)], 1)) > 0.5


def test_the_cache_keeps_the_teachers_features_of_the_whole_resized_photo(
        photos, vintage_teacher, tmp_path):
    teacher, _ = vintage_teacher
    from mmagic.registry import MODELS
    from reko_mm.recorders import ModuleOutputRecorder
    cache = tmp_path / 'cache'
    cfg = reko_cached_cfg(photos, teacher, tmp_path, cache)
    info = build_teacher_translations(cfg, log=lambda _: None)
    assert info['built'] == 12  # 6 photos and their mirror images
    manifest = json.load(open(cache / 'manifest.json'))
    assert manifest['features'] == REKO_LAYERS and manifest['mirrored'] is True
    assert manifest['feature_strides'] == {n: 4 for n in REKO_LAYERS}
    names = sorted(manifest['splits']['train'])
    assert names == sorted([f'{i:03d}' for i in range(6)] + [f'{i:03d}~mirrored'
                                                              for i in range(6)])
    model = MODELS.build(cfg.model).eval()
    recs = {n: ModuleOutputRecorder(model.teacher['vintage'], n) for n in REKO_LAYERS}
    sizes = 0
    for name in names:
        photo = cv2.imread(str(cache / 'train' / 'photo' / f'{name}.png'))
        if name.endswith('~mirrored'):  # the mirror image of the photo, not of its translation
            plain = cv2.imread(str(cache / 'train' / 'photo' / f'{name[:3]}.png'))
            assert np.array_equal(photo, plain[:, ::-1])
        x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 127.5 - 1
        for r in recs.values():
            r.data, r._active = [], True
        with torch.no_grad():
            out = model.teacher.translate('vintage', x, exact=True)
        target = cv2.imread(str(cache / 'train' / 'vintage' / f'{name}.png')).astype(np.float32)
        assert np.abs(target - (out[0].permute(1, 2, 0).numpy() * 127.5 + 127.5)).max() <= 0.51
        with np.load(cache / 'train' / 'features' / f'{name}.npz') as z:
            assert sorted(z.files) == REKO_LAYERS
            for n in REKO_LAYERS:
                want = recs[n].get()[0].numpy()
                got = z[n]
                assert got.dtype == np.float16 and got.shape == want.shape
                assert got.shape[1:] == (photo.shape[0] // 4, photo.shape[1] // 4)
                assert np.abs(got.astype(np.float32) - want).max() <= \
                    1e-3 * np.abs(want).max() + 1e-3
        sizes += osp.getsize(cache / 'train' / 'features' / f'{name}.npz')
    assert info['bytes'] > sizes
    # a cache without the features is refused by a config that reads them, with the fix
    plain = tmp_path / 'plain'
    build_teacher_translations(cached_cfg(photos, teacher, tmp_path, plain), log=lambda _: None)
    from mmengine.runner import Runner
    with pytest.raises(StaleCacheError, match=r"features: the cache has \[\], the config asks "
                                               r"for \['model.11'.*teacher_translations\.py"):
        Runner.from_cfg(reko_cached_cfg(photos, teacher, tmp_path / 'r', plain)).train()
    # a build that would not cache a layer the terms read is refused before it starts
    short = reko_cached_cfg(photos, teacher, tmp_path, tmp_path / 'short')
    short.train_dataloader.dataset.features = ['model.5']
    with pytest.raises(ValueError, match=r"add \['model.11', 'model.8'\] to it"):
        build_teacher_translations(short, log=lambda _: None)
    assert not (tmp_path / 'short' / 'manifest.json').exists()


def test_crop_and_flip_keep_the_features_on_the_pixels_they_came_from():
    from reko_mm.datasets import CropFlipWithFeatures
    rng = np.random.default_rng(0)
    img = rng.random((24, 40, 3)).astype(np.float32)

    def block_mean(a, s):  # a stride-s feature map of an H x W x C image, channels first
        h, w, c = a.shape
        return a.reshape(h // s, s, w // s, s, c).mean((1, 3)).transpose(2, 0, 1)
    seen = set()
    for seed in range(40):
        np.random.seed(seed)
        out = CropFlipWithFeatures(['a', 'b'], (16, 16))(dict(
            a=img.copy(), b=img[..., ::-1].copy(),
            teacher_features=dict(f4=block_mean(img, 4), f8=block_mean(img, 8))))
        x, y = out['crop_pos']
        seen.add((x, y, out['flip']))
        assert x % 8 == 0 and y % 8 == 0  # the largest stride
        want = img[y:y + 16, x:x + 16]
        want = want[:, ::-1] if out['flip'] else want
        assert np.array_equal(out['a'], want) and np.array_equal(out['b'], want[..., ::-1])
        for name, s in (('f4', 4), ('f8', 8)):
            assert np.allclose(out['teacher_features'][name], block_mean(want, s), atol=1e-6)
    assert len({p[:2] for p in seen}) == 2 * 4 and {p[2] for p in seen} == {True, False}
    with pytest.raises(ValueError, match='multiple of 8'):
        CropFlipWithFeatures('a', (12, 12))(dict(a=img, teacher_features=dict(
            f8=block_mean(img, 8))))


def test_reko_trains_on_cached_features_without_the_teacher_and_reads_what_it_would_record(
        photos, vintage_teacher, tmp_path):
    teacher, _ = vintage_teacher
    from mmagic.registry import MODELS
    from mmengine import MessageHub
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import TRANSFORMS
    from reko_mm.benchmarks.step_cost import optims
    cache = tmp_path / 'cache'
    cfg = reko_cached_cfg(photos, teacher, tmp_path / 'run', cache, iters=3)
    build_teacher_translations(cfg, log=lambda _: None)
    runner, logs, teacher_calls = run(cfg)
    assert len(logs) == 3 and all(log['loss_reko_vintage'] > 0 for log in logs), logs
    assert not [c for c in teacher_calls if c.startswith('train')]
    assert teacher_calls  # validation

    # the loss on cached features is the loss on the features the teacher records on the
    # student's crop, when the crop is the whole photo and there is no flip
    from mmengine.dataset import Compose
    name = sorted(os.listdir(cache / 'train' / 'photo'))[0][:-4]
    pipeline = [dict(t) for t in cfg.train_dataloader.dataset.pipeline]
    photo = cv2.imread(str(cache / 'train' / 'photo' / f'{name}.png'))
    for t in pipeline:
        if t['type'] == 'CropFlipWithFeatures':
            t.update(crop_size=(photo.shape[1], photo.shape[0]), flip_ratio=0)
    with TRANSFORMS.switch_scope_and_registry('mmagic'):
        sample = Compose(pipeline)(dict(
            img_photo_path=str(cache / 'train' / 'photo' / f'{name}.png'),
            img_vintage_path=str(cache / 'train' / 'vintage' / f'{name}.png'),
            teacher_features_path=str(cache / 'train' / 'features' / f'{name}.npz'),
            teacher_sha256=json.load(open(cache / 'manifest.json'))['teacher_sha256']))
    live_cfg = vintagify_cfg('vintagify_7x.py', photos, teacher, tmp_path, size=SIZE,
                             **{'model.student_init': cfg.model.student_init})
    MessageHub.get_current_instance().update_info('iter', 0)
    losses = {}
    for label, model_cfg, data in (
            ('cached', cfg.model, pseudo_collate([sample])),
            ('live', live_cfg.model, dict(inputs=dict(img_photo=[sample['inputs']['img_photo']]),
                                          data_samples=[sample['data_samples']]))):
        torch.manual_seed(0)
        model = MODELS.build(model_cfg)
        model.register_distill_state_saver('test')
        calls = []
        model.teacher['vintage'].register_forward_hook(lambda *_: calls.append(1))
        logs = model.train_step(data, optims(model))
        assert calls == ([] if label == 'cached' else [1])
        losses[label] = logs['loss_reko_vintage'].item()
    assert losses['cached'] == pytest.approx(losses['live'], rel=2e-3), losses

    # a batch without the features is refused, with what to add
    model = MODELS.build(cfg.model)
    model.register_distill_state_saver('test')
    bare = pseudo_collate([sample])
    del bare['teacher_features']
    with pytest.raises(KeyError, match=r"no cached teacher_features.*features="
                                       r"\['model.11', 'model.5', 'model.8'\]"):
        model.train_step(bare, optims(model))


def test_a_features_cache_that_cannot_fit_is_refused_before_the_work(
        photos, vintage_teacher, tmp_path, monkeypatch):
    teacher, _ = vintage_teacher
    import shutil
    from collections import namedtuple
    cache = tmp_path / 'cache'
    usage = namedtuple('usage', 'total used free')
    # 12 entries (6 photos, mirrored) x 3 maps of 32 channels (the ngf-8 teacher's residual
    # blocks) x 8 x 8 at least (short side 32, stride 4), float16
    need = 12 * 3 * 2 * 32 * 8 * 8
    monkeypatch.setattr(shutil, 'disk_usage', lambda p: usage(need, need, need - 1))
    with pytest.raises(OSError, match=r'need at least 0\.0 GiB .*data_root at a disk'):
        build_teacher_translations(reko_cached_cfg(photos, teacher, tmp_path, cache),
                                   log=lambda _: None)
    assert not cache.exists()  # nothing written: the same build runs once there is room
    monkeypatch.setattr(shutil, 'disk_usage', lambda p: usage(need, 0, need))
    info = build_teacher_translations(reko_cached_cfg(photos, teacher, tmp_path, cache),
                                      log=lambda _: None)
    assert info['built'] == 12


def _replay_cfg(photos, teacher, tmp_path, cache, **options):
    """ReKo on cached features with what makes a replay worth checking: random 24x24 crops and
    flips of the 32-pixel photos, batches of 2 from 2 workers."""
    cfg = reko_cached_cfg(photos, teacher, tmp_path / 'run', cache, **options)
    cfg.train_dataloader.num_workers = 2
    cfg.model.distill.losses.reko.loss.num_regions = 16  # of a crop's 6x6 feature positions
    for t in cfg.train_dataloader.dataset.pipeline:
        if t.type == 'CropFlipWithFeatures':
            t.update(crop_size=(24, 24), flip_ratio=0.5)
    return cfg


def test_a_replay_draws_the_same_crops_and_flips_without_loading_the_features(
        photos, vintage_teacher, tmp_path, monkeypatch):
    teacher, _ = vintage_teacher
    from mmengine.registry import DATASETS, init_default_scope
    import reko_mm.datasets.transforms as transforms
    from reko_mm.datasets.replay import is_replayed
    init_default_scope('mmagic')
    cache = tmp_path / 'cache'
    cfg = _replay_cfg(photos, teacher, tmp_path, cache)
    build_teacher_translations(cfg, log=lambda _: None)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)

    def draw(replay):
        np.random.seed(3)
        dataset.set_replay(*replay)
        samples = [dataset[i % len(dataset)] for i in range(7)]
        _, key, pos, *_ = np.random.get_state()
        return samples, (key, pos)  # the position too: the key changes every 624 draws

    full, state = draw((None,))
    loads = []
    real_load = np.load
    monkeypatch.setattr(transforms.np, 'load', lambda *a, **k: loads.append(1) or
                        real_load(*a, **k))
    replayed, replay_state = draw((3, 2))  # 3 batches of 2 in the main process: 6 samples
    assert [is_replayed(s) for s in replayed] == [True] * 6 + [False]
    # the same random draws, in the same order
    assert np.array_equal(state[0], replay_state[0]) and state[1] == replay_state[1]
    assert len(loads) == 1  # the 7th sample's features only
    assert replayed[6]['inputs']['img_photo'].equal(full[6]['inputs']['img_photo'])
    for name, f in full[6]['teacher_features'].items():
        assert f.equal(replayed[6]['teacher_features'][name]), name


def test_a_resumed_run_on_cached_features_replays_cheaply_and_continues_exactly(
        photos, vintage_teacher, tmp_path):
    """5 steps in one run == 3 steps, then --resume to 5 (tools/train.py, 2 data workers)."""
    from conftest import FAST, run_tool
    teacher, _ = vintage_teacher
    cache = tmp_path / 'cache'
    cfg = _replay_cfg(photos, teacher, tmp_path, cache, iters=5)
    build_teacher_translations(cfg, log=lambda _: None)
    config = str(tmp_path / 'replay_cfg.py')
    cfg.dump(config)

    def train(work, iters, *extra):
        return run_tool(['tools/train.py', config, '--work-dir', str(tmp_path / work), *extra,
                         '--cfg-options'] + FAST[1:] + [
            'train_dataloader.batch_size=2', f'train_cfg.max_iters={iters}',
            'train_cfg.val_interval=5', 'default_hooks.checkpoint.interval=5'])
    train('straight', 5)
    train('split', 3)
    out = train('split', 5, '--resume')
    assert 'replays 3 batches, cheaply' in out.stdout, out.stdout[-3000:]
    a = torch.load(tmp_path / 'straight' / 'iter_5.pth', weights_only=False)
    b = torch.load(tmp_path / 'split' / 'iter_5.pth', weights_only=False)
    for k, v in a['state_dict'].items():
        assert torch.allclose(v.float(), b['state_dict'][k].float(), rtol=0, atol=1e-6), k


def test_a_replay_out_of_step_is_refused():
    from reko_mm.engine.hooks.checkpoint_hooks import _RestoreBeforeItem
    from reko_mm.datasets.replay import REPLAYED

    calls = []

    class Dataset:
        def set_replay(self, *args):
            calls.append(('set_replay', args))
    marker, batch = {REPLAYED: [True]}, {'inputs': 1}
    for items, match in (([marker, batch, batch], None),
                         ([batch], 'a replayed batch came back with its data'),
                         ([marker, marker], 'a new batch came back as a replay marker')):
        calls.clear()
        it = _RestoreBeforeItem(iter(items), 1, lambda: calls.append('restore'), Dataset())
        if match is None:
            assert list(it) == items
            # the replay stops, then the generators are restored, before the first new batch
            assert calls == [('set_replay', (None,)), 'restore']
        else:
            with pytest.raises(RuntimeError, match=match):
                list(it)


def test_the_cheap_replay_is_used_only_where_it_is_exact():
    """Anything that would make the new iterator draw other samples than the first one keeps
    mmengine's full replay: another sampler, workers out of turn, persistent workers, workers
    not seeded by mmengine from the run's seed."""
    from functools import partial
    from types import SimpleNamespace
    from mmengine.dataset import DefaultSampler, InfiniteSampler, worker_init_fn
    from mmengine.runner.loops import _InfiniteDataloaderIterator
    from torch.utils.data import DataLoader, Dataset
    from reko_mm.datasets.replay import CheapReplayMixin
    from reko_mm.engine.hooks.checkpoint_hooks import _replay_cheaply

    class Data(CheapReplayMixin, Dataset):
        def __len__(self):
            return 8
    data = Data()
    seeded = partial(worker_init_fn, num_workers=2, rank=0, seed=1)

    def cheap(sampler=InfiniteSampler, **kwargs):
        loader = DataLoader(data, batch_size=2, sampler=sampler(data, seed=1), **kwargs)
        loop = SimpleNamespace(dataloader=loader, dataloader_iterator=_InfiniteDataloaderIterator
                               .__new__(_InfiniteDataloaderIterator))  # no workers started
        loop.dataloader_iterator._iterator = None
        return _replay_cheaply(loop, 3) is data

    assert cheap()
    assert data._replay == (3, 2)
    assert not cheap(sampler=DefaultSampler)
    assert not cheap(in_order=False)
    assert not cheap(num_workers=2)  # torch's seeds, drawn from the main process's generator
    assert not cheap(num_workers=2, worker_init_fn=seeded, persistent_workers=True)


def test_a_resume_whose_data_workers_have_another_seed_says_so():
    from functools import partial
    from types import SimpleNamespace
    from mmengine.dataset import worker_init_fn
    from reko_mm.engine.hooks.checkpoint_hooks import data_seed_problem
    loader = SimpleNamespace(num_workers=2,
                             worker_init_fn=partial(worker_init_fn, num_workers=2, rank=0,
                                                    seed=123))
    assert data_seed_problem(loader, 123) is None
    assert 'Set randomness.seed=7 for an exact resume' in data_seed_problem(loader, 7)
    assert data_seed_problem(SimpleNamespace(num_workers=0, worker_init_fn=None), 7) is None
