"""A teacher-target student scored against its teacher on held-out photos, at several
resolutions, beside the unchanged photo: ``tools/analysis_tools/score_against_teacher.py`` is
its command line.

Each photo is resized as the configs' test pipeline does (short side ``size``, bicubic) and
centre-cropped to ``size`` x ``size``; teacher and student translate it in float32. Per size:
PSNR and SSIM (8-bit images) of the student to the teacher, the same for the photo itself (the
bar a student must pass to have learnt anything of the filter), and KID of the student's and the
photo's images against the teacher's (offline Inception, :mod:`reko_mm.evaluation.inception`).
With two sizes or more it also scores the teacher against itself across resolutions: its
translation at the smallest size against its translation at the largest downscaled (area), the
closeness a student can hope for.

With ``teacher_cache`` (a folder) the teacher's translations are kept there and read back by the
next call, so scoring several students of one teacher runs the teacher once. They are 8-bit
images (what the scores compare), named by the sha256 of the teacher file and of the photo and
by the size, so a changed teacher or photo is translated again, never read stale.
"""
import glob
import os
import os.path as osp
import statistics
import time
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')


def square(img: np.ndarray, side: int) -> np.ndarray:
    """Short side resized to ``side`` (bicubic, as MMagic's ``Resize``), centre crop."""
    import cv2
    h, w = img.shape[:2]
    s = side / min(h, w)
    img = cv2.resize(img, (max(side, int(w * s + 0.5)), max(side, int(h * s + 0.5))),
                     interpolation=cv2.INTER_CUBIC)
    y, x = (img.shape[0] - side) // 2, (img.shape[1] - side) // 2
    return img[y:y + side, x:x + side]


