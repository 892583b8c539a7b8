"""Region-aware knowledge distillation loss (ReKo, Zhang et al., ECCV 2022, eqs. 1-5)."""
import numbers
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmagic.registry import MODELS

from ._utils import check_loss_weight, check_positive
from .saliency import saliency_scores

REGION_SELECTORS = ('teacher_attention', 'student_attention', 'saliency', 'random', 'all')
PROJECTORS = ('mlp', 'linear', 'identity')


def attention_map(feat: torch.Tensor) -> torch.Tensor:
    """Parameter-free attention (eq. 3): mean over channels of |feat|, (N, C, H, W) -> (N, H, W)."""
    return feat.detach().abs().mean(dim=1)


def build_projector(kind: str, in_channels: int, out_channels: int) -> nn.Module:
    """The teacher-side projection head; random, normal(0, 0.02) init, zero bias, frozen.

    ReKo's "trick" (section 3): a fixed random head stabilises the student (as in MoCo v3).
    """
    if kind == 'identity':
        if in_channels != out_channels:
            raise ValueError(
                f"projector='identity' needs equal channels, but teacher_channels="
                f'{in_channels} and student_channels={out_channels}. Use '
                f"projector='mlp' (the default) or 'linear' to map {in_channels} -> "
                f'{out_channels} channels.')
        return nn.Identity()
    if kind == 'linear':
        head = nn.Linear(in_channels, out_channels)
    elif kind == 'mlp':
        head = nn.Sequential(
            nn.Linear(in_channels, out_channels), nn.ReLU(inplace=False),
            nn.Linear(out_channels, out_channels))
    else:
        raise ValueError(f'projector must be one of {PROJECTORS}, got {kind!r}')
    for m in head.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
    head.requires_grad_(False)
    return head


