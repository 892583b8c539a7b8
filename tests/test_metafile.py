"""configs/reko/metafile.yml (MMagic's format) lists every shipped ReKo config, names only configs
that exist, and its parameter counts are the configs' own."""
import glob
import os.path as osp

import pytest
import yaml
from mmengine.config import Config

import reko_mm  # noqa: F401
from mmagic.registry import MODELS
from mmengine.registry import init_default_scope

from conftest import ROOT

init_default_scope('mmagic')
META = yaml.safe_load(open(osp.join(ROOT, 'configs', 'reko', 'metafile.yml')))


def reko_configs():
    found = []
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', 'reko', '**', '*.py'), recursive=True)):
        if '/_base_/' in path:
            continue
        model = Config.fromfile(path).model
        if model.type == 'TeacherStudentGAN' and 'reko' in (model.distill.get('losses') or {}):
            found.append(osp.relpath(path, ROOT))
    return found


def test_every_reko_config_is_listed_and_every_listed_config_exists():
    listed = [m['Config'] for m in META['Models']]
    assert len(listed) == len(set(listed))
    for path in listed:
        assert osp.isfile(osp.join(ROOT, path)), path
    assert sorted(listed) == reko_configs()
    assert META['Collections'][0]['Paper']['URL'] == 'https://arxiv.org/abs/2205.12451'
    assert osp.isfile(osp.join(ROOT, META['Collections'][0]['README']))


@pytest.mark.parametrize('model', [m for m in META['Models'] if '/synthetic/' not in m['Config']],
                         ids=lambda m: m['Name'])
def test_the_listed_sizes_are_the_configs(model):
    from reko_mm.apis import teacher_and_student_generators
    gens = teacher_and_student_generators(Config.fromfile(osp.join(ROOT, model['Config'])))
    for role, key in (('student', 'Student Params (M)'), ('teacher', 'Teacher Params (M)')):
        n = sum(p.numel() for p in MODELS.build(gens[role]).parameters()) / 1e6
        assert model['Metadata'][key] == pytest.approx(n, abs=0.0006), (role, n)