def spread(n: int, k: int) -> List[int]:
    """``min(k, n)`` indices spread evenly over ``range(n)``, the first one 0."""
    k = min(k, n)
    return [i * n // k for i in range(k)]


def psnr8(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of two images in [0, 255]."""
    return float(10 * np.log10(255**2 / max(float(((a - b)**2).mean()), 1e-10)))


def detail(img: np.ndarray) -> float:
    """The fine detail of a BGR image in [0, 255], of any kind (edges, texture, grain,
    artefacts): the mean absolute Laplacian of its grey image."""
    import cv2
    grey = cv2.cvtColor(np.asarray(img, np.float32), cv2.COLOR_BGR2GRAY)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F)).mean())


def zoomed(img: np.ndarray, zoom: int) -> np.ndarray:
    """The centre of ``img``, 1/``zoom`` of its side, enlarged ``zoom`` times (nearest
    neighbour, so that every pixel shows as a square)."""
    h, w = img.shape[:2]
    ch, cw = max(1, h // zoom), max(1, w // zoom)
    y, x = (h - ch) // 2, (w - cw) // 2
    return np.repeat(np.repeat(img[y:y + ch, x:x + cw], zoom, 0), zoom, 1)


def translate_bgr(net, img: np.ndarray) -> np.ndarray:
    """``net`` (a generator taking [-1, 1], BGR as reko-mm's imported teachers and their
    students) on a BGR uint8 image: BGR float in [0, 255], rounded to 8 bits."""
    x = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float()
    with torch.no_grad():
        y = net(x / 127.5 - 1)
    # laid out HWC in memory, as an image read from a file: NumPy's sums follow the layout
    return np.ascontiguousarray(((y[0].permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255)
                                .round())


class TeacherTranslations:
    """The teacher's translations of photos at a size, kept in ``folder`` (None: not kept):
    ``<folder>/<teacher sha256[:16]>/<size>/<photo sha256[:16]>.png``. A translation is
    :func:`translate_bgr`'s output, whole numbers in [0, 255], so the 8-bit file holds it
    exactly. ``hits`` / ``misses`` count what was read and what was translated."""

    def __init__(self, translate, teacher_ckpt: str, folder: Optional[str] = None):
        from ..utils.checkpoint import file_sha256
        if folder and osp.exists(folder) and not osp.isdir(folder):
            raise NotADirectoryError(f"the teacher's translations are kept in a folder: {folder} "
                                     'is a file; give a folder (it is made where missing)')
        self.translate = translate
        self.folder = folder and osp.join(folder, file_sha256(teacher_ckpt)[:16])
        self.hits = self.misses = 0

    def __call__(self, photo: np.ndarray, size: int, photo_sha: str) -> np.ndarray:
        import cv2
        path = self.folder and osp.join(self.folder, str(size), f'{photo_sha[:16]}.png')
        if path and osp.isfile(path):
            kept = cv2.imread(path, cv2.IMREAD_COLOR)
            if kept is not None and kept.shape == photo.shape:
                self.hits += 1
                return kept.astype(np.float32)
        self.misses += 1
        out = self.translate(photo)
        if path:
            from ..datasets.teacher_translations import atomic_write_png
            os.makedirs(osp.dirname(path), exist_ok=True)
            atomic_write_png(path, out.astype(np.uint8))
        return out


def scores_against_teacher(config: str, checkpoint: str, teacher_ckpt: str, photos: str,
                           sizes: Sequence[int] = (256, 512), num: int = 200,
                           cfg_options: Optional[dict] = None, log=print,
                           grid: Optional[str] = None, grid_rows: int = 6,
                           teacher_cache: Optional[str] = None,
                           grid_zoom: int = 1) -> Dict[str, dict]:
    """Scores of the student in ``checkpoint`` (its config: a teacher-target one, or its plain
    student) against the teacher in ``teacher_ckpt`` on ``num`` images of ``photos`` (a folder;
    spread evenly over its sorted file names). ``grid``: also write photo | teacher | student of
    ``grid_rows`` of them (spread evenly) at the smallest size to this image file;
    ``grid_zoom`` > 1: each image's centre, 1/``grid_zoom`` of its side, enlarged that many times
    (nearest neighbour), so that texture, grain and checkerboards show.
    ``teacher_cache``: a folder that keeps the teacher's translations for the next call
    (:class:`TeacherTranslations`). Returns ``{str(size): {...}, 'teacher_across_sizes':
    {...}}``; per size the mean ``psnr`` and ``ssim`` over the photos, ``kid`` over all of
    them, ``detail`` (the mean fine detail of the student's images, :func:`detail`, over the
    mean of the teacher's: under 1 smoother than the teacher, over 1 more detailed), and the
    same of the unchanged photo (``identity_*``)."""
    import cv2
    from mmagic.evaluation.metrics.ssim import ssim
    from mmengine.registry import init_default_scope
    from mmagic.registry import MODELS

    from ..apis import student_config
    from ..evaluation.inception import load_inception
    from ..evaluation.metrics import kernel_inception_distance
    from ..models import FrozenTeacher, read_checkpoint
    from ..utils import load_checkpoint_strict, load_config
    if int(grid_zoom) != grid_zoom or grid_zoom < 1:
        raise ValueError(f'grid_zoom is a whole number from 1, got {grid_zoom!r}')
    cfg = student_config(load_config(config, cfg_options))
    init_default_scope('mmagic')
    model = MODELS.build(cfg.model)
    load_checkpoint_strict(model, checkpoint, config)
    domain = cfg.model.get('default_domain')
    student = model.generators[domain].eval()
    state, meta = read_checkpoint(teacher_ckpt)
    teacher = FrozenTeacher(teacher_ckpt, [domain], meta['generator_cfg'], state=state).eval()
    files = sorted(f for f in glob.glob(osp.join(photos, '*'))
                   if f.lower().endswith(IMAGE_SUFFIXES))
    files = [files[i] for i in spread(len(files), num)]
    if not files:
        raise FileNotFoundError(f'no photos in {photos}')
    inception = load_inception()
    from ..utils.checkpoint import file_sha256
    teacher_of = TeacherTranslations(
        lambda photo: translate_bgr(lambda x: teacher.translate(domain, x, exact=True), photo),
        teacher_ckpt, teacher_cache)

    def features(imgs):  # BGR -> RGB for Inception
        x = torch.from_numpy(np.stack(imgs)[..., ::-1].copy()).permute(0, 3, 1, 2)
        with torch.no_grad():
            return torch.cat([inception(b) for b in x.split(16)]).numpy()
    rows = {s: [] for s in sizes}
    images = {s: dict(student=[], teacher=[], photo=[]) for s in sizes}
    across = []
    start = time.time()
    for i, f in enumerate(files):
        original = cv2.imread(f)
        photo_sha = file_sha256(f) if teacher_cache else ''
        outs = {}
        for s in sizes:
            photo = square(original, s)
            t = teacher_of(photo, s, photo_sha)
            y = translate_bgr(student, photo)
            outs[s] = t
            photo = photo.astype(np.float32)
            rows[s].append(dict(
                psnr=psnr8(y, t), ssim=float(ssim(y, t, input_order='HWC')),
                identity_psnr=psnr8(photo, t),
                identity_ssim=float(ssim(photo, t, input_order='HWC')),
                detail=detail(y), identity_detail=detail(photo), teacher_detail=detail(t)))
            for key, img in (('student', y), ('teacher', t), ('photo', photo)):
                images[s][key].append(img.astype(np.uint8))
        if len(sizes) > 1:
            small, large = min(sizes), max(sizes)
            down = cv2.resize(outs[large], (small, small), interpolation=cv2.INTER_AREA).round()
            across.append(dict(psnr=psnr8(outs[small], down),
                               ssim=float(ssim(outs[small], down, input_order='HWC'))))
        if (i + 1) % 25 == 0 or i + 1 == len(files):
            done = time.time() - start
            kept = f', teacher {teacher_of.hits} read, {teacher_of.misses} run' \
                if teacher_cache else ''
            log(f'  [{i + 1}/{len(files)}] {done:.0f} s, about '
                f'{done / (i + 1) * (len(files) - i - 1):.0f} s left{kept}')
    if grid:
        small = images[min(sizes)]
        picks = spread(len(files), grid_rows)
        cv2.imwrite(grid, np.concatenate([np.concatenate(
            [zoomed(small[k][i], grid_zoom) for k in ('photo', 'teacher', 'student')], axis=1)
            for i in picks]))
    out = {}
    for s in sizes:
        r = {k: statistics.mean(row[k] for row in rows[s]) for k in rows[s][0]}
        # fine detail relative to the teacher's: under 1 smoother, over 1 more detailed
        teacher_detail = r.pop('teacher_detail')
        for k in ('detail', 'identity_detail'):
            r[k] /= teacher_detail
        teacher_feats = features(images[s]['teacher'])
        r['kid'] = kernel_inception_distance(teacher_feats, features(images[s]['student']))[0]
        r['identity_kid'] = kernel_inception_distance(teacher_feats,
                                                      features(images[s]['photo']))[0]
        r['images'] = len(rows[s])
        out[str(s)] = r
    if across:
        out['teacher_across_sizes'] = dict(
            {k: statistics.mean(row[k] for row in across) for k in across[0]},
            sizes=[min(sizes), max(sizes)])
    return out
