"""The attention figure shows exactly the regions the loss distils."""
import os
import re

import numpy as np
import pytest
import torch

from reko_mm.visualization import attention_figure, to_input
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


def _same_weights_student(tmp_path):
    """A ReKo model whose student is a copy of its teacher, with an identity projector."""
    ckpt, teacher = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    cfg = reko_cfg(cyclegan_cfg(16), ckpt, 16, k=10)
    cfg['distill']['loss']['projector'] = 'identity'
    model = MODELS.build(cfg).eval()
    model.generators.load_state_dict(teacher.generators.state_dict())
    return model


def test_similarity_peaks_at_the_positive_for_a_perfect_student(tmp_path):
    from reko_mm.visualization import region_similarity, similarity_figure
    model = _same_weights_student(tmp_path)
    img = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
    x = to_input(img, model)
    for region in [None, (2, 5)]:
        stats = region_similarity(model, x, 'b', 'model.4', region)
        pos = stats['pos'] if region is None else 2 * 8 + 5
        assert stats['pos'] == pos
        assert stats['sim'].flatten()[pos] == pytest.approx(1.0, abs=1e-5)
        assert stats['rank'] == 1
        assert stats['p_positive'] > stats['chance']
    fig, _ = similarity_figure(model, img, 'b', 'model.4')
    assert fig.shape == (128, 256, 3)
    with pytest.raises(ValueError, match='outside the 8x8 feature map'):
        region_similarity(model, x, 'b', 'model.4', (8, 0))


def test_similarity_is_cosine_through_the_projector(tmp_path):
    import torch.nn.functional as F
    from reko_mm.visualization import record_layer, region_similarity
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    model = MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16, k=10)).eval()
    x = to_input(np.random.default_rng(1).integers(0, 255, (32, 32, 3), dtype=np.uint8), model)
    stats = region_similarity(model, x, 'b', 'model.6', (3, 3))
    with torch.no_grad():
        t = record_layer(model.teacher['b'], 'model.6', x)[0].flatten(1).t()
        s = record_layer(model.generators['b'], 'model.6', x)[0].flatten(1)[:, 3 * stats['w'] + 3]
        proj = model.distill.term('reko', 'b', 1).loss.projector
        expected = F.normalize(proj(t), dim=-1) @ F.normalize(s, dim=0)
    assert torch.allclose(stats['sim'].flatten(), expected, atol=1e-5)


def test_attention_hook_logs_the_figure(tmp_path):
    from mmengine.visualization import Visualizer
    from reko_mm.engine import AttentionVisHook
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    model = MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16, k=10)).train()
    vis = Visualizer(name='reko_hook_test', vis_backends=[dict(type='LocalVisBackend')],
                     save_dir=str(tmp_path / 'vis'))

    class Runner:
        def __init__(self):
            self.model, self.visualizer, self.iter = model, vis, 0

    runner, hook = Runner(), AttentionVisHook(interval=2, domain='b')
    rng = np.random.default_rng(0)
    for it in range(4):
        runner.iter = it
        batch = {'inputs': {'img_a': torch.from_numpy(rng.integers(0, 255, (1, 3, 32, 32),
                                                                   dtype=np.uint8)),
                            'img_b': torch.zeros(1, 3, 32, 32, dtype=torch.uint8)}}
        if it == 1:
            first = batch['inputs']['img_a'][0].permute(1, 2, 0).numpy()
        hook.after_train_iter(runner, it, batch)
        assert model.training  # restored after the figure
    files = sorted(os.listdir(tmp_path / 'vis' / 'vis_data' / 'vis_image'))
    assert files == ['reko_attention_b_2.png', 'reko_attention_b_4.png']
    assert np.array_equal(hook._image, first)  # the image of the first logged step is kept
    with pytest.raises(ValueError, match='interval'):
        AttentionVisHook(interval=0)


def test_visualize_attention_refuses_bad_images_before_building(tmp_path):
    """A bad image, pair half or mask is named, before any model or checkpoint is loaded."""
    import cv2
    from conftest import run_tool
    single = str(tmp_path / 'single.png')
    cv2.imwrite(single, np.zeros((32, 32, 3), np.uint8))
    base = ['tools/analysis_tools/visualize_attention.py',
            'configs/reko/synthetic/cyclegan_synthetic_7x.py', str(tmp_path / 'no.pth')]
    cases = [([single, str(tmp_path / 'a.png'), '--pair-half', 'B'],
              r'--pair-half: .*single.png is 32x32, not a pair of two square halves side by '
              r'side; leave --pair-half out'),
             ([str(tmp_path / 'none.png'), str(tmp_path / 'b.png')],
              r'cannot read image .*none.png'),
             ([single, str(tmp_path / 'c.png'), '--mask', str(tmp_path / 'nomask.png')],
              r'cannot read --mask .*nomask.png')]
    for i, (args, message) in enumerate(cases):
        proc = run_tool(base + args, check=False, timeout=300, fresh=i == 0)
        assert proc.returncode != 0
        assert re.search(message, proc.stdout), proc.stdout[-2000:]
    assert not any((tmp_path / out).exists() for out in ['a.png', 'b.png', 'c.png'])
