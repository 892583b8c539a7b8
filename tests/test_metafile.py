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
    # every ReKo config, and the configs of the released students
    assert sorted(m['Config'] for m in META['Models'] if not m.get('Weights')) == reko_configs()
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


RELEASED = [m for m in META['Models'] if m.get('Weights')]


@pytest.mark.parametrize('model', RELEASED, ids=[m['Name'] for m in RELEASED])
def test_a_released_student_is_the_file_the_metafile_names_and_loads_into_its_config(model):
    """The weights are in the repository, at most 8 MB, with the recorded sha256, generators
    only, and they load strictly into the plain student of their config."""
    import torch

    from reko_mm.apis import released_student, student_config
    from reko_mm.utils import is_generators_only
    release = released_student(model['Name'])
    assert osp.getsize(release['weights']) <= 8 * 10**6
    ckpt = torch.load(release['weights'], map_location='cpu', weights_only=True)
    assert is_generators_only(ckpt)
    cfg = student_config(Config.fromfile(release['config']))
    cfg.model.discriminator = None
    MODELS.build(cfg.model).load_state_dict(ckpt['state_dict'], strict=True)


def test_a_release_file_is_checked_against_the_metafile_before_it_is_read(tmp_path):
    """released_student returns a listed file whose sha256 is the metafile's; a changed file (a
    Git LFS pointer, a partial copy), a missing one and an unlisted name are refused, named."""
    from reko_mm.apis import ReleaseError, released_student
    from reko_mm.utils.checkpoint import file_sha256
    root = tmp_path / 'repo'
    weights = root / 'configs' / 'reko' / 'weights' / 'student.pth'
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b'weights')
    meta = root / 'configs' / 'reko' / 'metafile.yml'
    entry = dict(Name='student', Config='configs/reko/student.py',
                 Weights='configs/reko/weights/student.pth', SHA256=file_sha256(str(weights)))
    meta.write_text(yaml.safe_dump(dict(Models=[entry, dict(Name='other', Weights=None)])))
    found = released_student('student', str(meta))
    assert found['weights'] == str(weights) and found['config'] == str(root / entry['Config'])
    with pytest.raises(ReleaseError, match="no released student 'other'"):
        released_student('other', str(meta))
    weights.write_text('version https://git-lfs.github.com/spec/v1\n')
    with pytest.raises(ReleaseError, match='not the released one'):
        released_student('student', str(meta))
    weights.unlink()
    with pytest.raises(ReleaseError, match='not found'):
        released_student('student', str(meta))
