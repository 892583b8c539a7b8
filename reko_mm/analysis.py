"""Inspection helpers: build a model from a config, and show where ReKo looks (paper Fig. 1)."""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import torch
import torch.nn as nn

from .losses import attention_map
from .recorders import ModuleOutputRecorder


def build_model_from_config(config: str, checkpoint: Optional[str] = None,
                            cfg_options: Optional[dict] = None) -> nn.Module:
    """Build ``cfg.model`` in MMagic's scope and load ``checkpoint`` into it (CPU, eval).

    ``cfg_options`` is a ``{'model.generator.base_channels': 16}`` dict, as mmengine's
    ``DictAction`` produces from ``--cfg-options``.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmagic.registry import MODELS

    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    return model.eval()


def to_input(img_bgr: np.ndarray, model: nn.Module) -> torch.Tensor:
    """An OpenCV image as the generator sees it in training: (1, 3, H, W) in [-1, 1].

    MMagic's ``LoadImageFromFile`` reads BGR and ``DataPreprocessor`` normalises with
    mean = std = 127.5 (and flips to RGB when configured to; we follow the preprocessor).
    """
    pre = getattr(model, 'data_preprocessor', None)
    x = torch.from_numpy(np.ascontiguousarray(img_bgr)).permute(2, 0, 1).float()
    if pre is not None and getattr(pre, '_channel_conversion', False):
        x = x.flip(0)
    return ((x - 127.5) / 127.5).unsqueeze(0)


def _record(net: nn.Module, layer: str, x: torch.Tensor) -> torch.Tensor:
    recorder = ModuleOutputRecorder(net, layer, owner='generator')
    try:
        with recorder.recording():
            net(x)
        return recorder.get()
    finally:
        recorder.remove()


@torch.no_grad()
def teacher_regions(net: nn.Module, layer: str, x: torch.Tensor, k: int, selector=None,
                    student: Optional[Tuple[nn.Module, str]] = None
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Run ``net`` on ``x`` and return (attention map (H, W), selected flat indices (K,)).

    ``selector`` is a :class:`RegionAwareDistillLoss` (its ``select_regions`` is used, so what
    is shown is what is distilled; ``student=(generator, layer)`` gives it the student feature);
    by default the top-K of the teacher attention.
    """
    feat = _record(net, layer, x)
    att = attention_map(feat)[0]
    if selector is not None:
        if student is not None:
            s_feat = _record(student[0], student[1], x)
        else:
            s_feat = feat.new_zeros(feat.shape[0], selector.student_channels, *feat.shape[2:])
            if selector.region_selector == 'student_attention':
                raise ValueError("region_selector='student_attention' needs the student: pass "
                                 'student=(generator, layer)')
        idx = selector.select_regions(s_feat, feat)[0]
    else:
        idx = att.flatten().topk(min(k, att.numel())).indices
    return att, idx


def region_hit_rate(idx: torch.Tensor, shape: Tuple[int, int],
                    mask: np.ndarray) -> Tuple[float, float]:
    """Share of selected cells lying on the objects, and the share of all cells that do.

    A cell of the ``shape`` grid counts as "on the object" when most of its pixels are.
    """
    h, w = shape
    cell = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.5
    flat = cell.flatten()
    return float(flat[idx.cpu().numpy()].mean()), float(flat.mean())


def attention_figure(model: nn.Module, img_bgr: np.ndarray, domain: Optional[str] = None,
                     layer: Optional[str] = None, mask: Optional[np.ndarray] = None,
                     k: int = 64, scale: int = 4) -> Tuple[np.ndarray, Dict]:
    """Image | teacher attention | selected regions, as one BGR image, plus statistics."""
    domain = domain or model._default_domain
    student = None
    if hasattr(model, 'teacher'):
        layers = [t for _, t in model.distill_layers]
        layer = layer or layers[-1]
        if layer not in layers:
            raise KeyError(f'{layer!r} is not a distilled teacher layer; distilled: {layers}')
        pair = layers.index(layer)
        net = model.teacher[domain]
        selector = model.distill_losses[f'{domain}_{pair}']
        student = (model.get_module(model.generators)[domain], model.distill_layers[pair][0])
    else:
        if layer is None:
            raise ValueError('give --layer for a model without a teacher')
        net, selector = model.get_module(model.generators)[domain], None
    att, idx = teacher_regions(net, layer, to_input(img_bgr, model), k, selector, student)
    h, w = att.shape
    size = (img_bgr.shape[1] * scale, img_bgr.shape[0] * scale)
    big = cv2.resize(img_bgr, size, interpolation=cv2.INTER_NEAREST)
    a = att.numpy()
    a = (255 * (a - a.min()) / max(float(a.max() - a.min()), 1e-12)).astype(np.uint8)
    heat = cv2.applyColorMap(cv2.resize(a, size, interpolation=cv2.INTER_NEAREST),
                             cv2.COLORMAP_JET)
    boxes = big.copy()
    ch, cw = size[1] / h, size[0] / w
    for i in idx.tolist():
        y, x = divmod(i, w)
        cv2.rectangle(boxes, (int(x * cw), int(y * ch)), (int((x + 1) * cw) - 1,
                      int((y + 1) * ch) - 1), (0, 255, 0), 1)
    stats = dict(k=len(idx), h=h, w=w, layer=layer, domain=domain)
    if mask is not None:
        stats['on_object'], stats['object_share'] = region_hit_rate(idx, (h, w), mask)
    return np.concatenate([big, heat, boxes], axis=1), stats


def object_hit_rate(net: nn.Module, layer: str, data_root: str, split: str = 'testB',
                    k: int = 64, model: Optional[nn.Module] = None) -> Dict[str, float]:
    """Mean share of the top-K teacher-attention regions on the objects of a synthetic split.

    ``chance`` is the mean share of all regions on the objects (what a random pick scores).
    """
    import glob
    import os.path as osp

    from .datasets.synthetic import load_mask
    hits, chance = [], []
    for path in sorted(glob.glob(osp.join(data_root, split, '*.png'))):
        mask = load_mask(data_root, split, path)
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        att, idx = teacher_regions(net, layer, to_input(img, model or net), k)
        hit, share = region_hit_rate(idx, tuple(att.shape), mask)
        hits.append(hit)
        chance.append(share)
    if not hits:
        raise FileNotFoundError(f'no images in {osp.join(data_root, split)}')
    return dict(hit_rate=float(np.mean(hits)), chance=float(np.mean(chance)), images=len(hits))
