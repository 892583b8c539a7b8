"""The teacher's translations computed once: a folder of photos becomes a paired set.

This is GAN Compression's recipe for CycleGAN teachers. A teacher-target student
(``model.teacher.as_target='cached'``) then trains on ``photo | teacher(photo)`` pairs without
running the teacher at every step. Feature-distilling methods (every ``distill`` term: ReKo, AT,
CAT, VID, SRPKD, OMGD, GAN Compression's, GCC, Hinton's) still run it, since they read its
features or its output on the very crop the student sees.

A cache folder (the ``data_root`` of :class:`TeacherTranslationDataset`)::

    manifest.json               what it was made from: the teacher file (sha256), the resize,
                                and each photo (sha256)
    <split>/<source>/<name>.png the photo resized as the config's pipeline resizes it (short
                                side ``size``), its sides cut down to a multiple of 4
    <split>/<target>/<name>.png the teacher's float32 translation of that whole image, in 8 bits
    <split>/features/<name>.npz with ``features=[layer, ...]`` only: the teacher's outputs at
                                those layers on that image, float16, channels first
    <split>/*/<name>~mirrored.* with ``mirrored=True`` only: the same for the photo's mirror
                                image (the teacher's own translation of it)

Training crops both images at the same place (MMagic's ``FixedCrop``), so the target is
``crop(teacher(photo))`` where the teacher-target config uses ``teacher(crop(photo))``, and
flips both, so a flipped target is ``flip(teacher(photo))``, not ``teacher(flip(photo))``;
``docs/benchmarks.md`` measures both differences. ``mirrored=True`` makes the flip exact: each
mirror image is an entry with its own translation, and the pipeline does not flip. With
``features`` the distillation terms read the teacher's cached features too, so they train
without running the teacher as well
(:class:`~reko_mm.datasets.transforms.CropFlipWithFeatures` crops the images at a multiple of
the layers' stride and the features at the same place; the sides are cut to that multiple).
The dataset refuses a cache made from another teacher file, another resize, other layers, or
photos that changed since: rebuild it with ``tools/dataset_converters/teacher_translations.py``.
"""
import copy
import json
import os
import os.path as osp
import shutil
import time
from typing import Dict, List, Optional, Sequence

from mmengine.dataset import BaseDataset
from mmagic.registry import DATASETS

from ..utils.checkpoint import file_sha256
from .replay import CheapReplayMixin

MANIFEST = 'manifest.json'
CACHE_VERSION = 1
FEATURES = 'features'  # the folder of the cached teacher features, beside <source>, <target>
MIRROR = '~mirrored'  # with mirrored=True: the entry of a photo's mirror image is <name>~mirrored
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
BUILD_COMMAND = 'python tools/dataset_converters/teacher_translations.py CONFIG'


class StaleCacheError(ValueError):
    """The cache does not hold what the config asks for."""


def list_photos(folder: str) -> List[str]:
    """The image files of ``folder`` (not recursive), sorted by name."""
    if not osp.isdir(folder):
        raise FileNotFoundError(f'photo folder not found: {osp.abspath(folder)}')
    return sorted(osp.join(folder, f) for f in os.listdir(folder)
                  if f.lower().endswith(IMAGE_SUFFIXES))


def cache_key(teacher_ckpt: str, size: int, interpolation: str,
              features: Sequence[str] = (), mirrored: bool = False) -> dict:
    """What every entry of a cache depends on besides its photo (``features``: the teacher
    layers whose outputs it keeps; ``mirrored``: whether it keeps each photo's mirror image as
    an entry of its own; a cache made before they existed has neither)."""
    return dict(version=CACHE_VERSION, teacher_sha256=file_sha256(teacher_ckpt), size=int(size),
                interpolation=interpolation, features=sorted(features), mirrored=bool(mirrored))


# what a manifest written before a key existed holds for it
_KEY_DEFAULTS = dict(features=[], mirrored=False)


def _manifest_value(manifest: dict, k: str):
    return manifest.get(k, _KEY_DEFAULTS.get(k))


