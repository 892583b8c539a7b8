"""reko_mm.benchmarks.convergence: the study's runs are the shipped fast configs with the arm's
terms, it trains, scores and reports end to end on a tiny set, and a second invocation reuses
every finished run."""
import glob
import json
import os
import os.path as osp
import shutil

import cv2
import pytest

import reko_mm  # noqa: F401
from reko_mm.benchmarks import convergence
from reko_mm.benchmarks.arms import BenchmarkError
from reko_mm.utils import load_config
from reko_mm.utils.runs import config_differences

from conftest import ROOT
from test_distil_your_model import photos, vintage_teacher  # noqa: F401

PATH_KEYS = ('data_root', 'photo_root', 'teacher_ckpt', 'ckpt')


def differences(a, b, path):
    return [d for d in config_differences(a, b, path, [])
            if not any(f'.{k}:' in d for k in PATH_KEYS)]


def test_the_study_runs_the_shipped_fast_configs(tmp_path):
    planned = convergence.run(str(tmp_path / 'work'), '', '', dry_run=True)['planned']
    assert not (tmp_path / 'work').exists()  # a dry run writes nothing
    assert list(planned) == ['7x_nokd_seed1', '7x_reko_seed1', '7x_omgd_seed1', '7x_nokd_seed2',
                             '7x_reko_seed2', '7x_omgd_seed2', '16x_nokd_seed1',
                             '16x_reko_seed1', '16x_omgd_seed1']
    # ReKo's and the baseline's runs are the shipped configs, apart from paths and schedule
    for arm, name in (('nokd', 'vintagify_7x_fast_nokd.py'), ('reko', 'vintagify_7x_fast.py')):
        shipped = load_config(osp.join(ROOT, 'configs/reko/vintagify', name))
        run = planned[f'7x_{arm}_seed1']
        assert differences(shipped.model, run.model, 'model') == []
        assert differences(shipped.train_dataloader, run.train_dataloader, 'train') == []
        # bf16 autocast, float32 master weights: what tools/train.py --amp on a CPU does,
        # written into the config, so a GPU runs bf16 too and a fp32 run is another run
        amp = [f'optim.{k}.type' for k in ('generators', 'discriminators')] + \
            [f'optim.{k}.{f}' for k in ('generators', 'discriminators')
             for f in ('loss_scale', 'dtype')]
        assert sorted(d.split(':')[0] for d in differences(
            shipped.optim_wrapper, run.optim_wrapper, 'optim')) == sorted(amp)
        assert run.optim_wrapper.generators.dtype == 'bfloat16'
        assert run.optim_wrapper.generators.type == 'AutocastOptimWrapper'
    # the baseline reads ReKo's cache: the same samples at the same cost
    data = {k: v.train_dataloader.dataset for k, v in planned.items()}
    assert data['7x_nokd_seed1'].data_root == data['7x_reko_seed1'].data_root
    assert data['7x_nokd_seed1'].features == data['7x_reko_seed1'].features
    # OMGD reads its four layers from a cache of its own
    assert data['7x_omgd_seed1'].features == ['model.2', 'model.5', 'model.8', 'model.11']
    assert data['7x_omgd_seed1'].data_root != data['7x_reko_seed1'].data_root
    # the schedule: the rate constant for the first half, then linearly to 0; seeds differ
    for name, cfg in planned.items():
        assert cfg.train_cfg.max_iters == 6000 and cfg.train_cfg.val_interval == 600
        assert (cfg.param_scheduler.begin, cfg.param_scheduler.end) == (3000, 6000)
        assert cfg.randomness.seed == int(name[-1])
        assert cfg.model.generator.base_channels == (16 if name.startswith('16x') else 24)
        assert len(cfg.val_dataloader.dataset.indices) == 100
    fp32 = convergence.study_config('7x', 'reko', 1, str(tmp_path / 'work'), precision='fp32')
    assert differences(load_config(osp.join(ROOT, 'configs/reko/vintagify/vintagify_7x_fast.py'))
                       .optim_wrapper, fp32.optim_wrapper, 'optim') == []
    seed2 = planned['7x_reko_seed2'].to_dict()
    seed2['randomness']['seed'] = 1
    assert seed2 == planned['7x_reko_seed1'].to_dict()
    with pytest.raises(BenchmarkError, match="unknown arm 'largest'"):
        convergence.run(str(tmp_path), '', '', arms={'7x': ['largest']}, widths=('7x',),
                        dry_run=True)


def test_a_curve_is_flat_when_its_last_fifth_gains_little():
    gain = convergence.last_share_gain
    curve = [(600 * i, 20 + i) for i in range(1, 11)]  # +1 dB a validation
    assert gain(curve, 6000) == (pytest.approx(2.0), 4800)
    assert gain(curve[:-1], 6000) is None  # not finished
    assert gain([(6000, 27.0)], 6000) is None  # nothing before the last fifth
    # validations every 1000 steps: the gain is measured from step 4000, and says so
    assert gain([(4000, 27.0), (5000, 27.5), (6000, 27.05)], 6000) == \
        (pytest.approx(0.05), 4000)
    assert [convergence.trend(g) for g in (0.05, -0.05, 0.2, -0.2)] == \
        ['flat', 'flat', 'rising', 'falling']


