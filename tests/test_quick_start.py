"""`make demo`'s script (tools/quick_start.sh) end to end at a tiny budget: the real vintagify
teacher into a 7x student, every number and path it prints, and the student checkpoint
strict-loading into its plain no-KD config as the message says."""
import json
import os
import re
import subprocess
import sys

import cv2
import pytest

from conftest import ROOT, THREADS

pytestmark = pytest.mark.skipif(
    __import__('importlib').util.find_spec('vintagify') is None,
    reason='vintagify is not installed (tools/setup_env.sh installs it)')


def test_quick_start_prints_what_it_measured_and_what_it_says_is_true(tmp_path):
    work = tmp_path / 'demo'
    env = dict(os.environ, REKO_VENV=sys.prefix, WORK=str(work), STEPS='2',
               OMP_NUM_THREADS=THREADS)
    proc = subprocess.run(['bash', 'tools/quick_start.sh'], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:]
    # a progress line per stage, with the elapsed time and what is left
    stages = re.findall(r'^== \[(\d)/6\] .* \(elapsed [\d.]+ min, about [\d.]+ min left\)$', out,
                        re.M)
    assert stages == ['1', '2', '3', '4', '5', '6'], out
    summary = json.load(open(work / 'summary.json'))
    # parameters, latency and speed-up, as printed and as measured
    teacher = re.search(r'^teacher: ([\d.]+) M parameters, ([\d.]+) ms per 256x256 photo', out,
                        re.M)
    student = re.search(r'^student: ([\d.]+) M parameters \(([\d.]+)x fewer\), ([\d.]+) ms: '
                        r'([\d.]+)x faster', out, re.M)
    assert teacher and student, out
    assert float(teacher.group(1)) == pytest.approx(11.39, abs=0.005)  # vintagify's generator
    assert float(student.group(1)) == pytest.approx(1.61, abs=0.005)  # ngf 24
    speed = summary['speed']
    assert float(teacher.group(2)) == pytest.approx(speed['teacher_ms'], abs=0.05)
    assert float(student.group(4)) == pytest.approx(speed['teacher_ms'] / speed['student_ms'],
                                                    abs=0.006)
    # the released student, the short run and the photo itself, as printed and as measured
    rows = {}
    for label, key in (('released 7x student', 'released'), ('short run, this machine', 'short'),
                       ('(the photo itself, unchanged)', 'identity')):
        row = re.search(rf'^\| {re.escape(label)} \| ([\d.]+) \| ([\d.]+) \|$', out, re.M)
        assert row, out
        rows[key] = float(row.group(1)), float(row.group(2))
        assert rows[key][0] == pytest.approx(summary[key]['psnr'], abs=0.006)
        assert rows[key][1] == pytest.approx(summary[key]['ssim'], abs=0.0006)
    assert 15 < rows['identity'][0] < 40 and 0.5 < rows['identity'][1] <= 1, out
    # the released student has learnt the filter: well past the unchanged photo on both
    assert rows['released'][0] > rows['identity'][0] + 1, out
    assert rows['released'][1] > rows['identity'][1], out
    # two steps teach nothing, and the demo says so rather than ranking anything
    assert 'The short run does NOT beat the unchanged photo: 8 images (2 steps)' in out, out
    # every path it names exists; the picture is 256x256 per image
    paths = dict(re.findall(r'^  (side by side|released student|short-run student|'
                            r'exported student|everything) *: (\S+)', out, re.M))
    assert len(paths) == 5, out
    for path in paths.values():
        assert os.path.exists(path), path
    grid = cv2.imread(paths['side by side'])
    assert grid.shape == (2 * 256, 4 * 256, 3)  # 2 held-out photos x (photo, teacher, 2 students)
    from reko_mm.apis import released_student
    release = released_student(summary['released']['name'])
    assert paths['released student'] == release['weights']
    # the export is of the released student, in a folder named by its sha256
    assert f"export_{release['sha256'][:8]}" in paths['exported student']
    manifest = json.load(open(work / f"export_{release['sha256'][:8]}" /
                              'vintagify_7x_nokd_fast_deploy.json'))
    assert paths['exported student'].endswith(manifest['photo2vintage']['file'])
    # the short run is the fast recipe: cached targets, initialised from the teacher
    log = open(work / 'short' / 'train.log').read()
    assert 'initialised from the teacher (norm_scale' in log
    assert "the teacher's translations cached" in log

    # the short-run checkpoint is a plain MMagic Pix2Pix checkpoint of its config
    import reko_mm  # noqa: F401
    from mmagic.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from reko_mm.apis import student_config
    init_default_scope('mmagic')
    cfg = student_config(Config.fromfile(
        os.path.join(ROOT, 'configs/reko/vintagify/vintagify_7x_nokd_fast.py')))
    assert cfg.model.type == 'Pix2Pix'
    plain = MODELS.build(cfg.model)
    from reko_mm.utils.safe_load import safe_torch_load
    state = safe_torch_load(paths['short-run student'])  # weights only, mmengine's types allowed
    plain.load_state_dict(state['state_dict'], strict=True)
    assert 'distill' in state, 'the distillation state is kept for --resume'