@MODELS.register_module()
class RegionAwareDistillLoss(nn.Module):
    """ReKo loss between one student and one teacher feature map.

    Scores every position of the teacher feature by its attention (eq. 3), keeps the top-K
    positions **per image**, projects the teacher vectors there with a frozen random head, L2
    normalises both sides and applies patch-wise InfoNCE (eqs. 1 and 4): the query is the student
    vector at position i, the positive key the teacher vector at i, the negatives the teacher
    vectors at the other K-1 selected positions of the same image.

    Args:
        student_channels (int): C_s of the student feature.
        teacher_channels (int): C_t of the teacher feature.
        num_regions (int | None): K, regions kept per image; None keeps every position.
        temperature (float): tau of InfoNCE.
        loss_weight (float): alpha of eq. 5; the returned value is already multiplied by it.
        region_selector (str): ``'teacher_attention'`` (ReKo), ``'student_attention'``,
            ``'saliency'`` (spectral-residual saliency of the input image, no weights: the
            paper's sec. 5.4 comparison), ``'random'`` or ``'all'`` (every position:
            L_RegionDis, eq. 2).
        contrastive (bool): InfoNCE when True; otherwise the mean squared distance between the
            selected, normalised student and projected teacher vectors (Table 4, "CR without CD").
        projector (str): ``'mlp'`` (Linear(C_t, C_s)-ReLU-Linear(C_s, C_s)), ``'linear'`` or
            ``'identity'`` (needs C_s == C_t). Applied to the teacher feature; never trained.

    Shapes: ``forward((N, C_s, H, W), (N, C_t, H, W), image=(N, 3, H_img, W_img)) -> ()``; the
    input image is only read by ``region_selector='saliency'``.
    """

    def __init__(self,
                 student_channels: int,
                 teacher_channels: int,
                 num_regions: Optional[int] = 64,
                 temperature: float = 0.07,
                 loss_weight: float = 1.0,
                 region_selector: str = 'teacher_attention',
                 contrastive: bool = True,
                 projector: str = 'mlp'):
        super().__init__()
        owner = type(self).__name__
        if region_selector not in REGION_SELECTORS:
            raise ValueError(f'{owner}: region_selector must be one of {REGION_SELECTORS}, got '
                             f'{region_selector!r}')
        if num_regions is not None and (isinstance(num_regions, bool) or
                                        not isinstance(num_regions, numbers.Integral) or
                                        num_regions < 2):
            raise ValueError(
                f'{owner}: num_regions (K) must be an int >= 2, or None for every position; got '
                f'{num_regions!r}. With one region InfoNCE has no negatives and is identically 0 '
                '(the paper and the authors\' code use K = 64).')
        self.temperature = check_positive(temperature, 'temperature', owner)
        self.loss_weight = check_loss_weight(loss_weight, owner)
        if not isinstance(contrastive, bool):
            raise TypeError(f'{owner}: contrastive must be True or False, got {contrastive!r}')
        self.student_channels = student_channels
        self.teacher_channels = teacher_channels
        self.num_regions = None if num_regions is None else int(num_regions)
        self.region_selector = region_selector
        self.contrastive = contrastive
        self.projector = build_projector(projector, teacher_channels, student_channels)

    def train(self, mode: bool = True):
        # The head is frozen; keep it out of any train/eval behaviour as well.
        super().train(mode)
        self.projector.eval()
        return self

    def _check_inputs(self, student_feat, teacher_feat):
        if student_feat.dim() != 4 or teacher_feat.dim() != 4:
            raise ValueError(
                'RegionAwareDistillLoss expects (N, C, H, W) features, got student '
                f'{tuple(student_feat.shape)} and teacher {tuple(teacher_feat.shape)}')
        (ns, cs, hs, ws), (nt, ct, ht, wt) = student_feat.shape, teacher_feat.shape
        if (ns, hs, ws) != (nt, ht, wt):
            raise ValueError(
                f'student feature {tuple(student_feat.shape)} and teacher feature '
                f'{tuple(teacher_feat.shape)} differ in batch or spatial size; ReKo compares '
                'the same positions, so pick layer pairs at the same resolution.')
        if cs != self.student_channels or ct != self.teacher_channels:
            raise ValueError(
                f'channel mismatch: the loss was built for student_channels='
                f'{self.student_channels}, teacher_channels={self.teacher_channels} but got '
                f'student {tuple(student_feat.shape)} and teacher {tuple(teacher_feat.shape)}')

    def num_selected(self, height: int, width: int) -> int:
        """K for an H x W map, with a clear error when K does not fit."""
        if self.region_selector == 'all' or self.num_regions is None:
            return height * width
        if self.num_regions > height * width:
            raise ValueError(
                f'num_regions={self.num_regions} is larger than the {height}x{width}='
                f'{height * width} positions of the feature map; set num_regions <= '
                f'{height * width}, or num_regions=None to use every position.')
        return self.num_regions

    def select_regions(self, student_feat: torch.Tensor, teacher_feat: torch.Tensor,
                       image: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Indices (N, K) into the flattened H*W positions, chosen per image."""
        n, _, h, w = teacher_feat.shape
        k = self.num_selected(h, w)
        if self.region_selector == 'all':
            return torch.arange(h * w, device=teacher_feat.device).expand(n, -1)
        if self.region_selector == 'random':
            scores = torch.rand(n, h * w, device=teacher_feat.device)
        elif self.region_selector == 'saliency':
            if image is None:
                raise ValueError("region_selector='saliency' needs the input image: call "
                                 'loss(student_feat, teacher_feat, image=real_input)')
            scores = saliency_scores(image, h, w)
        else:
            src = teacher_feat if self.region_selector == 'teacher_attention' else student_feat
            scores = attention_map(src).flatten(1)
        return scores.topk(k, dim=1).indices

    def forward(self, student_feat: torch.Tensor, teacher_feat: torch.Tensor,
                image: Optional[torch.Tensor] = None) -> torch.Tensor:
        self._check_inputs(student_feat, teacher_feat)
        # The teacher is a fixed target: no gradient flows into it from this loss.
        teacher_feat = teacher_feat.detach()
        idx = self.select_regions(student_feat, teacher_feat, image)  # (N, K)

        def gather(feat):  # (N, C, H, W) -> (N, K, C)
            flat = feat.flatten(2)
            return flat.gather(2, idx.unsqueeze(1).expand(-1, flat.size(1), -1)).transpose(1, 2)

        query = F.normalize(gather(student_feat), dim=-1, eps=1e-7)
        key = F.normalize(self.projector(gather(teacher_feat)), dim=-1, eps=1e-7)
        if not self.contrastive:
            loss = (query - key).pow(2).sum(-1).mean()
        else:
            # Negatives come from the other selected regions of the same image only, not from
            # the rest of the batch (as in CUT's PatchNCE): other images share no content.
            logits = torch.bmm(query, key.transpose(1, 2)) / self.temperature  # (N, K, K)
            n, k, _ = logits.shape
            target = torch.arange(k, device=logits.device).repeat(n)
            loss = F.cross_entropy(logits.reshape(n * k, k), target)
        return loss * self.loss_weight

    def extra_repr(self) -> str:
        return (f'student_channels={self.student_channels}, teacher_channels='
                f'{self.teacher_channels}, num_regions={self.num_regions}, temperature='
                f'{self.temperature}, loss_weight={self.loss_weight}, region_selector='
                f"'{self.region_selector}', contrastive={self.contrastive}")
