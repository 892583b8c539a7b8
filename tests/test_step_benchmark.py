"""tools/analysis_tools/benchmark_distill_step.py: every arm timed at each size, batch size and
precision in one run; what it cannot run is refused or skipped with why."""
import json

import pytest

from conftest import run_tool

TOOL = 'tools/analysis_tools/benchmark_distill_step.py'


def test_step_benchmark_rows_for_every_batch_and_precision(tmp_path):
    out = run_tool([TOOL, '--sizes', '32', '--batch-size', '1', '2', '--precisions', 'fp32',
                    'bf16', '--methods', 'reko', 'cat', '--repeats', '1', '--json',
                    str(tmp_path / 'steps.json')], fresh=True).stdout
    saved = json.load(open(tmp_path / 'steps.json'))
    got = [(r['batch'], r['precision'], r['arm']) for r in saved['rows']]
    base = ['teacher', 'student', 't-forward']
    assert got == [(1, p, a) for p in ('fp32', 'bf16') for a in base + ['reko']] + \
        [(2, p, a) for p in ('fp32', 'bf16') for a in base + ['reko', 'cat']], out[-3000:]
    # CAT compares the images of a batch: skipped at batch 1, and said so
    assert out.count('skipped cat at batch 1: it needs at least 2 images a batch') == 2
    for r in saved['rows']:
        assert r['step_s'] > 0 and r['steps_per_s'] == pytest.approx(1 / r['step_s'])
        assert r['peak_extra_gib'] is None  # peak memory is measured on CUDA only
        if r['arm'] in ('reko', 'cat'):
            assert r['over_student_and_teacher'] > 0
    assert '32x32, batch 2, bf16' in out and '| reko (reko) |' in out
    assert saved['device'].startswith('CPU')


@pytest.mark.parametrize('args, message', [
    (['--precisions', 'fp16'], 'float16 autocast needs a GPU'),
    (['--device', 'cuda'], 'sees no CUDA GPU'),
])
def test_step_benchmark_refuses_what_this_machine_cannot_run(args, message):
    import torch
    if '--device' in args and torch.cuda.is_available():
        pytest.skip('this machine has a CUDA GPU')
    proc = run_tool([TOOL, '--sizes', '32'] + args, check=False, timeout=300)
    assert proc.returncode != 0 and message in proc.stdout