def test_the_study_trains_scores_reports_and_reuses(photos, vintage_teacher, tmp_path,  # noqa: F811
                                                    monkeypatch):
    """Two arms of a tiny study end to end (a small teacher of vintagify's layout, 32x32, two
    steps), started outside the repository; then again: every run reused, nothing trained or
    scored; with other score sizes: scored again, not trained; in another precision:
    refused."""
    monkeypatch.chdir(tmp_path)
    work = tmp_path / 'work'
    shutil.copytree(photos, convergence.photos_path(str(work)))
    teacher = convergence.teacher_path(str(work))
    os.makedirs(osp.dirname(teacher))
    shutil.copy(vintage_teacher[0], teacher)  # the study imports vintagify's only when absent
    options = {'model.generator.base_channels': 4,
               'model.teacher.generator.base_channels': 8,
               'model.discriminator.base_channels': 8, 'model.distill.probe_size': 32,
               'train_dataloader.num_workers': 0, 'default_hooks.logger.interval': 1}

    def study(lines, sizes=(32, 48), precision='fp32', arms=('nokd', 'reko'), **kwargs):
        return convergence.run(
            'work', '', '', size=32, iters=2, eval_interval=1, widths=('7x',),
            arms={'7x': list(arms)}, seeds={'7x': (1,)}, num_test=2, val_num=2,
            score_sizes=sizes, precision=precision, options=options, log=lines.append, **kwargs)
    lines = []
    results = study(lines)
    runs = {r['arm']: r for r in results['runs']}
    assert sorted(runs) == ['nokd', 'reko']
    for r in runs.values():
        for size in ('32', '48'):
            m = r['metrics'][size]
            assert m['images'] == 2 and 5 < m['psnr'] < 60
        assert [it for it, _ in r['curve']] == [1, 2]
        assert r['last_share_gain'] == pytest.approx(
            r['curve'][1][1]['teacher/psnr'] - r['curve'][0][1]['teacher/psnr'])
        assert r['gain_since'] == 1
        assert r['train_seconds'] > 0
    # the photo's scores are the photo's, whichever student
    assert runs['nokd']['metrics']['32']['identity_psnr'] == \
        runs['reko']['metrics']['32']['identity_psnr']
    assert runs['nokd']['metrics']['32']['psnr'] != runs['reko']['metrics']['32']['psnr']
    text = open(work / 'results.md').read()
    assert '| teacher-target baseline |' in text and '| + ReKo |' in text
    assert 'PSNR 48' in text and 'nokd seed 1' in text
    for r in runs.values():  # the validation peak: kept, and in the report
        step, peak = max(convergence.curve_of(r, 'teacher/psnr'), key=lambda p: p[1])
        assert glob.glob(osp.join(r['work'], 'best_*.pth')) == \
            [osp.join(r['work'], f'best_teacher_psnr_iter_{step}.pth')]
        assert f'| {peak:.2f} ({step}) |' in text
        detail = r['metrics']['32']['detail']  # the student's fine detail over the teacher's
        assert 0 < detail and f'| {convergence.trend(r["last_share_gain"])} | {detail:.2f} |' \
            in text
    grid = cv2.imread(str(work / 'samples_7x.png'))
    assert grid.shape[1] == 4 * 32  # photo | teacher | baseline | ReKo
    assert json.load(open(work / 'results.json'))['runs'][1]['arm'] == 'reko'
    assert sum('of the training photos and their mirror images' in ln for ln in lines) == 1
    trained = [ln for ln in lines if ln.startswith('$ ') and 'tools/train.py' in ln]
    assert len(trained) == 2

    again = []
    second = study(again)
    assert not [ln for ln in again if ln.startswith('$ ')]  # nothing trained or scored
    assert not [ln for ln in again if 'mirror images' in ln]  # nor the cache looked at
    assert sum('done before, not repeated' in ln for ln in again) == 2
    assert [r['metrics'] for r in second['runs']] == [r['metrics'] for r in results['runs']]

    # what a study stopped half-way has: the finished runs, and where the others stand; a run
    # without its peak's checkpoint (trained before runs kept it) says so
    step, peak = max(convergence.curve_of(runs['nokd'], 'teacher/psnr'), key=lambda p: p[1])
    os.remove(osp.join(runs['nokd']['work'], f'best_teacher_psnr_iter_{step}.pth'))
    so_far = []
    partial = study(so_far, arms=('nokd', 'reko', 'omgd'), report_only=True)
    assert f'| nokd seed 1 | {runs["nokd"]["curve"][-1][1]["teacher/psnr"]:.2f} | ' \
        f'{peak:.2f} ({step}, not kept) |' in open(work / 'results.md').read()
    assert not [ln for ln in so_far if ln.startswith('$ ')]
    assert [r['metrics'] for r in partial['runs']] == [r['metrics'] for r in results['runs']]
    assert '  7x_omgd_seed1: not started' in so_far
    assert 'Runs finished: 2 of 3.' in open(work / 'results.md').read()

    rescored = []
    third = study(rescored, sizes=(32,))
    assert [ln.split()[2] for ln in rescored if ln.startswith('$ ')] == \
        ['tools/analysis_tools/score_against_teacher.py'] * 2
    assert [r['metrics']['32'] for r in third['runs']] == \
        [r['metrics']['32'] for r in results['runs']] and '48' not in third['runs'][0]['metrics']

    with pytest.raises(BenchmarkError, match=r'holds a run of another budget or config.*'
                       r'optim_wrapper'):
        study([], sizes=(32,), precision='bf16')

