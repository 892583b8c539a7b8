"""reko_mm.benchmarks in-process: the arms are the shipped method configs, the runs of a benchmark
differ only in distillation, and the report's numbers are the formulas'."""
import math
import os.path as osp
import re
import statistics

import pytest
from mmengine.config import Config

import reko_mm  # noqa: F401
from reko_mm.benchmarks import ABLATIONS, ARMS, arm_config, arm_table, distillation, welch_p
from reko_mm.benchmarks import ground_truth, real_data

from conftest import ROOT, SHARED_DATA

SETTINGS = [('cyclegan_horse2zebra_7x', 'resnet'), ('pix2pix_edges2shoes_4x', 'unet'),
            ('pix2pixhd_edges2shoes_28x', 'hd')]
# what may differ between two runs of one benchmark: their distillation and seed
DISTILLATION_KEYS = ('type', 'student_type', 'teacher', 'distill')


def shipped(name):
    return Config.fromfile(osp.join(ROOT, 'configs', 'reko', name + '.py'))


@pytest.mark.parametrize('setting, arch', SETTINGS)
def test_every_arm_is_the_shipped_method_config(setting, arch):
    """The benchmarks compose their arms from the method fragments; the shipped configs do too.
    Both must give the same model (terms in the same order) and the same optimizers."""
    student = osp.join(ROOT, 'configs', 'reko', setting + '_nokd.py')
    for arm in ARMS[1:]:
        name = setting if arm == 'reko' else f'{setting}_{arm}'
        want = shipped(name)
        got = arm_config(student, arm, arch)
        assert got.model.to_dict() == want.model.to_dict(), arm
        assert list(got.model.distill.losses) == list(want.model.distill.losses), arm
        assert got.optim_wrapper.to_dict() == want.optim_wrapper.to_dict(), arm
    # an ablation changes ReKo's loss and nothing else
    for arm, (_, change) in ABLATIONS.items():
        distill, _ = distillation(arm, arch)
        reko, _ = distillation('reko', arch)
        reko['losses']['reko']['loss'].update(change)
        assert distill == reko


def runs_of(work):
    """{run dir name: its config} of a benchmark work dir."""
    import glob
    return {osp.basename(osp.dirname(p)): Config.fromfile(p)
            for p in glob.glob(osp.join(str(work), '**', 'budget_cfg.py'), recursive=True)
            if '/teacher_seed' not in p}


def shared_part(cfg):
    d = cfg.to_dict()
    d['model'] = {k: v for k, v in d['model'].items() if k not in DISTILLATION_KEYS}
    for key in ('optim_wrapper', 'randomness', 'teacher_student'):
        d.pop(key, None)
    return d


def test_ground_truth_runs_share_one_budget(tmp_path):
    lines = []
    ground_truth.run(str(tmp_path), models=('pix2pix', 'pix2pixhd', 'cyclegan'), seeds=(0, 1),
                     ablation=True, teacher_iters=2, student_iters=2, eval_interval=1,
                     dry_run=True, log=lines.append)
    for model, k in (('pix2pix', 16), ('pix2pixhd', 4), ('cyclegan', 16)):
        runs = runs_of(tmp_path / model)
        # 13 arms (no-KD, ReKo, 8 methods, 2 combinations, 2 ablations) x 2 seeds but no-KD's
        # seed 0 (the sweep's run of the chosen width) and the width sweep
        assert len([r for r in runs if r.endswith('seed1')]) == 14
        widths = [r for r in runs if r.startswith('width')]
        reference = shared_part(runs['nokd_seed1'])
        assert reference['train_cfg']['max_iters'] == 2
        for name, cfg in runs.items():
            if not name.startswith('width'):
                assert shared_part(cfg) == reference, name
            assert cfg.randomness.seed == int(name[-1])
            if cfg.model.get('distill', {}).get('losses', {}).get('reko'):
                # K keeps a quarter of the distilled maps: 8x8 in the UNet and ResNet, 4x4 in
                # pix2pixHD; the probe is the crop
                assert cfg.model.distill.losses.reko.loss.num_regions == k, name
                assert cfg.model.distill.probe_size == 32
            if name.startswith('all_regions'):
                assert cfg.model.distill.losses.reko.loss.region_selector == 'all'
            if name.startswith(('gcc', 'reko_gcc')):
                # GCC reads the teacher's discriminator: pix2pixHD's multi-scale one
                layers = cfg.model.distill.feature_nets.teacher_d.layers
                assert layers[0].startswith('discriminators.0') == (model == 'pix2pixhd')
            if name.startswith(('nokd', 'width')):
                assert cfg.model.type != 'TeacherStudentGAN'
            else:  # distilled from this benchmark's teacher
                assert cfg.model.teacher.ckpt == str(tmp_path / model / 'teacher_seed0' /
                                                     '<its checkpoint>.pth'), name
        assert {runs[w].model.generator.base_channels for w in widths} == \
            set(ground_truth.MODELS[model]['widths'])
    assert not any('tools/train.py' in c and '--resume' in c for c in lines)
    # progress with an ETA after every run
    assert sum(bool(re.match(r'\[\d+/28\] cyclegan \w+ seed \d: elapsed [\d.]+ min, ETA '
                             r'[\d.]+ min$', line)) for line in lines) == 28