def entry_names(photos: Dict[str, str], mirrored: bool) -> Dict[str, str]:
    """``{entry name: photo sha256}`` of a cache of ``photos`` (``{name: sha256}``)."""
    if not mirrored:
        return dict(photos)
    return {n: sha for name, sha in photos.items() for n in (name, name + MIRROR)}


def read_manifest(cache_dir: str) -> Optional[dict]:
    path = osp.join(cache_dir, MANIFEST)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def stale_entries(manifest: Optional[dict], key: dict, split: str, photos: Dict[str, str]
                  ) -> List[str]:
    """Why ``manifest`` does not hold ``photos`` (``{name: sha256}``) under ``key``: an empty
    list when it does."""
    if manifest is None:
        return ['no manifest.json (the cache was never built)']
    problems = [f'{k}: the cache has {_manifest_value(manifest, k)!r}, the config asks for {v!r}'
                for k, v in key.items() if _manifest_value(manifest, k) != v]
    if problems:
        return problems
    have = {name: e['sha256'] for name, e in manifest.get('splits', {}).get(split, {}).items()}
    missing = sorted(set(photos) - set(have))
    extra = sorted(set(have) - set(photos))
    changed = sorted(n for n in set(photos) & set(have) if photos[n] != have[n])
    for what, names in (('photos not in the cache', missing), ('cached photos no longer in '
                        'the photo folder', extra), ('photos changed since', changed)):
        if names:
            problems.append(f'{len(names)} {what} (e.g. {names[0]})')
    return problems


def photo_hashes(photo_root: str, split: str) -> Dict[str, str]:
    return {osp.splitext(osp.basename(p))[0]: file_sha256(p)
            for p in list_photos(osp.join(photo_root, split))}


@DATASETS.register_module()
class TeacherTranslationDataset(CheapReplayMixin, BaseDataset):
    """Pairs ``img_<source>`` (the photo at the training resize) and ``img_<target>`` (the
    teacher's translation of it) from a cache built by :func:`build_teacher_translations`.

    Before anything is loaded the cache is checked against ``teacher_ckpt`` (sha256 of the file),
    ``size``, ``interpolation`` and the photos of ``photo_root/<split>`` (sha256 of each): a
    cache that does not match is refused with the command that rebuilds it. Each sample carries
    ``teacher_sha256``, which ``TeacherStudentGAN`` (``as_target='cached'``) checks against its
    own teacher.

    Args:
        data_root (str): the cache folder.
        photo_root (str): the photo folder the cache was made from (``train/``, ``test/``).
        teacher_ckpt (str): the teacher checkpoint the config distils.
        size (int): the short side the photos are resized to.
        source, target (str): the domains (``img_<source>`` and ``img_<target>`` keys).
        split (str): ``'train'`` (default) or ``'test'``.
        interpolation (str): the resize's interpolation (default ``'bicubic'``).
        mirrored (bool): each photo's mirror image is an entry of its own, with the teacher's
            own translation (and features) of it; the training pipeline then does not flip
            (a flipped translation is not the teacher's translation of the flipped photo:
            ``docs/benchmarks.md`` measures the gap). Default False.
        features (list[str]): teacher layers (names in the teacher generator's
            ``named_modules()``, as the distillation terms name them) whose outputs the cache
            keeps; each sample then has ``teacher_features_path`` (load it with
            ``LoadTeacherFeatures``). Default: none (the teacher-target baseline).

    A resumed run replays the batches it has trained without reading their features
    (:mod:`reko_mm.datasets.replay`).
    """

    def __init__(self, data_root: str, photo_root: str, teacher_ckpt: str, size: int,
                 source: str, target: str, split: str = 'train',
                 interpolation: str = 'bicubic', features: Sequence[str] = (),
                 mirrored: bool = False, **kwargs):
        self.photo_root, self.teacher_ckpt, self.size = photo_root, teacher_ckpt, int(size)
        self.source, self.target, self.split = source, target, split
        self.interpolation = interpolation
        self.features = _layer_list(features)
        self.mirrored = bool(mirrored)
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.teacher_ckpt):
            raise FileNotFoundError(
                f'teacher checkpoint not found: {osp.abspath(self.teacher_ckpt)}')
        key = cache_key(self.teacher_ckpt, self.size, self.interpolation, self.features,
                        self.mirrored)
        manifest = read_manifest(self.data_root)
        problems = stale_entries(manifest, key, self.split, entry_names(
            photo_hashes(self.photo_root, self.split), self.mirrored))
        if problems:
            raise StaleCacheError(
                f"the teacher's translations in {osp.abspath(self.data_root)} do not match this "
                f'config (teacher {self.teacher_ckpt}, photos {self.photo_root}/{self.split}, '
                f'short side {self.size}, {self.interpolation}, teacher features '
                f'{self.features or "none"}, mirrored {self.mirrored}): ' + '; '.join(problems) +
                f'. Build them (entries that still match are kept): {BUILD_COMMAND}')
        folder = osp.join(self.data_root, self.split)
        data = []
        for name in sorted(manifest['splits'][self.split]):
            entry = {f'img_{self.source}_path': osp.join(folder, self.source, f'{name}.png'),
                     f'img_{self.target}_path': osp.join(folder, self.target, f'{name}.png'),
                     'teacher_sha256': key['teacher_sha256']}
            if self.features:
                entry['teacher_features_path'] = osp.join(folder, FEATURES, f'{name}.npz')
            data.append(entry)
        return data


