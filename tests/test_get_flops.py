"""get_flops.py reproduces the paper's params/FLOPs table for the shipped configs (256x256)."""
import re

import pytest

from conftest import run_tool

# (student params M, student FLOPs G, teacher params M, teacher FLOPs G); the paper reports
# 1.61/7.29, 0.72/3.35 vs 11.38/49.64 (CycleGAN) and 13.61/1.56 vs 54.41/6.06 (Pix2Pix).
EXPECTED = {
    'cyclegan_horse2zebra_7x': (1.606, 7.31, 11.378, 49.68),
    'cyclegan_horse2zebra_16x': (0.716, 3.36, 11.378, 49.68),
    'pix2pix_edges2shoes_4x': (13.608, 1.55, 54.414, 6.05),
}


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_params_flops_and_ratios(name):
    out = run_tool(['tools/analysis_tools/get_flops.py', f'configs/reko/{name}.py']).stdout
    rows = {m[0]: (float(m[1]), float(m[2])) for m in
            re.findall(r'^(student|teacher)\s+\w+\s+\d+\s+([\d.]+)\s+([\d.]+)$', out, re.M)}
    sp, sf, tp, tf = EXPECTED[name]
    assert rows['student'] == pytest.approx((sp, sf), abs=0.01)
    assert rows['teacher'] == pytest.approx((tp, tf), abs=0.01)
    ratio = re.search(r'compression ([\d.]+)x \(params\), acceleration ([\d.]+)x', out)
    assert float(ratio.group(1)) == pytest.approx(tp / sp, abs=0.01)
    assert float(ratio.group(2)) == pytest.approx(tf / sf, rel=0.01)
