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
import torch

from conftest import ROOT, THREADS

pytestmark = pytest.mark.skipif(
    __import__('importlib').util.find_spec('vintagify') is None,
    reason='vintagify is not installed (tools/setup_env.sh installs it)')


def test_quick_start_prints_what_it_measured_and_what_it_says_is_true(tmp_path):
    work = tmp_path / 'demo'
    env = dict(os.environ, REKO_VENV=sys.prefix, WORK=str(work), ITERS='2',
               OMP_NUM_THREADS=THREADS)
    proc = subprocess.run(['bash', 'tools/quick_start.sh'], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:]
    # a progress line per stage, with the elapsed time and what is left
    stages = re.findall(r'^== \[(\d)/5\] .* \(elapsed [\d.]+ min, about [\d.]+ min left\)$', out,
                        re.M)
    assert stages == ['1', '2', '3', '4', '5'], out
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
    # the scores of the three students and of the photo itself
    for label, key in (('teacher-target baseline', 'nokd'), ('ReKo', 'reko'),
                       ('ReKo, initialised from the teacher', 'reko_init')):
        row = re.search(rf'^\| {re.escape(label)} \| ([\d.]+) \| ([\d.]+) \|$', out, re.M)
        assert row, out
        assert float(row.group(1)) == pytest.approx(summary['runs'][key]['psnr'], abs=0.006)
        assert float(row.group(2)) == pytest.approx(summary['runs'][key]['ssim'], abs=0.0006)
    row = re.search(r'^\| \(the photo itself, unchanged\) \| ([\d.]+) \| ([\d.]+) \|$', out,
                    re.M)
    assert row and 15 < float(row.group(1)) < 40 and 0.5 < float(row.group(2)) <= 1, out
    # every path it names exists; the picture is 256x256 per image
    paths = dict(re.findall(r'^  (side by side|student checkpoint|exported student|everything)'
                            r' *: (\S+)', out, re.M))
    assert len(paths) == 4, out
    for path in paths.values():
        assert os.path.exists(path), path
    grid = cv2.imread(paths['side by side'])
    assert grid.shape == (2 * 256, 5 * 256, 3)  # 2 held-out photos x (photo, teacher, 3 students)
    assert 'reko_init' in paths['student checkpoint']
    # the initialised student was sliced from the teacher (its log says so), the others not
    for arm, initialised in (('nokd', False), ('reko', False), ('reko_init', True)):
        log = open(work / arm / 'train.log').read()
        assert ('initialised from the teacher (norm_scale' in log) == initialised, arm
    manifest = json.load(open(work / 'export' / 'config_deploy.json'))['photo2vintage']
    assert paths['exported student'].endswith(manifest['file'])

    # the student checkpoint is a plain MMagic Pix2Pix checkpoint of the no-KD config
    import reko_mm  # noqa: F401
    from mmagic.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from reko_mm.apis import student_config
    init_default_scope('mmagic')
    cfg = student_config(Config.fromfile(
        os.path.join(ROOT, 'configs/reko/vintagify/vintagify_7x_nokd.py')))
    assert cfg.model.type == 'Pix2Pix'
    plain = MODELS.build(cfg.model)
    state = torch.load(paths['student checkpoint'], map_location='cpu', weights_only=False)
    plain.load_state_dict(state['state_dict'], strict=True)
    assert 'distill' in state, 'the distillation state is kept for --resume'
