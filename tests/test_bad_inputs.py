"""Bad inputs fail when the config is built, with a message that names the problem and the fix."""
import os

import pytest
from mmengine.config import Config

import reko_mm  # noqa: F401
from mmagic.registry import MODELS

from reko_mm.utils import check_data_roots
from conftest import logged
from test_teacher_student import LAYERS, cyclegan_cfg, reko_cfg, teacher_ckpt


def reko_loss(**kw):
    return dict(layers=LAYERS, loss=dict(type='RegionAwareDistillLoss', **kw))


CASES = {
    'num_regions=True': (dict(distill=reko_loss(num_regions=True)), ValueError,
                         r'num_regions \(K\) must be an int >= 2.*got True'),
    'num_regions=1': (dict(distill=reko_loss(num_regions=1)), ValueError,
                      r'got 1\. With one region InfoNCE has no negatives and is identically 0'),
    'negative loss_weight': (dict(distill=reko_loss(loss_weight=-2.0)), ValueError,
                             r'loss_weight=-2\.0 is negative'),
    'string temperature': (dict(distill=reko_loss(temperature='0.07')), TypeError,
                           r"temperature must be a number, got '0\.07' \(str\)"),
    'unknown distill key': (dict(distill=dict(layers=LAYERS, loss=dict(
        type='RegionAwareDistillLoss'), num_region=64)), ValueError,
        r"unknown keys in model\.distill: \['num_region'\]; valid keys: \['type', 'layers'"),
    'unknown term key': (dict(distill=dict(layers=LAYERS, losses=dict(reko=dict(
        loss=dict(type='RegionAwareDistillLoss'), weight=2.0)))), ValueError,
        r"unknown keys in model\.distill\.losses\.reko: \['weight'\]"),
    'layers as a string': (dict(distill=dict(layers='model.6', loss=dict(
        type='RegionAwareDistillLoss'))), TypeError,
        r"model\.distill\.layers must be a list of layer names, got the string 'model\.6'; "
        r"write layers=\['model\.6'\]"),
    'K larger than the feature map': (dict(distill=reko_loss(num_regions=300)), ValueError,
                                      r'num_regions=300 is larger than the 16x16=256 positions.*'
                                      r'64x64 input, model\.distill\.probe_size'),
    'unknown teacher key': (dict(teacher_extra=dict(norm_eval=True)), ValueError,
                            r"unknown keys in model\.teacher: \['norm_eval'\]"),
    'no terms': (dict(distill=dict(layers=LAYERS, losses=dict(reko=None))), ValueError,
                 r'model\.distill has no terms.*use its _nokd config'),
    'a partial loss= on a losses= config': (dict(distill=dict(losses=dict(reko=dict(
        inputs=dict(layers=LAYERS), loss=dict(type='RegionAwareDistillLoss'))),
        loss=dict(region_selector='all'))), ValueError,
        r"model\.distill\.loss=\{'region_selector': 'all'\} sets keys of the older form.*"
        r"--cfg-options model\.distill\.losses\.reko\.loss\.region_selector='all'"),
    'connector on images': (dict(distill=dict(losses=dict(kd=dict(
        inputs='images', connector=dict(type='Conv1x1Connector'),
        loss=dict(type='OutputL1Loss'))))), ValueError,
        r'a term reading images takes none'),
}


@pytest.mark.parametrize('case', list(CASES) + ['empty dataset folder'])
def test_bad_input_is_refused_at_build_with_the_fix(case, tmp_path):
    if case == 'empty dataset folder':
        for split in ('trainA', 'trainB'):
            os.makedirs(tmp_path / 'data' / split)
        (tmp_path / 'data' / 'trainA' / 'notes.txt').write_text('not an image')
        cfg = Config(dict(train_dataloader=dict(dataset=dict(
            type='UnpairedImageDataset', data_root=str(tmp_path / 'data')))))
        with pytest.raises(FileNotFoundError, match=r'trainA, .*trainB holds no images'):
            check_data_roots(cfg)
        return
    change, error, message = CASES[case]
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    cfg = reko_cfg(cyclegan_cfg(8), ckpt, 16, distill=change.get('distill'),
                   **change.get('teacher_extra', {}))
    with pytest.raises(error, match=message):
        MODELS.build(cfg)


def test_the_older_distill_form_is_read_with_the_new_key_named(tmp_path):
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    with logged() as out:
        model = MODELS.build(reko_cfg(cyclegan_cfg(8), ckpt, 16))  # distill=dict(layers, loss)
    assert list(model.distill.terms) == ['reko']
    assert 'model.distill.loss (with model.distill.layers) is the older form of the term ' \
           "'reko': it is read as model.distill.losses.reko" in out.getvalue()
