"""tools/benchmarks/reko_results.py end to end on a tiny paired set, and a rerun that repeats
nothing (its logic, including resuming a partial run and refusing a work dir of another budget,
is tested in-process in test_benchmarks.py)."""
import glob
import json
import os.path as osp

import cv2

from conftest import run_tool

TOOL = 'tools/benchmarks/reko_results.py'
TINY = ['--size', '64', '--teacher-iters', '2', '--student-iters', '2', '--eval-interval', '2',
        '--eval-images', '4']


def test_three_arms_end_to_end_then_rerun_reuses_them(synthetic_paired, tmp_path):
    work = tmp_path / 'run'
    args = [TOOL, 'facades', '--data-root', synthetic_paired, '--work-dir', str(work),
            '--seeds', '0'] + TINY
    run_tool(args, fresh=True)
    runs = json.load(open(work / 'results.json'))
    assert [(r['arm'], r['seed']) for r in runs] == [('teacher', 0), ('nokd', 0), ('reko', 0)]
    for r in runs:
        assert r['metrics']['FID-Full/fid'] > 0 and r['metrics']['KID-Full/kid'] == \
            r['metrics']['KID-Full/kid']  # a number, not NaN
        assert [it for it, _ in r['curve']] == [2]  # one in-training validation
        assert osp.basename(r['ckpt']) == 'iter_2.pth'
    table = open(work / 'results.md').read()
    # the ReKo student was distilled from this run's teacher checkpoint, the plain one not
    from mmengine.config import Config
    reko = Config.fromfile(str(work / 'reko_seed0' / 'budget_cfg.py')).model
    assert reko.teacher.ckpt == str(work / 'teacher_seed0' / 'iter_2.pth')
    assert 'teacher' not in Config.fromfile(str(work / 'nokd_seed0' / 'budget_cfg.py')).model
    for name in ('teacher (1 run)', 'student, no KD (1 run)', 'student, ReKo (1 run)'):
        assert name in table
    assert table.count('tools/train.py') == 3 and table.count('tools/test.py') == 3
    grid = cv2.imread(str(work / 'samples.png'))
    assert grid.shape == (4 * 64, 4 * 64, 3)  # 4 test images x (input, teacher, no KD, ReKo)
    # the input column is the first test pair's source half, colours as in the file
    pair = cv2.imread(sorted(glob.glob(f'{synthetic_paired}/test/*.png'))[0]).astype(float)
    halves = [pair[:, :64], pair[:, 64:]]
    assert min(abs(grid[:64, :64] - h).mean() for h in halves) < 2
    assert min(abs(grid[:64, :64] - h[:, :, ::-1]).mean() for h in halves) > 10
    assert cv2.imread(str(work / 'curves.png')) is not None

    # a rerun reuses every finished run (what it would do: --dry-run); reuse, resume and
    # stale-run refusal are tested in-process in test_benchmarks.py
    ckpt = work / 'reko_seed0' / 'iter_2.pth'
    stamp = ckpt.stat().st_mtime_ns
    out = run_tool(args + ['--dry-run']).stdout
    assert '$ ' not in out  # nothing trained or tested again
    assert out.count('done before, not repeated') == 3
    assert ckpt.stat().st_mtime_ns == stamp
