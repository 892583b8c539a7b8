"""reko_mm.benchmarks in-process: the arms are the shipped method configs, the runs of a benchmark
differ only in distillation, and the report's numbers are the formulas'."""
import math
import os
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


A2O_FACADES = (osp.join(SHARED_DATA, 'apple2orange'), osp.join(SHARED_DATA, 'facades'))


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


def test_ground_truth_init_arms_start_from_the_teacher_and_differ_in_nothing_else(tmp_path):
    from reko_mm.apis import student_model_cfg
    ground_truth.run(str(tmp_path), models=('pix2pix', ), seeds=(1, ),
                     arms=('nokd', 'reko', 'nokd+init', 'reko+init'), teacher_iters=2,
                     student_iters=2, eval_interval=1, init_rule='random', dry_run=True,
                     log=lambda _: None)
    runs = {k: v.to_dict() for k, v in runs_of(tmp_path / 'pix2pix').items()}
    assert {'nokd_seed1', 'reko_seed1', 'nokd_init_seed1', 'reko_init_seed1'} <= set(runs)
    reko_init = runs['reko_init_seed1']
    assert reko_init['model'].pop('student_init') == dict(rule='random')
    assert reko_init == runs['reko_seed1']
    # no-KD from the teacher: the plain student inside a TeacherStudentGAN with no terms
    init, nokd = runs['nokd_init_seed1'], runs['nokd_seed1']
    assert init['model']['type'] == 'TeacherStudentGAN'
    assert init['model']['distill']['losses'] == {}
    assert init['model']['student_init'] == dict(rule='random')
    assert init['model']['teacher']['ckpt'] == str(tmp_path / 'pix2pix' / 'teacher_seed0' /
                                                   '<its checkpoint>.pth')
    assert student_model_cfg(init['model']) == nokd['model']
    assert {k: v for k, v in init.items() if k != 'model'} == \
        {k: v for k, v in nokd.items() if k != 'model'}
    with pytest.raises(ground_truth.BenchmarkError, match=r'unknown arm .*each also with \+init'):
        ground_truth.run(str(tmp_path), arms=('largest+init', ), dry_run=True)


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
    planned = real_teacher.run(
        str(tmp_path / 'work'), *A2O_FACADES, size=64, iters=4, eval_interval=2, seeds=(0,),
        widths=('7x',), arms=('nokd', 'nokd+init', 'reko+init'), num_train=4, num_test=2,
        init_rule='l1', dry_run=True, log=lambda _: None)['planned']
    assert not (tmp_path / 'work').exists()  # a dry run writes nothing: no teacher, no photos
    runs = {k: v.to_dict() for k, v in planned.items()}
    assert sorted(runs) == ['7x_nokd_init_seed0', '7x_nokd_seed0', '7x_reko_init_seed0']
    init = runs['7x_nokd_init_seed0']
    assert init['model'].pop('student_init') == dict(rule='l1')
    assert init == runs['7x_nokd_seed0']
    assert runs['7x_reko_init_seed0']['model']['student_init'] == dict(rule='l1')
    assert real_teacher.arm_name('reko+init') == '+ ReKo, teacher init'
    with pytest.raises(real_teacher.BenchmarkError, match=r'each also with \+init'):
        real_teacher.run(str(tmp_path), *A2O_FACADES, arms=('largest+init',), dry_run=True,
                         widths=('7x',), num_train=4, num_test=2, log=lambda _: None)


@pytest.mark.skipif(not osp.isdir(osp.join(SHARED_DATA, 'apple2orange')),
                    reason='needs ../shared/data (apple2orange, facades photos)')
def test_the_photo_set_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """An interrupted write leaves no photo set that the rerun would take for finished."""
    import cv2
    from reko_mm.benchmarks import real_teacher
    real_imwrite, calls = cv2.imwrite, []

    def interrupted(*args):
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_imwrite(*args)
    monkeypatch.setattr(cv2, 'imwrite', interrupted)
    with pytest.raises(KeyboardInterrupt):
        real_teacher.write_photos(str(tmp_path), *A2O_FACADES, num_train=8, num_test=8)
    assert not osp.exists(real_teacher.photos_path(str(tmp_path)))
    monkeypatch.setattr(cv2, 'imwrite', real_imwrite)
    # the data folders as a user types them, relative to where they run it
    root = real_teacher.write_photos(str(tmp_path), *map(osp.relpath, A2O_FACADES),
                                     num_train=8, num_test=8)
    assert [len(os.listdir(osp.join(root, s))) for s in ('train', 'test')] == [8, 8]
    assert all(cv2.imread(osp.join(root, s, f)) is not None
               for s in ('train', 'test') for f in os.listdir(osp.join(root, s)))
    assert not osp.exists(root + '.partial')


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


