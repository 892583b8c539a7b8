"""Where ReKo looks (the paper's Fig. 1) and how the distilled features compare (Fig. 5):
figures of the teacher's attention, the K regions, and region similarities."""
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
import torch
import torch.nn as nn

from ..losses import attention_map
from ..recorders import ModuleOutputRecorder


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


def record_layer(net: nn.Module, layer: str, x: torch.Tensor) -> torch.Tensor:
    """The output of ``layer`` of ``net`` when ``net`` runs on ``x`` (a recorder is
    attached for that call only).
    """
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
    """The teacher's attention map and the regions ReKo selects.

    Args:
        net (nn.Module): the teacher generator.
        layer (str): its distilled layer.
        x (Tensor): ``(1, 3, H, W)`` in [-1, 1].
        k (int): regions to select.
        selector (RegionAwareDistillLoss, optional): the loss whose ``select_regions`` picks them
            (so what is shown is what is distilled); default: the top-K of the teacher attention.
        student (tuple, optional): ``(generator, layer)``, for selectors that read the student.

    Returns:
        tuple: ``(attention map (h, w), selected flat indices (k,))``.
    """
    feat = record_layer(net, layer, x)
    att = attention_map(feat)[0]
    if selector is not None:
        if student is not None:
            s_feat = record_layer(student[0], student[1], x)
        else:
            s_feat = feat.new_zeros(feat.shape[0], selector.student_channels, *feat.shape[2:])
            if selector.region_selector == 'student_attention':
                raise ValueError("region_selector='student_attention' needs the student: pass "
                                 'student=(generator, layer)')
        idx = selector.select_regions(s_feat, feat, x)[0]
    else:
        idx = att.flatten().topk(min(k, att.numel())).indices
    return att, idx


def region_hit_rate(idx: torch.Tensor, shape: Tuple[int, int],
                    mask: np.ndarray) -> Tuple[float, float]:
    """The share of selected cells on the objects, and of all cells.

    A cell of the ``shape`` grid counts as on the object when most of its pixels are.

    Args:
        idx (Tensor): selected flat cell indices.
        shape (tuple): the grid ``(h, w)``.
        mask (ndarray): the object mask of the image (bool, full resolution).

    Returns:
        tuple: ``(hit rate, chance)``.
    """
    h, w = shape
    cell = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.5
    flat = cell.flatten()
    return float(flat[idx.cpu().numpy()].mean()), float(flat.mean())


def attention_figure(model: nn.Module, img_bgr: np.ndarray, domain: Optional[str] = None,
                     layer: Optional[str] = None, mask: Optional[np.ndarray] = None,
                     k: int = 64, scale: int = 4) -> Tuple[np.ndarray, Dict]:
    """The paper's Fig. 1 for one image: image | teacher attention | the
    selected regions, as one BGR image.

    Args:
        model (nn.Module): a ``TeacherStudentGAN`` (its teacher, layer and ReKo term are used).
        img_bgr (ndarray): the image as OpenCV reads it.
        domain (str, optional): the target domain (default: the first).
        layer (str, optional): the teacher layer (default: the ReKo term's first).
        mask (ndarray, optional): the object mask, to report the hit rate.
        k (int, optional): regions (default: the ReKo term's K).
        scale (int): upscaling of the maps.

    Returns:
        tuple: ``(figure, statistics dict)``.
    """
    domain = domain or model._default_domain
    student = None
    if hasattr(model, 'teacher'):
        net, layer, s_net, s_layer, selector = _distilled_pair(model, domain, layer)
        student = (s_net, s_layer)
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


def reko_term(model: nn.Module) -> str:
    """The name of the model's ReKo term (a ``RegionAwareDistillLoss``), or a clear error."""
    if not hasattr(model, 'distill'):
        raise ValueError('this needs a distillation model (a TeacherStudentGAN config)')
    names = model.distill.terms_of_type('RegionAwareDistillLoss')
    if not names:
        raise ValueError('the config distils no RegionAwareDistillLoss term (terms: '
                         f'{list(model.distill.terms)}); the ReKo figures need one')
    return names[0]


def _distilled_pair(model: nn.Module, domain: str, layer: Optional[str]):
    """(teacher net, teacher layer, student net, student layer, loss) of a distilled layer."""
    term = reko_term(model)
    pairs = model.distill.layer_pairs(term)
    layers = [t for _, t in pairs]
    layer = layer or layers[-1]
    if layer not in layers:
        raise KeyError(f'{layer!r} is not a distilled teacher layer; distilled: {layers}')
    i = layers.index(layer)
    return (model.teacher[domain], layer, model.get_module(model.generators)[domain],
            pairs[i][0], model.distill.term(term, domain, i).loss)


