"""tools/benchmarks/kd_benchmark.py end to end (its logic is tested in-process in
test_benchmarks.py): a run on the ground-truth set with a table, p-values, curves and samples,
and a rerun that repeats nothing."""
import json
import re

import cv2
import pytest

from conftest import run_tool

TOOL = 'tools/benchmarks/kd_benchmark.py'
TINY = ['--teacher-iters', '2', '--student-iters', '2', '--eval-interval', '1', '--jobs', '2']


def test_end_to_end_then_rerun_reuses_everything(tmp_path):
    args = [TOOL, '--work-dir', str(tmp_path), '--models', 'pix2pix', '--seeds', '0',
            '--arms', 'nokd', 'reko', '--widths', '4'] + TINY
    out = run_tool(args, fresh=True).stdout
    table = open(tmp_path / 'results.md').read()
    assert re.search(r'### pix2pix: student ngf \d \(no-KD gap to the teacher -?[\d.]+ dB\)',
                     table)
    # one seed: no std and no p-value (test_benchmarks.py checks the formulas on more)
    row = re.search(r'^\| reko \| ([\d.]+) \| ([+-][\d.]+) \| ([+-]\d+ %|nan) \| '
                    r'n/a \(1 run\) \| [\d.]+ \| [\d.]+ \| 1 \|$', table, re.M)
    assert row, table
    results = json.load(open(tmp_path / 'results.json'))['pix2pix']
    reko = results['arms']['reko'][0]['metrics']['GT/psnr_obj']
    nokd = results['arms']['nokd'][0]['metrics']['GT/psnr_obj']
    assert float(row.group(1)) == pytest.approx(reko, abs=0.006)
    assert float(row.group(2)) == pytest.approx(reko - nokd, abs=0.011)
    assert set(results['sweep']) == {'4'} or set(results['sweep']) == {4}
    assert results['teacher']['curve'], 'the teacher validated during training'
    grid = cv2.imread(str(tmp_path / 'pix2pix_samples.png'))
    # 4 test images x (input, truth, teacher, no-KD, ReKo), 32 px scaled 3x
    assert grid.shape == (4 * 96, 5 * 96, 3)
    assert cv2.imread(str(tmp_path / 'pix2pix_curves.png')) is not None
    out = run_tool(args + ['--dry-run']).stdout
    assert '$ ' not in out, 'a rerun trains and tests nothing'
    # the teacher, the width (no-KD's seed 0) and ReKo's seed 0
    assert out.count('done before, not repeated') == 3
