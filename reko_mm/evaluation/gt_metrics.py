"""Error of translations against a reference: the true answer (synthetic sets with ground
truth), or the teacher's translation (teacher-target distillation)."""
import math
from typing import List, Optional, Sequence

import numpy as np
import torch

from mmagic.evaluation.metrics.base_sample_wise_metric import BaseSampleWiseMetric
from mmagic.evaluation.metrics.ssim import ssim
from mmagic.registry import METRICS


def _image(value) -> torch.Tensor:
    """A (C, H, W) float tensor in [0, 255] from a data-sample field (tensor or array)."""
    t = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
    t = t.detach().float().cpu()
    if t.dim() == 3 and t.shape[-1] in (1, 3) and t.shape[0] not in (1, 3):
        t = t.permute(2, 0, 1)
    return t


SSIM_WINDOW = 11  # MMagic's SSIM: an 11x11 Gaussian window, valid positions only


def _psnr(mse: float) -> float:
    return 10 * math.log10(255.0**2 / max(mse, 1e-10))


@METRICS.register_module()
class GroundTruthError(BaseSampleWiseMetric):
    """PSNR, SSIM and L1 of a translation against a reference image, over the whole image and,
    with a mask, on the objects (the crucial regions) and on the background.

    For the synthetic ``kind='bands'`` sets the test image of the other domain at the same index
    is the true translation; for a teacher-target student (``model.teacher.as_target``) the
    reference is the teacher's translation, ``teacher_<domain>``. Per image: MSE and mean
    absolute error over the pixels of each region (all channels) and MMagic's SSIM of the whole
    image; reported: mean per-image PSNR (``psnr``, ``psnr_obj``, ``psnr_bg``, in dB), SSIM
    (``ssim``; images of at least 11x11 pixels, its window) and L1 on a [0, 1] scale (``l1``,
    ``l1_obj``, ``l1_bg``). Images without objects count for the whole image only.

    Args:
        fake_key (str | list[str]): the translation, e.g. ``'fake_banded'``; a list (with as
            many ``gt_key``) averages over directions, e.g. both of a CycleGAN.
        gt_key (str | list[str]): its reference, e.g. ``'img_banded'``, ``'teacher_vintage'``.
        mask_key (str, optional): the object mask (``LoadSceneMask`` in the test pipeline);
            None: the whole image only.
        prefix (str): name of the metric group in the logs, e.g. ``'GT-flat-to-banded'``.
    """
    metric = 'psnr'

    def __init__(self, fake_key, gt_key, mask_key: Optional[str] = 'mask',
                 prefix: Optional[str] = None, collect_device: str = 'cpu'):
        fake_keys = [fake_key] if isinstance(fake_key, str) else list(fake_key)
        gt_keys = [gt_key] if isinstance(gt_key, str) else list(gt_key)
        if len(fake_keys) != len(gt_keys) or not fake_keys:
            raise ValueError(f'GroundTruthError: fake_key {fake_key!r} and gt_key {gt_key!r} '
                             'must name as many images')
        super().__init__(gt_key=gt_keys[0], pred_key=fake_keys[0], mask_key=mask_key,
                         collect_device=collect_device, prefix=prefix)
        self.pairs = list(zip(fake_keys, gt_keys))

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        for data in data_samples:
            keys = [k for pair in self.pairs for k in pair] + [self.mask_key] * bool(self.mask_key)
            for key in keys:
                if key not in data:
                    raise KeyError(f'GroundTruthError: the data sample has no {key!r} (it has '
                                   f'{sorted(data)}); check fake_key / gt_key, and that the '
                                   'test pipeline loads the mask (LoadSceneMask) and packs it '
                                   '(PackInputs data_keys).')
            mask = _image(data[self.mask_key])[0] > 0 if self.mask_key else None  # (H, W)
            for fake_key, gt_key in self.pairs:
                fake, gt = _image(data[fake_key]), _image(data[gt_key])
                if fake.shape != gt.shape:
                    raise ValueError(f'GroundTruthError: {fake_key} {tuple(fake.shape)} and '
                                     f'{gt_key} {tuple(gt.shape)} differ in shape')
                err = fake - gt
                result = dict(mse=float(err.pow(2).mean()), l1=float(err.abs().mean()))
                if min(fake.shape[1:]) >= SSIM_WINDOW:
                    result['ssim'] = float(ssim(fake.numpy(), gt.numpy(), input_order='CHW'))
                regions = [] if mask is None else [('obj', mask), ('bg', ~mask)]
                for name, region in regions:
                    if region.any():
                        e = err[:, region]
                        result[f'mse_{name}'] = float(e.pow(2).mean())
                        result[f'l1_{name}'] = float(e.abs().mean())
                self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> dict:
        out = {}
        for suffix in ('', '_obj', '_bg'):
            rows = [r for r in results if f'mse{suffix}' in r]
            if rows:
                out[f'psnr{suffix}'] = float(np.mean([_psnr(r[f'mse{suffix}']) for r in rows]))
                out[f'l1{suffix}'] = float(np.mean([r[f'l1{suffix}'] for r in rows])) / 255.0
        if results and all('ssim' in r for r in results):
            out['ssim'] = float(np.mean([r['ssim'] for r in results]))
        return out
