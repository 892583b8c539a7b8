"""tools/misc/gpu_check.sh: its --dry-run runs every stage on the CPU (the CUDA tests, the
step timings, the time-budgeted training, the scores) and writes what the GPU run writes; the
time budget ends a run as max_iters would; bad input is refused before anything runs."""
import json
import os
import subprocess
import types

import pytest
import torch

from conftest import ROOT, THREADS


def gpu_check(args, **kwargs):
    env = dict(os.environ, OMP_NUM_THREADS=THREADS, REKO_PYTHON=os.environ.get(
        'REKO_PYTHON', __import__('sys').executable))
    return subprocess.run(['bash', 'tools/misc/gpu_check.sh'] + args, cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=900, **kwargs)


def test_dry_run_runs_every_stage_and_writes_the_figures(tmp_path):
    out = tmp_path / 'check'
    proc = gpu_check([str(out), '--dry-run'])
    assert proc.returncode == 0, proc.stdout[-4000:]
    result = json.loads((out / 'gpu_check.json').read_text())
    assert result['failed'] == [] and result['dry_run'] and result['device'] == 'cpu'
    assert result['environment']['mmcv_ops'] in ('stand-in (mmcv-lite)', 'compiled')
    tests = result['cuda_tests']
    assert tests['returncode'] == 0 and tests['tests'] >= 5 and tests['skipped'] == tests['tests']
    cells = {(r['step'], r['batch'], r['precision']) for r in result['steps']}
    assert {('baseline', 2, 'fp32'), ('reko', 2, 'fp32'), ('teacher forward', 2, 'fp32')} <= cells
    assert all(r['images_per_s'] == pytest.approx(r['batch'] / r['seconds'])
               for r in result['steps'])
    s = result['student']
    metrics = json.loads(open(os.path.join(
        os.path.dirname(s['config']), 'test_metrics.json')).read())
    assert (s['psnr'], s['ssim']) == (metrics['teacher/psnr'], metrics['teacher/ssim'])
    assert 0 < s['identity']['psnr'] < 100 and s['curve'] and s['iters'] >= 1
    # the time budget, not max_iters, ended the run
    train_log = open(os.path.join(os.path.dirname(s['config']), 'train.log')).read()
    assert f"spent; iteration {s['iters']} is the last" in train_log
    released = torch.load(out / 'student_7x.pth', weights_only=True)
    assert released['meta']['iter'] == s['iters']
    assert released['state_dict'] and all(k.startswith('generators.vintage.')
                                          for k in released['state_dict'])
    assert os.path.getsize(out / 'side_by_side.png') > 1000
    assert 'GPU check passed' in proc.stdout and str(out / 'gpu_check.json') in proc.stdout
    again = gpu_check([str(out), '--dry-run'])  # never overwrites a finished check
    assert again.returncode == 1 and 'already holds a GPU check' in again.stdout


def test_refusals(tmp_path):
    proc = gpu_check([str(tmp_path / 'a'), '--wheels', str(tmp_path)])
    assert proc.returncode == 2 and f"no wheels (*.whl) in '{tmp_path}'" in proc.stdout
    if not torch.cuda.is_available():
        proc = gpu_check([str(tmp_path / 'b'), '--no-tests'])
        assert proc.returncode == 1 and 'sees no CUDA GPU' in proc.stdout
        assert '--dry-run' in proc.stdout and not (tmp_path / 'b').exists()


def test_time_budget_ends_the_run_at_the_next_iteration(monkeypatch):
    from mmengine.runner import IterBasedTrainLoop

    from reko_mm.engine import TimeBudgetHook
    loop = IterBasedTrainLoop.__new__(IterBasedTrainLoop)
    loop._max_iters, loop._iter = 100, 0
    runner = types.SimpleNamespace(train_loop=loop, iter=0)
    hook = TimeBudgetHook(minutes=1)
    clock = [1000.0]
    monkeypatch.setattr('time.time', lambda: clock[0])
    hook.before_train(runner)
    runner.iter = 10
    clock[0] += 59
    hook.before_train_iter(runner, 10)
    assert loop._max_iters == 100  # within the budget
    clock[0] += 2
    hook.before_train_iter(runner, 10)
    assert loop._max_iters == 11  # iteration 11 is the last: saved and validated as usual
    with pytest.raises(ValueError, match='minutes must be > 0'):
        TimeBudgetHook(minutes=0)
    with pytest.raises(TypeError, match='iteration-based'):
        TimeBudgetHook(minutes=1).before_train(types.SimpleNamespace(train_loop=object()))