class FakeRuns:
    """RunQueue.call stand-in: 'trains' by writing the checkpoint mmengine would (meta.iter and
    meta.cfg) and 'tests' by writing the metrics file, so reuse, resume and stale-run refusal
    run in-process on real checkpoints and configs."""

    def __init__(self):
        self.calls = []

    def __call__(self, cmd, log_path, threads=None):
        import json
        import torch
        from reko_mm.utils import load_config
        self.calls.append(cmd)
        if cmd[1] == 'tools/train.py':
            cfg = load_config(cmd[2])
            work = cmd[cmd.index('--work-dir') + 1]
            iters = cfg.train_cfg.max_iters
            torch.save(dict(meta=dict(iter=iters, cfg=cfg.pretty_text)),
                       osp.join(work, f'iter_{iters}.pth'))
        else:
            with open(cmd[cmd.index('--out') + 1], 'w') as f:
                json.dump({'GT/psnr': 10.0 + len(self.calls)}, f)
        return ' '.join(cmd)


def test_a_rerun_reuses_finished_runs_resumes_partial_ones_and_refuses_stale_ones(tmp_path):
    import json
    import os
    import torch
    from reko_mm.benchmarks import REUSED, BenchmarkError, RunQueue, write_config
    from reko_mm.utils import load_config
    lines = []
    queue = RunQueue(log=lines.append)
    queue.call = fake = FakeRuns()
    work = str(tmp_path / 'nokd_seed0')
    cfg = load_config(osp.join(ROOT, 'configs/reko/synthetic/pix2pix_synthetic_4x_nokd.py'),
                      {'train_cfg.max_iters': 2})
    path = write_config(cfg, osp.join(work, 'budget_cfg.py'))

    first = queue.train_and_test(work, path, 2)
    assert [c[1] for c in fake.calls] == ['tools/train.py', 'tools/test.py']
    assert '--resume' not in fake.calls[0]
    assert first['ckpt'] == osp.join(work, 'iter_2.pth') and first['metrics'] == {'GT/psnr': 12.0}
    assert len(first['commands']) == 2

    # finished: nothing trained or tested, the same result, its commands listed as reused
    queue.commands = []
    again = queue.train_and_test(work, path, 2)
    assert len(fake.calls) == 2 and again == first
    assert lines[-1] == f'{REUSED}: {work}'
    assert queue.commands == [f'# reused: {c}' for c in first['commands']]

    # scored before its checkpoint was rewritten: scored again, not trained
    os.utime(osp.join(work, 'result.json'), (1, 1))
    assert queue.train_and_test(work, path, 2)['metrics'] == {'GT/psnr': 13.0}
    assert [c[1] for c in fake.calls[2:]] == ['tools/test.py']

    # stopped early (last checkpoint at iteration 1 of 2): resumed, then scored again
    ckpt = torch.load(osp.join(work, 'iter_2.pth'), weights_only=False)
    ckpt['meta']['iter'] = 1
    torch.save(ckpt, osp.join(work, 'iter_1.pth'))
    os.remove(osp.join(work, 'iter_2.pth'))
    resumed = queue.train_and_test(work, path, 2)
    assert fake.calls[3][1] == 'tools/train.py' and fake.calls[3][-1] == '--resume'
    assert resumed['ckpt'] == osp.join(work, 'iter_2.pth')
    assert resumed['metrics'] == {'GT/psnr': 15.0}
    assert json.load(open(osp.join(work, 'result.json')))['metrics'] == resumed['metrics']

    # a work dir of another budget: refused before anything runs, nothing rewritten
    other = write_config(load_config(path, {'train_dataloader.dataset.pipeline.0.key': 'x'}),
                         osp.join(work, 'budget_cfg.py'))
    stamp = os.stat(osp.join(work, 'iter_2.pth')).st_mtime_ns
    n = len(fake.calls)
    with pytest.raises(BenchmarkError, match=r'holds a run of another budget or config '
                       r'\(iter_2\.pth; train_dataloader\.dataset\.pipeline.*Delete it, or '
                       r'give another --work-dir'):
        queue.train_and_test(work, other, 2)
    assert len(fake.calls) == n
    assert os.stat(osp.join(work, 'iter_2.pth')).st_mtime_ns == stamp

    # a teacher (early stopping decides when it is done) without its done marker is resumed
    teacher = str(tmp_path / 'teacher_seed0')
    tpath = write_config(cfg, osp.join(teacher, 'budget_cfg.py'))
    queue.train_and_test(teacher, tpath, None, best=True)
    os.remove(osp.join(teacher, 'train_done'))
    queue.train_and_test(teacher, tpath, None, best=True)
    assert fake.calls[-2][1] == 'tools/train.py' and fake.calls[-2][-1] == '--resume'


