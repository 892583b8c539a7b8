"""get_flops.py against the paper's own figures (Tables 1-2, 256x256 inputs)."""
import re

import pytest

from conftest import run_tool

# The paper's reported numbers: (student params M, FLOPs G, teacher params M, FLOPs G,
# compression x, acceleration x). Params are printed to 2 decimals; the ratios are the paper's.
PAPER = {
    'cyclegan_horse2zebra_7x': (1.61, 7.29, 11.38, 49.64, 7.08, 6.80),
    'cyclegan_horse2zebra_16x': (0.72, 3.35, 11.38, 49.64, 15.81, 14.82),
    'pix2pix_edges2shoes_4x': (13.61, 1.56, 54.41, 6.06, None, None),
    'pix2pixhd_edges2shoes_28x': (1.61, 1.89, 45.59, 48.36, 28.23, 25.59),
}
# mmengine counts Pix2PixHD's generators 7.7 % above the paper's figures, teacher and student
# alike (52.07 / 2.03 G against 48.36 / 1.89 G), so their ratio agrees; the paper does not say
# how it counted (docs/benchmarks.md).
FLOPS_TOLERANCE = {'pix2pixhd_edges2shoes_28x': 0.08}


@pytest.mark.parametrize('name', sorted(PAPER))
def test_params_and_flops_reproduce_the_paper(name):
    out = run_tool(['tools/analysis_tools/get_flops.py', f'configs/reko/{name}.py'],
                   fresh=name == min(PAPER)).stdout  # one in a new interpreter
    rows = {m[0]: (float(m[1]), float(m[2])) for m in
            re.findall(r'^(student|teacher)\s+\w+\s+\d+\s+([\d.]+)\s+([\d.]+)$', out, re.M)}
    sp, sf, tp, tf, compression, acceleration = PAPER[name]
    # parameters: equal within the paper's rounding to 2 decimals
    assert rows['student'][0] == pytest.approx(sp, abs=0.005)
    assert rows['teacher'][0] == pytest.approx(tp, abs=0.005)
    # FLOPs: within 1 % (the counters differ in which element-wise ops they count: mmengine
    # skips instance norm and tanh; the paper does not say what it used)
    tol = FLOPS_TOLERANCE.get(name, 0.01)
    assert rows['student'][1] == pytest.approx(sf, rel=tol)
    assert rows['teacher'][1] == pytest.approx(tf, rel=tol)
    ratio = re.search(r'compression ([\d.]+)x \(params\), acceleration ([\d.]+)x', out)
    measured_c, measured_a = float(ratio.group(1)), float(ratio.group(2))
    assert measured_c == pytest.approx(rows['teacher'][0] / rows['student'][0], rel=0.001)
    assert measured_a == pytest.approx(rows['teacher'][1] / rows['student'][1], rel=0.01)
    if acceleration is not None:
        assert measured_a == pytest.approx(acceleration, rel=0.01)
    if compression is not None:
        # within 1 %: for ngf 16 the paper's 15.81x is its rounded counts' quotient
        # (11.38 / 0.72); the exact counts give 15.90x (docs/benchmarks.md)
        assert measured_c == pytest.approx(compression, rel=0.01)