def _layer_list(features) -> List[str]:
    if isinstance(features, str):
        features = [features]
    features = list(features or ())
    if not all(isinstance(f, str) and f for f in features):
        raise TypeError(f'features must be a list of teacher layer names, got {features!r}')
    return features


def feature_shapes(generator, layers: Sequence[str], probe: int = 256) -> Dict[str, dict]:
    """``{layer: dict(stride=, channels=)}``: how many input pixels each layer's output
    position spans (input side / output side) and its channels, from one dry run of
    ``generator`` at ``probe`` x ``probe``."""
    import torch
    from contextlib import ExitStack
    from ..recorders import ModuleOutputRecorder
    recorders = {n: ModuleOutputRecorder(generator, n, 'teacher generator') for n in layers}
    param = next(generator.parameters())
    try:
        with torch.no_grad(), ExitStack() as stack:
            for r in recorders.values():
                stack.enter_context(r.recording())
            generator(torch.zeros(1, 3, probe, probe, dtype=param.dtype, device=param.device))
        shapes = {}
        for n, r in recorders.items():
            c, h, w = r.get().shape[-3:]
            if h != w or probe % h:
                raise ValueError(f'teacher layer {n!r} gives a {h}x{w} map for a {probe}x'
                                 f'{probe} input: not a whole stride; cache another layer')
            shapes[n] = dict(stride=probe // h, channels=c)
        return shapes
    finally:
        for r in recorders.values():
            r.remove()


def atomic_write_png(path: str, img) -> None:
    """Write ``img`` to ``path`` through a file of this process, renamed: a reader never sees a
    half-written image, and two writers never share the temporary file."""
    import cv2
    tmp = f'{path}.{os.getpid()}.partial.png'
    if not cv2.imwrite(tmp, img):
        raise OSError(f'could not write {tmp}')
    os.replace(tmp, path)


def build_teacher_translations(cfg, log=print) -> dict:
    """Write the cache the config's ``train_dataloader`` (a :class:`TeacherTranslationDataset`)
    reads: each photo resized by the config's own ``Resize`` and translated by the config's
    teacher, through the model's data preprocessor, in float32, with the teacher's outputs at
    the dataset's ``features`` layers if it names any. Entries that still match are kept; the
    manifest is written last, so an interrupted build is resumed, not trusted.
    Returns ``{'built': n, 'kept': n, 'seconds': s, 'bytes': size on disk}``."""
    import math
    from contextlib import ExitStack

    import numpy as np
    import torch

    from ..recorders import ModuleOutputRecorder
    from mmagic.registry import MODELS, TRANSFORMS
    from mmengine.registry import init_default_scope

    ds = cfg.train_dataloader.dataset
    if ds.get('type') != 'TeacherTranslationDataset':
        raise ValueError(f"train_dataloader.dataset.type is {ds.get('type')!r}: this builds the "
                         "cache of a config that trains on TeacherTranslationDataset (a config "
                         "with model.teacher.as_target='cached', e.g. "
                         'configs/reko/vintagify/vintagify_7x_nokd_cached.py)')
    teacher_cfg = cfg.model.get('teacher', {})
    if not osp.isfile(ds.teacher_ckpt):
        raise FileNotFoundError(f'teacher checkpoint not found: {osp.abspath(ds.teacher_ckpt)}')
    if not osp.isfile(teacher_cfg.get('ckpt', '')) or \
            file_sha256(teacher_cfg['ckpt']) != file_sha256(ds.teacher_ckpt):
        raise StaleCacheError(
            f"model.teacher.ckpt ({teacher_cfg.get('ckpt')}) is not the file the dataset's "
            f'teacher_ckpt names ({ds.teacher_ckpt}): the cache would hold another teacher\'s '
            'translations. Set both (the vintagify configs set both from teacher_ckpt).')
    cache, split = ds.data_root, ds.get('split', 'train')
    size, interpolation = int(ds.size), ds.get('interpolation', 'bicubic')
    source, target = ds.source, ds.target
    features = _layer_list(ds.get('features', ()))
    mirrored = bool(ds.get('mirrored', False))
    manifest = read_manifest(cache)
    if manifest is None and osp.isdir(cache) and os.listdir(cache):
        raise FileExistsError(f'{osp.abspath(cache)} holds files but no {MANIFEST}: it is not a '
                              'cache of teacher translations; name an empty or new folder')
    key = cache_key(ds.teacher_ckpt, size, interpolation, features, mirrored)
    if manifest is None or any(_manifest_value(manifest, k) != v for k, v in key.items()):
        manifest = dict(key, splits={})
    entries = manifest.setdefault('splits', {}).setdefault(split, {})
    photos = list_photos(osp.join(ds.photo_root, split))

    init_default_scope('mmagic')
    model_cfg = copy.deepcopy(cfg.model)  # the photos alone go through its preprocessor here
    if 'data_preprocessor' in model_cfg:
        model_cfg.data_preprocessor.data_keys = [f'img_{source}']
    model = MODELS.build(model_cfg).eval()
    if target not in model.teacher:
        raise ValueError(f'the model distils {list(model.teacher)}, not {target!r}')
    read = model.distill.teacher_layers(target)
    if sorted(set(read) - set(features)):
        raise ValueError(
            f"the config's distillation terms read the teacher's layers {read}, but "
            f'train_dataloader.dataset.features caches {features}: add '
            f'{sorted(set(read) - set(features))} to it (configs/reko/vintagify/'
            'vintagify_7x_fast.py lists ReKo\'s)')
    # the sides are cut to a multiple of every cached layer's stride (and of 4), so that a
    # crop at such a multiple falls on whole feature positions
    shapes = feature_shapes(model.teacher[target], features) if features else {}
    strides = {n: v['stride'] for n, v in shapes.items()}
    align = math.lcm(4, *strides.values())
    manifest['feature_strides'] = strides
    recorders = {n: ModuleOutputRecorder(model.teacher[target], n, 'teacher generator')
                 for n in features}
    img = f'img_{source}'
    load = TRANSFORMS.build(dict(type='LoadImageFromFile', key=img, color_type='color',
                                 channel_order='bgr'))
    resize = TRANSFORMS.build(dict(type='Resize', keys=[img], scale=(size, -1), keep_ratio=True,
                                   interpolation=interpolation))
    pack = TRANSFORMS.build(dict(type='PackInputs', keys=[img], data_keys=[img]))
    stems = {osp.splitext(osp.basename(p))[0]: p for p in photos}
    if len(stems) != len(photos):
        raise ValueError(f'{ds.photo_root}/{split} has photos that differ only in their '
                         'extension; the cache names entries by file stem')
    # entry name: (photo, mirrored)
    names = {n: (p, n != stem) for stem, p in stems.items()
             for n in entry_names({stem: ''}, mirrored)}
    for gone in set(entries) - set(names):
        del entries[gone]
    start, built, kept = time.time(), 0, 0
    todo = []
    for name, (path, mirror) in names.items():
        sha = file_sha256(path)
        files = [osp.join(cache, split, d, f'{name}.png') for d in (source, target)]
        if features:
            files.append(osp.join(cache, split, FEATURES, f'{name}.npz'))
        if entries.get(name, {}).get('sha256') == sha and all(map(osp.isfile, files)):
            kept += 1
        else:
            todo.append((name, path, mirror, sha, files))
    if shapes and todo:  # refuse before the work a build that cannot fit
        # float16, at least size x size a photo (its short side is size)
        need = len(todo) * sum(2 * v['channels'] * (size // v['stride']) ** 2
                               for v in shapes.values())
        free = shutil.disk_usage(_existing_parent(cache)).free
        if need > free:
            raise OSError(
                f"the teacher's features of {len(todo)} images need at least "
                f'{need / 2**30:.1f} GiB in {osp.abspath(cache)}, which has {free / 2**30:.1f} '
                'GiB free: free space, or point train_dataloader.dataset.data_root at a disk '
                'that has it (fewer photos, or fewer layers in features, need less)')
    for folder in (source, target) + ((FEATURES, ) if features else ()):
        os.makedirs(osp.join(cache, split, folder), exist_ok=True)
    for i, (name, path, mirror, sha, (photo_png, target_png, *feature_npz)) in enumerate(todo):
        results = resize(load({f'{img}_path': path}))
        photo = results[img]
        h, w = (photo.shape[0] // align) * align, (photo.shape[1] // align) * align
        photo = photo[:h, :w]
        results[img] = photo = np.ascontiguousarray(photo[:, ::-1] if mirror else photo)
        packed = pack(results)
        batch = model.data_preprocessor(
            dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]), False)
        with torch.no_grad(), ExitStack() as stack:
            for r in recorders.values():
                stack.enter_context(r.recording())
            out = model.teacher.translate(target, batch['inputs'], exact=True)
        if features:
            _write_features(feature_npz[0], {n: r.get()[0] for n, r in recorders.items()},
                            path)
        sample = batch['data_samples']  # the preprocessor stacks the batch's samples in one
        sample = sample.split()[0] if hasattr(sample, 'split') else sample[0]
        out = model.data_preprocessor.destruct(out[0].cpu(), sample, f'img_{target}')
        out = out.round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
        atomic_write_png(photo_png, photo)
        atomic_write_png(target_png, np.ascontiguousarray(out))
        entries[name] = dict(sha256=sha, source=osp.abspath(path), shape=[h, w], mirrored=mirror)
        built += 1
        done = time.time() - start
        if (i + 1) % 25 == 0 or i + 1 == len(todo):
            log(f'  [{i + 1}/{len(todo)}] {done:.0f} s, about '
                f'{done / (i + 1) * (len(todo) - i - 1):.0f} s left')
    tmp = osp.join(cache, MANIFEST + '.partial')
    with open(tmp, 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
    os.replace(tmp, osp.join(cache, MANIFEST))
    for r in recorders.values():
        r.remove()
    size_on_disk = sum(osp.getsize(osp.join(cache, split, d, f'{n}.png'))
                       for n in entries for d in (source, target))
    if features:
        size_on_disk += sum(osp.getsize(osp.join(cache, split, FEATURES, f'{n}.npz'))
                            for n in entries)
    return dict(built=built, kept=kept, seconds=time.time() - start, bytes=size_on_disk,
                images=len(entries))


FP16_MAX = 65504.0


def _existing_parent(path: str) -> str:
    path = osp.abspath(path)
    while not osp.exists(path):
        path = osp.dirname(path)
    return path


def _write_features(path: str, feats: dict, photo: str) -> None:
    """``feats`` (``{layer: C x h x w tensor}``) as float16 arrays in one ``.npz``, written
    atomically; refused where float16 would not hold them."""
    import numpy as np
    arrays = {}
    for n, f in feats.items():
        f = f.float().cpu()
        peak = f.abs().max().item()
        if not peak < FP16_MAX:  # also NaN
            raise ValueError(f"the teacher's layer {n!r} reaches {peak:g} on {photo}: float16 "
                             f'holds at most {FP16_MAX:g}; cache another layer (one after a '
                             'normalisation)')
        arrays[n] = f.half().numpy()
    tmp = path + '.partial.npz'
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