SLEEPERS = r'''
import os, sys, time
from reko_mm.benchmarks.runner import RunQueue
out = sys.argv[1]
queue = RunQueue(jobs=2, log=lambda s: None)
code = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)"
def one(i):
    return queue.call([sys.executable, '-c', code, os.path.join(out, f'pid{i}')],
                      os.path.join(out, f'log{i}'))
queue.map(one, [0, 1, 2])
'''


@pytest.mark.parametrize('sig', ['SIGINT', 'SIGTERM'])
def test_an_interrupted_benchmark_ends_the_runs_of_every_job(sig, tmp_path):
    """Two jobs at a time: a signal to the benchmark kills both running runs (and starts no
    third), not only the one the main thread waits on."""
    import signal
    import subprocess
    import sys
    import time
    from conftest import ROOT
    script = tmp_path / 'sleepers.py'
    script.write_text(SLEEPERS)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not all((tmp_path / f'pid{i}').exists() and
                                             (tmp_path / f'pid{i}').read_text() for i in (0, 1)):
        time.sleep(0.2)
    pids = [int((tmp_path / f'pid{i}').read_text()) for i in (0, 1)]
    proc.send_signal(getattr(signal, sig))
    _, err = proc.communicate(timeout=60)
    # what the benchmark tools print (they exit with a BenchmarkError's message)
    assert 'BenchmarkError: interrupted: the runs in progress were stopped. Run the same ' \
        'command again to resume them' in err
    time.sleep(0.5)
    for pid in pids:
        try:
            os.kill(pid, 0)
            alive = open(f'/proc/{pid}/stat').read().split()[2] != 'Z'
        except (ProcessLookupError, FileNotFoundError):
            alive = False
        assert not alive, f'run {pid} outlived the benchmark ({sig})'
    assert not (tmp_path / 'pid2').exists()


def test_the_time_left_counts_runs_that_share_the_machine():
    """make demo's three students, two at a time: after the first pair, one more run's time is
    left (not two); runs still going count what they have left."""
    from reko_mm.benchmarks.runner import time_left
    assert time_left([240.0], [240.0], 1, 2) == 240.0
    assert time_left([240.0, 240.0], [], 1, 2) == 240.0
    assert time_left([100.0], [30.0], 3, 2) == 200.0  # slots free at 0 and 70: 3 x 100 more
    assert time_left([50.0], [], 0, 2) == 0.0 and time_left([], [5.0], 2, 2) == 0.0


def test_progress_lines_of_two_jobs_never_share_a_line():
    import threading
    from reko_mm.benchmarks.runner import RunQueue
    parts = []

    def log(line):  # print writes the line and its newline in two calls
        parts.append(line)
        threading.Event().wait(0.001)
        parts.append('\n')
    queue = RunQueue(jobs=2, log=log)
    threads = [threading.Thread(target=lambda i=i: [queue.log(f'job{i} {n}') for n in range(50)])
               for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    lines = ''.join(parts).splitlines()
    assert len(lines) == 100 and all(re.fullmatch(r'job\d \d+', line) for line in lines)