def test_real_data_runs_share_one_budget(synthetic_paired, tmp_path):
    real_data.run('facades_hd', synthetic_paired, str(tmp_path), size=64, seeds=(0, 1),
                  ablation=True, teacher_iters=2, student_iters=3, eval_interval=2,
                  eval_images=4, dry_run=True, log=lambda _: None)
    runs = runs_of(tmp_path)
    assert sorted(runs) == sorted(f'{a}_seed{s}' for s in (0, 1)
                                  for a in ('nokd', 'reko', 'all_regions', 'l2_crucial'))
    reference = shared_part(runs['nokd_seed0'])
    assert reference['train_cfg']['max_iters'] == 3
    assert [m['fake_nums'] for m in reference['val_evaluator']['metrics']] == [4, 4]
    for name, cfg in runs.items():
        assert shared_part(cfg) == reference, name
        if not name.startswith('nokd'):
            # pix2pixHD's maps are 8x8 at 64x64: K keeps a quarter
            assert cfg.model.distill.losses.reko.loss.num_regions == 16
    assert runs['l2_crucial_seed1'].model.distill.losses.reko.loss.contrastive is False
    with pytest.raises(real_data.BenchmarkError, match='dataset folder not found'):
        real_data.run('facades', str(tmp_path / 'nowhere'), str(tmp_path / 'w'), dry_run=True)
    assert not (tmp_path / 'w').exists()


def test_the_arm_table_is_the_formulas():
    def runs(*values):
        return [dict(metrics=dict(v=v, w=2 * v)) for v in values]
    arms = dict(nokd=runs(10.0, 10.4, 10.2), reko=runs(10.9, 10.7, 11.0), at=runs(9.0))
    table = arm_table(arms, lambda r: r['metrics']['v'], 'PSNR',
                      extra=[('double', lambda r: r['metrics']['w'])], reference=12.2)
    rows = {line.split(' | ')[0][2:]: line.split(' | ') for line in table.splitlines()[2:]}
    base, reko = [10.0, 10.4, 10.2], [10.9, 10.7, 11.0]
    assert rows['nokd'][1:5] == [f'{statistics.mean(base):.2f} +- {statistics.stdev(base):.2f}',
                                 '-', '-', '-']
    change = statistics.mean(reko) - statistics.mean(base)
    assert rows['reko'][2] == f'{change:+.2f}'
    assert rows['reko'][3] == f'{100 * change / (12.2 - statistics.mean(base)):+.0f} %'
    from scipy import stats
    assert rows['reko'][4] == f'{stats.ttest_ind(reko, base, equal_var=False).pvalue:.3f}'
    assert rows['reko'][5] == f'{2 * statistics.mean(reko):.2f}'
    assert rows['at'][4] == 'n/a (1 run)' and rows['at'][-1] == '1 |'
    assert math.isnan(welch_p([1.0], [1.0, 2.0]))


@pytest.mark.skipif(not osp.isdir(osp.join(SHARED_DATA, 'facades')),
                    reason='../shared/data/facades is not here')
def test_real_data_budget_reads_the_real_facades(tmp_path):
    real_data.run('facades', osp.join(SHARED_DATA, 'facades'), str(tmp_path), seeds=(0, ),
                  dry_run=True, log=lambda _: None)
    cfg = runs_of(tmp_path)['reko_seed0']
    assert cfg.model.generator.num_down == 6  # 64x64 images down to 1x1
    assert cfg.train_dataloader.dataset.data_root == osp.join(SHARED_DATA, 'facades')


@pytest.mark.skipif(not osp.isdir(osp.join(SHARED_DATA, 'apple2orange')),
                    reason='needs ../shared/data (apple2orange, facades photos)')
def test_real_teacher_init_arms_differ_from_their_arm_only_in_student_init(tmp_path):
    from reko_mm.benchmarks import real_teacher
    real_teacher.run(str(tmp_path), SHARED_DATA, size=64, iters=4, eval_interval=2, seeds=(0,),
                     widths=('7x',), arms=('nokd', 'nokd+init', 'reko+init'), num_train=4,
                     num_test=2, init_rule='l1', dry_run=True, log=lambda _: None)
    runs = {k: v.to_dict() for k, v in runs_of(tmp_path).items()}
    assert sorted(runs) == ['7x_nokd_init_seed0', '7x_nokd_seed0', '7x_reko_init_seed0']
    init = runs['7x_nokd_init_seed0']
    assert init['model'].pop('student_init') == dict(rule='l1')
    assert init == runs['7x_nokd_seed0']
    assert runs['7x_reko_init_seed0']['model']['student_init'] == dict(rule='l1')
    assert real_teacher.arm_name('reko+init') == '+ ReKo, teacher init'
    with pytest.raises(real_teacher.BenchmarkError, match=r'each also with \+init'):
        real_teacher.run(str(tmp_path), SHARED_DATA, arms=('largest+init',), dry_run=True,
                         widths=('7x',), num_train=4, num_test=2, log=lambda _: None)


def test_a_long_run_reports_its_iteration_while_it_trains(tmp_path):
    import sys
    from reko_mm.benchmarks import RunQueue
    lines = []
    queue = RunQueue(log=lines.append, progress_every=0.3)
    script = ("import time; print('Iter(train) [ 50/600]  lr: 2e-4  eta: 0:01:40  time: 0.3', "
              "flush=True); time.sleep(1.5)")
    (tmp_path / 'nokd').mkdir()
    queue.call([sys.executable, '-c', script], str(tmp_path / 'nokd' / 'train.log'))
    progress = [s for s in lines if 'running for' in s]
    assert progress and all(s.startswith('  nokd: running for ') for s in progress), lines
    assert progress[-1].endswith(', iteration 50/600, eta 0:01:40'), lines
    assert lines[-1].startswith('  done in ')
