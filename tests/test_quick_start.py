"""`make demo`'s script (tools/quick_start.sh) end to end at a tiny budget: the ground-truth
table of the teacher and both students, the files it names, and the student checkpoint
strict-loading into the plain no-KD config as the message says."""
import os
import re
import subprocess
import sys

import torch
from mmengine.config import Config

from conftest import ROOT


def test_quick_start_prints_the_table_and_what_it_says_is_true(tmp_path):
    work = tmp_path / 'quick_start'
    env = dict(os.environ, REKO_VENV=sys.prefix, WORK=str(work), TEACHER_ITERS='2',
               STUDENT_ITERS='2', OMP_NUM_THREADS='2')
    proc = subprocess.run(['bash', 'tools/quick_start.sh'], cwd=ROOT, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:]
    assert re.search(r'^Teacher: object PSNR [\d.]+ dB', out, re.M), out
    for arm in ('nokd', 'reko'):
        assert re.search(rf'^\| {arm} \| [\d.]+ \|', out, re.M), out  # one run: no std
    paths = dict(re.findall(r'^  (student checkpoint|teacher checkpoint|sample grid|'
                            r'attention \+ regions) *: (\S+)', out, re.M))
    assert len(paths) == 4, out
    for path in paths.values():
        assert os.path.isfile(path), path
    assert 'reko_seed0' in paths['student checkpoint']

    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    cfg = Config.fromfile(os.path.join(ROOT, 'configs/reko/bands/pix2pix_bands_nokd.py'))
    plain = MODELS.build(cfg.model)
    state = torch.load(paths['student checkpoint'], map_location='cpu', weights_only=False)
    plain.load_state_dict(state['state_dict'], strict=True)
    assert 'distill' in state, 'the distillation state is kept for --resume'
