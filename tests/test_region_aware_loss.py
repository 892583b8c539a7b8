"""RegionAwareDistillLoss against a plain per-image, per-position loop."""
import math

import pytest
import torch
import torch.nn.functional as F

from reko_mm.losses import RegionAwareDistillLoss, attention_map


def reference(loss, s, t, idx):
    """Loop implementation of eq. 4 (or the L2 variant) for given per-image indices."""
    per_image = []
    for n in range(s.shape[0]):
        q = [F.normalize(s[n, :, i // s.shape[3], i % s.shape[3]], dim=0, eps=1e-7)
             for i in idx[n].tolist()]
        k = [F.normalize(loss.projector(t[n, :, i // t.shape[3], i % t.shape[3]]), dim=0,
                         eps=1e-7) for i in idx[n].tolist()]
        terms = []
        for i in range(len(q)):
            if loss.contrastive:
                pos = torch.dot(q[i], k[i]) / loss.temperature
                all_logits = torch.stack([torch.dot(q[i], kj) / loss.temperature for kj in k])
                terms.append(-(pos - torch.logsumexp(all_logits, 0)))
            else:
                terms.append(((q[i] - k[i])**2).sum())
        per_image.append(torch.stack(terms).mean())
    return torch.stack(per_image).mean() * loss.loss_weight


def feats(n=3, cs=6, ct=10, h=5, w=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, cs, h, w, generator=g), torch.randn(n, ct, h, w, generator=g)


@pytest.mark.parametrize('selector', ['teacher_attention', 'student_attention', 'random', 'all'])
@pytest.mark.parametrize('contrastive', [True, False])
@pytest.mark.parametrize('k', [2, 7, 20])
def test_matches_loop_reference(selector, contrastive, k):
    s, t = feats()
    loss = RegionAwareDistillLoss(6, 10, num_regions=k, temperature=0.1, loss_weight=0.7,
                                  region_selector=selector, contrastive=contrastive)
    torch.manual_seed(123)
    value = loss(s, t)
    torch.manual_seed(123)  # the same random draw for the 'random' selector
    idx = loss.select_regions(s, t)
    assert idx.shape == (3, 20 if selector == 'all' else k)
    assert torch.allclose(value, reference(loss, s, t, idx), atol=1e-5)


def test_identity_projector_formula():
    """The value the issue specifies, written out with matrix ops."""
    s, t = feats(n=4, cs=8, ct=8, h=6, w=6, seed=3)
    loss = RegionAwareDistillLoss(8, 8, num_regions=10, temperature=0.07, loss_weight=2.0,
                                  projector='identity')
    per_image = []
    for n in range(4):
        top = attention_map(t)[n].flatten().topk(10).indices
        q = F.normalize(s[n].flatten(1)[:, top].T, dim=1)
        k = F.normalize(t[n].flatten(1)[:, top].T, dim=1)
        per_image.append(F.cross_entropy(q @ k.T / 0.07, torch.arange(10)))
    assert torch.allclose(loss(s, t), 2.0 * torch.stack(per_image).mean(), atol=1e-5)


def test_selection_is_topk_of_teacher_attention_per_image():
    s, t = feats(n=4, h=8, w=8, seed=1)
    t[2] *= 100  # one image with much larger activations must not steal the others' regions
    loss = RegionAwareDistillLoss(6, 10, num_regions=5)
    idx = loss.select_regions(s, t)
    att = t.abs().mean(1).flatten(1)
    for n in range(4):
        assert set(idx[n].tolist()) == set(att[n].argsort(descending=True)[:5].tolist())
    # student_attention uses the student
    idx_s = RegionAwareDistillLoss(6, 10, 5, region_selector='student_attention') \
        .select_regions(s, t)
    att_s = s.abs().mean(1).flatten(1)
    assert set(idx_s[0].tolist()) == set(att_s[0].argsort(descending=True)[:5].tolist())


def test_gradients_reach_student_only():
    s, t = feats()
    s.requires_grad_(True)
    t.requires_grad_(True)
    loss = RegionAwareDistillLoss(6, 10, num_regions=8)
    loss(s, t).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None
    assert all(not p.requires_grad and p.grad is None for p in loss.projector.parameters())


def test_projector_init_and_frozen():
    loss = RegionAwareDistillLoss(64, 256, projector='mlp')
    lin1, relu, lin2 = loss.projector
    assert (lin1.in_features, lin1.out_features, lin2.out_features) == (256, 64, 64)
    assert isinstance(relu, torch.nn.ReLU)
    assert abs(lin1.weight.std().item() - 0.02) < 0.002 and lin1.bias.abs().max() == 0
    assert not any(p.requires_grad for p in loss.parameters())
    assert set(loss.state_dict()) == {'projector.0.weight', 'projector.0.bias',
                                      'projector.2.weight', 'projector.2.bias'}
    assert isinstance(RegionAwareDistillLoss(4, 8, projector='linear').projector, torch.nn.Linear)


def test_perfect_student_scores_lower_than_random():
    s, t = feats(cs=10, ct=10, seed=4)
    loss = RegionAwareDistillLoss(10, 10, num_regions=16, projector='identity')
    assert loss(t.clone(), t) < loss(s, t)
    # a student equal to the teacher reaches the InfoNCE floor up to the negatives' similarity
    assert loss(t.clone(), t) < math.log(16)


def test_errors_are_clear():
    s, t = feats(h=4, w=4)
    with pytest.raises(ValueError, match=r'num_regions=20 is larger than the 4x4=16'):
        RegionAwareDistillLoss(6, 10, num_regions=20)(s, t)
    assert RegionAwareDistillLoss(6, 10, num_regions=None)(s, t).isfinite()
    with pytest.raises(ValueError, match=r'\(3, 6, 4, 4\).*\(3, 10, 8, 8\)'):
        RegionAwareDistillLoss(6, 10, num_regions=4)(s, torch.randn(3, 10, 8, 8))
    with pytest.raises(ValueError, match="projector='identity' needs equal channels"):
        RegionAwareDistillLoss(6, 10, projector='identity')
    with pytest.raises(ValueError, match='region_selector must be one of'):
        RegionAwareDistillLoss(6, 10, region_selector='vgg_gradcam')
    with pytest.raises(ValueError, match="'saliency' needs the input image"):
        RegionAwareDistillLoss(6, 10, num_regions=4, region_selector='saliency')(s, t)
    with pytest.raises(ValueError, match='channel mismatch'):
        RegionAwareDistillLoss(5, 10, num_regions=4)(s, t)


def test_saliency_selector_uses_the_input_image():
    """region_selector='saliency' keeps the K most salient cells of the input image."""
    from reko_mm.losses import saliency_scores
    s, t = feats(n=2, h=8, w=8, seed=5)
    g = torch.Generator().manual_seed(2)
    image = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    loss = RegionAwareDistillLoss(6, 10, num_regions=6, region_selector='saliency')
    idx = loss.select_regions(s, t, image)
    scores = saliency_scores(image, 8, 8)
    for n in range(2):
        assert set(idx[n].tolist()) == set(scores[n].argsort(descending=True)[:6].tolist())
    assert torch.allclose(loss(s, t, image=image), reference(loss, s, t, idx), atol=1e-5)