@torch.no_grad()
def region_similarity(model: nn.Module, x: torch.Tensor, domain: str,
                      layer: Optional[str] = None, region: Optional[Tuple[int, int]] = None
                      ) -> Dict:
    """The paper's Fig. 5 for one region.

    Args:
        model (nn.Module): a ``TeacherStudentGAN`` with a ReKo term.
        x (Tensor): the image, ``(1, 3, H, W)`` in [-1, 1].
        domain (str): the target domain.
        layer (str, optional): the distilled layer (default: the term's first).
        region (tuple, optional): the ``(row, col)`` query cell (default: the most attended one).

    Returns:
        dict: the cosine similarity of the student's query region to every teacher region (keys
        through the loss's frozen projector), the region, and the InfoNCE probability of its
        positive among the K selected keys.
    """
    import torch.nn.functional as F
    t_net, t_layer, s_net, s_layer, loss = _distilled_pair(model, domain, layer)
    t_feat, s_feat = record_layer(t_net, t_layer, x), record_layer(s_net, s_layer, x)
    _, _, h, w = t_feat.shape
    selected = loss.select_regions(s_feat, t_feat, x)[0]
    if region is None:
        pos = int(selected[0])
    else:
        row, col = region
        if not (0 <= row < h and 0 <= col < w):
            raise ValueError(f'region {region} is outside the {h}x{w} feature map of {t_layer}')
        pos = row * w + col
    keys = F.normalize(loss.projector(t_feat[0].flatten(1).t()), dim=-1, eps=1e-7)  # (HW, C)
    query = F.normalize(s_feat[0].flatten(1)[:, pos], dim=0, eps=1e-7)  # (C,)
    sim = (keys @ query).view(h, w)
    in_set = (selected == pos).any().item()
    cand = selected if in_set else torch.cat([selected[:-1], selected.new_tensor([pos])])
    prob = torch.softmax(sim.flatten()[cand] / loss.temperature, 0)
    p_pos = float(prob[(cand == pos).nonzero()[0, 0]])
    return dict(sim=sim, pos=pos, h=h, w=w, selected=selected, p_positive=p_pos,
                chance=1 / len(cand), layer=t_layer, domain=domain,
                rank=int((sim.flatten() > sim.flatten()[pos]).sum()) + 1)


def similarity_figure(model: nn.Module, img_bgr: np.ndarray, domain: Optional[str] = None,
                      layer: Optional[str] = None, region: Optional[Tuple[int, int]] = None,
                      scale: int = 4) -> Tuple[np.ndarray, Dict]:
    """Image with the query region | its similarity to every teacher region, as
    one BGR image, and the statistics of :func:`region_similarity` (same arguments, plus ``scale``,
    the upscaling of the map).
    """
    domain = domain or model._default_domain
    stats = region_similarity(model, to_input(img_bgr, model), domain, layer, region)
    h, w = stats['h'], stats['w']
    size = (img_bgr.shape[1] * scale, img_bgr.shape[0] * scale)
    big = cv2.resize(img_bgr, size, interpolation=cv2.INTER_NEAREST)
    s = stats['sim'].numpy()
    s = (255 * (s - s.min()) / max(float(s.max() - s.min()), 1e-12)).astype(np.uint8)
    heat = cv2.applyColorMap(cv2.resize(s, size, interpolation=cv2.INTER_NEAREST),
                             cv2.COLORMAP_JET)
    ch, cw = size[1] / h, size[0] / w
    y, x = divmod(stats['pos'], w)
    for canvas in (big, heat):
        cv2.rectangle(canvas, (int(x * cw), int(y * ch)),
                      (int((x + 1) * cw) - 1, int((y + 1) * ch) - 1), (255, 255, 255), 2)
    return np.concatenate([big, heat], axis=1), stats


def object_hit_rate(net: nn.Module, layer: str, data_root: str, split: str = 'testB',
                    k: int = 64, model: Optional[nn.Module] = None) -> Dict[str, float]:
    """The mean share of the top-K teacher-attention regions on the objects of a
    synthetic split.

    Args:
        net (nn.Module): the teacher generator.
        layer (str): its distilled layer.
        data_root (str): a synthetic set (with its masks).
        split (str): the folder of the images (e.g. ``'testB'``).
        k (int): regions per image.
        model (nn.Module, optional): the model whose preprocessor prepares the images.

    Returns:
        dict: ``hit_rate``, ``chance`` (the share of all regions on the objects, what a random pick
        scores) and ``images``.
    """
    import glob
    import os.path as osp

    from ..datasets.synthetic import load_mask
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
