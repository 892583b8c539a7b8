"""The attention figure shows exactly the regions the loss distils."""
import numpy as np
import pytest
import torch

from reko_mm.analysis import attention_figure, to_input
from reko_mm.losses import attention_map
from test_teacher_student import MODELS, cyclegan_cfg, reko_cfg, teacher_ckpt


@pytest.mark.parametrize('selector', ['teacher_attention', 'student_attention'])
def test_figure_regions_are_the_selected_ones(selector, tmp_path):
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    cfg = reko_cfg(cyclegan_cfg(8), ckpt, 16, k=10)
    cfg['distill']['loss']['region_selector'] = selector
    model = MODELS.build(cfg).eval()
    img = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    mask = np.zeros((32, 32), bool)
    mask[:16] = True
    fig, stats = attention_figure(model, img, domain='b', layer='model.4', mask=mask)
    assert fig.shape == (128, 3 * 128, 3)
    assert (stats['k'], stats['h'], stats['w']) == (10, 8, 8)
    net = model.teacher['b'] if selector == 'teacher_attention' else model.generators['b']
    feats = {}
    handle = net.model[4].register_forward_hook(lambda m, i, o: feats.setdefault('f', o.clone()))
    with torch.no_grad():
        net(to_input(img, model))
    handle.remove()
    top = set(attention_map(feats['f'])[0].flatten().topk(10).indices.tolist())
    cells = np.zeros((8, 8), bool)
    for i in top:
        cells.flat[i] = True
    assert stats['on_object'] == pytest.approx(cells[:4].sum() / 10)
    assert stats['object_share'] == pytest.approx(0.5)
