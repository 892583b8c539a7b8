"""tools/benchmarks/kd_benchmark.py: arms that differ only in distillation, an end-to-end run on
the ground-truth set with a table, p-values, curves and samples, and a rerun that repeats
nothing."""
import json
import re

import cv2
import torch

from conftest import run_tool

TOOL = 'tools/benchmarks/kd_benchmark.py'
TINY = ['--teacher-iters', '2', '--student-iters', '2', '--eval-interval', '1', '--jobs', '2']


def body(path):
    """A run's config minus what legitimately differs: the base files, distillation, the
    optimizer of learnable parts, and the seed."""
    return [line for line in open(path) if not line.startswith(
        ('_base_', 'model =', 'optim_wrapper', 'randomness'))]


def test_dry_run_arms_share_one_budget(tmp_path):
    out = run_tool([TOOL, '--work-dir', str(tmp_path), '--models', 'pix2pix', 'pix2pixhd',
                    'cyclegan', '--seeds', '0', '1', '--ablation', '--dry-run'] + TINY).stdout
    for model in ('pix2pix', 'pix2pixhd', 'cyclegan'):
        runs = sorted(p.name for p in (tmp_path / model).iterdir() if p.name != 'data')
        reference = body(tmp_path / model / 'nokd_seed1' / 'budget_cfg.py')
        assert any('max_iters=2' in line for line in reference)
        for run in runs:
            if run.startswith('teacher'):
                continue
            assert body(tmp_path / model / run / 'budget_cfg.py') == reference, run
            assert not (tmp_path / model / run / 'train.log').exists()
        # 13 arms (no-KD, ReKo, 8 methods, 2 combinations, 2 ablations) x 2 seeds, the
        # teacher and the width sweep (its widest width is no-KD's seed 0)
        assert len([r for r in runs if r.endswith('seed1')]) == 14
    # K keeps a quarter of the distilled maps: 8x8 in the UNet and ResNet, 4x4 in pix2pixHD
    for model, k in (('pix2pix', 16), ('pix2pixhd', 4), ('cyclegan', 16)):
        assert f'num_regions={k})))' in open(tmp_path / model / 'reko_seed0' / 'budget_cfg.py').read()
    # GCC reads the teacher's discriminator: pix2pixHD's multi-scale one has its own points
    for model, nets in (('pix2pix', 'gcc_feature_nets'), ('pix2pixhd', 'gcc_hd_feature_nets')):
        for arm in ('gcc', 'reko_gcc'):
            assert f'feature_nets=_base_.{nets},' in \
                open(tmp_path / model / f'{arm}_seed0' / 'budget_cfg.py').read()
    # the distilled arms read the teacher's best validation checkpoint
    line = next(line for line in out.splitlines() if 'pix2pix/reko_seed1' in line)
    assert 'model.teacher.ckpt=' in line


def test_end_to_end_then_rerun_reuses_everything(tmp_path):
    args = [TOOL, '--work-dir', str(tmp_path), '--models', 'pix2pix', '--seeds', '0', '1',
            '--arms', 'nokd', 'reko', '--widths', '4', '8'] + TINY
    out = run_tool(args).stdout
    table = open(tmp_path / 'results.md').read()
    assert re.search(r'### pix2pix: student ngf \d \(no-KD gap to the teacher -?[\d.]+ dB\)',
                     table)
    row = re.search(r'^\| reko \| ([\d.]+) \+- ([\d.]+) \| ([+-][\d.]+) \| ([+-]\d+) % \| '
                    r'([\d.]+|nan) \| [\d.]+ \| [\d.]+ \| 2 \|$', table, re.M)
    assert row, table
    results = json.load(open(tmp_path / 'results.json'))['pix2pix']
    reko = [r['metrics']['GT/psnr_obj'] for r in results['arms']['reko']]
    assert float(row.group(1)) == round(sum(reko) / 2, 2) or \
        abs(float(row.group(1)) - sum(reko) / 2) < 0.006
    assert set(results['sweep']) == {'4', '8'} or set(results['sweep']) == {4, 8}
    assert results['teacher']['curve'], 'the teacher validated during training'
    grid = cv2.imread(str(tmp_path / 'pix2pix_samples.png'))
    # 4 test images x (input, truth, teacher, no-KD, ReKo), 32 px scaled 3x
    assert grid.shape == (4 * 96, 5 * 96, 3)
    assert cv2.imread(str(tmp_path / 'pix2pix_curves.png')) is not None
    out = run_tool(args).stdout
    assert '$ ' not in out, 'a rerun trains and tests nothing'
    assert out.count('done before, not repeated') == 6  # teacher, 2 widths, 3 arm runs


def test_pix2pixhd_end_to_end(tmp_path):
    """The Pix2PixHD bands configs train, distil and score through the benchmark."""
    run_tool([TOOL, '--work-dir', str(tmp_path), '--models', 'pix2pixhd', '--seeds', '0',
              '--arms', 'nokd', 'reko', '--widths', '4'] + TINY)
    results = json.load(open(tmp_path / 'results.json'))['pix2pixhd']
    assert set(results['arms']) == {'nokd', 'reko'}
    # the ReKo run distilled (its checkpoint keeps the distillation state); no-KD did not
    state = {arm: torch.load(runs[0]['ckpt'], map_location='cpu', weights_only=False)
             for arm, runs in results['arms'].items()}
    assert state['reko']['distill']['terms'] == ['reko'] and 'distill' not in state['nokd']
    assert all(0 < r['metrics']['GT/psnr_obj'] < 60 for rs in results['arms'].values()
               for r in rs)
    assert '### pix2pixhd: student ngf 4' in open(tmp_path / 'results.md').read()
