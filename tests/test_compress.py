"""tools/compress.py: one command from a generator file and a folder of images to a trained,
scored, exported and reported student; its resume and its refusals (reko_mm/compress/)."""
import json
import os
import os.path as osp
import re
import shutil
import subprocess

import cv2
import numpy as np
import pytest
import torch

from reko_mm.benchmarks.runner import progress_bar
from reko_mm.compress import CompressDataError, CompressError, compress, prepare_data
from reko_mm.compress.cli import main
from reko_mm.compress.data import split_evenly
from reko_mm.compress.pipeline import iters_in
from reko_mm.compress.plan import student_width
from reko_mm.converters import (GeneratorImportError, JunyanzResnetGenerator,
                                JunyanzUnetGenerator)

SIZE = 32
ITERS = 4


def generator_file(path, net=None):
    torch.manual_seed(0)
    net = net or JunyanzResnetGenerator(ngf=8, num_blocks=2, norm='in')
    torch.save(net.state_dict(), str(path))
    return str(path)


def write_images(folder, n, shape=(40, 48), seed=0):
    """``n`` smooth colour images (gradients and blobs, not noise), ``shape`` (h, w)."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    for i in range(n):
        a, b, c = rng.uniform(0.2, 1.0, 3)
        img = np.stack([a * xx, b * yy, c * (1 - xx * yy)], -1)
        cv2.circle(img, (int(rng.integers(w)), int(rng.integers(h))), h // 4,
                   tuple(float(v) for v in rng.uniform(0, 1, 3)), -1)
        cv2.imwrite(osp.join(folder, f'img_{i:03d}.png'), (img * 255).astype(np.uint8))
    return str(folder)


@pytest.fixture(scope='module')
def compressed(tmp_path_factory):
    """One compression at a tiny budget, run through the command line."""
    tmp = tmp_path_factory.mktemp('compress')
    gen = generator_file(tmp / 'latest_net_G_A.pth')
    data = write_images(tmp / 'photos', 12)
    work = str(tmp / 'work')
    lines = []
    figures = compress(gen, data, work, width=4, size=SIZE, iters=ITERS, precision='fp32',
                       threads=1, argv=['tools/compress.py', gen, '--data', data],
                       log=lines.append)
    return dict(gen=gen, data=data, work=work, figures=figures, lines=lines, tmp=tmp)


def test_compress_runs_every_step_and_reports_the_runs_figures(compressed):
    f, work, lines = compressed['figures'], compressed['work'], compressed['lines']
    # eight numbered steps, each with elapsed time and time left
    steps = [line for line in lines if line.startswith('== [')]
    assert [s[:8] for s in steps] == [f'== [{i}/8]' for i in range(1, 9)]
    assert all(re.search(r'elapsed [\d.]+ min, about [\d.]+ min left', s) for s in steps)
    # the student: width 4 of the teacher's 8, its size printed before training
    assert f['sizes']['student']['width'] == 4 and f['sizes']['teacher']['width'] == 8
    assert f['sizes']['param_ratio'] > 3
    assert any('smaller and needs' in line for line in lines)
    # data: 12 images, no test folder: 2 held out
    assert (f['data']['train'], f['data']['test']) == (10, 2)
    assert sorted(os.listdir(osp.join(work, 'data', 'photos', 'test'))) == \
        ['img_000.png', 'img_006.png']
    # the config inherits the shipped recipe and loads as a normal MMagic config
    text = open(f['config']).read()
    assert "_base_ = '" in text and 'vintagify_7x_nokd_fast.py' in text
    from reko_mm.utils.config import load_config
    cfg = load_config(f['config'])
    assert cfg.model.generator.base_channels == 4 and cfg.train_cfg.max_iters == ITERS
    # initialised from the teacher; its norms have no scale to rank channels by: at random
    assert cfg.model.student_init.rule == 'random'
    assert cfg.train_dataloader.dataset.type == 'TeacherTranslationDataset'
    # a step was timed before training, and the estimate printed
    plan = json.load(open(osp.join(work, 'config', 'plan.json')))
    assert plan['iters'] == ITERS and 0 < plan['step_s'] < 60
    assert any(f"takes {plan['step_s']:.2f} s here: {ITERS} iterations" in line for line in lines)
    # trained to the end, tested, scored, exported
    assert f['checkpoint'].endswith(f'iter_{ITERS}.pth') and osp.exists(f['checkpoint'])
    assert f['iterations'] == ITERS and f['images_seen'] == ITERS * 4
    assert osp.exists(f['export']['path']) and osp.exists(f['export']['plain_checkpoint'])
    assert f['export']['max_abs_diff'] < 1e-3
    assert f['latency']['teacher_ms'] > 0 and f['latency']['student_ms'] > 0
    # report.json holds exactly the run's figures
    saved = json.load(open(osp.join(work, 'report.json')))
    assert saved['scores'] == pytest.approx(f['scores'])
    test_metrics = json.load(open(osp.join(work, 'train', 'test_metrics.json')))
    assert saved['test_metrics'] == pytest.approx(test_metrics)
    # the scores agree with tools/test.py's on the same held-out images (same metric)
    assert f['scores']['psnr'] == pytest.approx(test_metrics['teacher/psnr'], abs=0.05)
    assert saved['beats_unchanged'] == (f['scores']['psnr'] > f['scores']['identity_psnr'] and
                                        f['scores']['ssim'] > f['scores']['identity_ssim'])
    # report.html: the same numbers, the images embedded (one self-contained file)
    html = open(osp.join(work, 'report.html')).read()
    assert f"{f['scores']['psnr']:.2f}" in html and f"{f['scores']['identity_psnr']:.2f}" in html
    assert f"<td>{f['scores']['detail']:.2f}</td></tr>" in html
    assert html.count('src="data:image/') == 2
    assert 'python tools/compress.py' in html and 'tools/train.py' in html


def test_rerun_reuses_a_finished_run_and_resumes_a_partial_one(compressed):
    c, f = compressed, compressed['figures']
    lines = []
    again = compress(c['gen'], c['data'], c['work'], width=4, size=SIZE, iters=ITERS,
                     precision='fp32', threads=1, log=lines.append)
    assert any('done before, not repeated' in line for line in lines)
    assert any('exported before' in line for line in lines)
    assert again['scores'] == pytest.approx(f['scores'])
    # a run interrupted before its last checkpoint: the rerun trains from the one before
    os.remove(f['checkpoint'])
    with open(osp.join(c['work'], 'train', 'last_checkpoint'), 'w') as fh:
        fh.write(f['checkpoint'].replace(f'iter_{ITERS}', f'iter_{ITERS - 1}'))
    os.remove(osp.join(c['work'], 'train', 'result.json'))
    lines = []
    resumed = compress(c['gen'], c['data'], c['work'], width=4, size=SIZE, iters=ITERS,
                       precision='fp32', threads=1, log=lines.append)
    assert any('--resume' in line for line in lines)
    log = open(osp.join(c['work'], 'train', 'train.log')).read()
    assert 'Iter(train) [4/4]' in log and 'Iter(train) [3/4]' not in log
    assert resumed['checkpoint'] == f['checkpoint'] and osp.exists(resumed['checkpoint'])


def test_work_dir_of_another_run_or_other_files_is_refused(compressed, tmp_path):
    c = compressed
    record = open(osp.join(c['work'], 'compress.json')).read()
    with pytest.raises(CompressError, match=r'holds another compression \(width: 4 then, 6 now'):
        compress(c['gen'], c['data'], c['work'], width=6, size=SIZE, iters=ITERS,
                 precision='fp32', log=lambda s: None)
    assert open(osp.join(c['work'], 'compress.json')).read() == record
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'notes.txt').write_text('mine')
    with pytest.raises(CompressError, match='holds files of something else'):
        compress(c['gen'], c['data'], str(other), width=4, size=SIZE, iters=ITERS,
                 log=lambda s: None)
    assert (other / 'notes.txt').read_text() == 'mine' and len(os.listdir(other)) == 1


def refused(tmp_path, gen, data, match, exc=CompressError, **kw):
    kw = dict(dict(size=SIZE, iters=ITERS, precision='fp32'), **kw)
    with pytest.raises(exc, match=match):
        compress(gen, data, str(tmp_path / 'w'), log=lambda s: None, **kw)
    assert not osp.exists(tmp_path / 'w' / 'train' / 'train.log')  # nothing trained


def test_bad_data_is_refused_before_training(tmp_path):
    gen = generator_file(tmp_path / 'G.pth')
    (tmp_path / 'empty').mkdir()
    refused(tmp_path, gen, str(tmp_path / 'empty'), 'no images', CompressDataError)
    refused(tmp_path, gen, str(tmp_path / 'missing'), 'is not a folder', CompressDataError)
    few = write_images(tmp_path / 'few', 2)
    refused(tmp_path, gen, few, 'too few to train on some and hold 2 out', CompressDataError)
    broken = write_images(tmp_path / 'broken', 6)
    with open(osp.join(broken, 'img_003.png'), 'wb') as f:
        f.write(b'not a png')
    refused(tmp_path, gen, broken, r'1 of 6 images cannot be decoded: .*img_003.png',
            CompressDataError)


def test_bad_generators_and_students_are_refused_before_training(tmp_path):
    data = write_images(tmp_path / 'photos', 6)
    noise = tmp_path / 'noise.pth'
    torch.save({'fc.weight': torch.rand(4, 4)}, str(noise))
    refused(tmp_path, str(noise), data, 'noise.pth', GeneratorImportError)
    gen = generator_file(tmp_path / 'G.pth')
    refused(tmp_path, gen, data, r'--width 9: .* width \(base_channels\) is 8', width=9)
    refused(tmp_path, str(tmp_path / 'nope.pth'), data, 'generator file not found')
    # a UNet of 5 levels needs sides that are multiples of 32
    unet = generator_file(tmp_path / 'unet.pth', JunyanzUnetGenerator(num_downs=5, ngf=8))
    refused(tmp_path, unet, data, 'multiples of 32, but --size gives 48x48', size=48)


def test_student_width_follows_the_parameter_ratio():
    resnet = dict(type='ResnetGenerator', base_channels=64)
    assert [student_width(resnet, r) for r in ('4x', '7x', '16x')] == [32, 24, 16]
    assert student_width(resnet, width=40) == 40
    with pytest.raises(CompressError, match='--ratio must be one of'):
        student_width(resnet, '3x')


def test_images_every_step_reads(tmp_path):
    """An upper-case suffix is linked under a lower-case one, a TIFF written as PNG: the
    validation loader, the cache and the scoring all read what the data step accepted."""
    src = write_images(tmp_path / 'mixed', 4)
    os.rename(osp.join(src, 'img_000.png'), osp.join(src, 'img_000.PNG'))
    tif = cv2.imread(osp.join(src, 'img_001.png'))
    cv2.imwrite(osp.join(src, 'img_001.tif'), tif)
    os.remove(osp.join(src, 'img_001.png'))
    info = prepare_data(src, str(tmp_path / 'out'), holdout=2, log=lambda s: None)
    names = sorted(os.listdir(tmp_path / 'out' / 'train') + os.listdir(tmp_path / 'out' / 'test'))
    assert names == ['img_000.png', 'img_001.png', 'img_002.png', 'img_003.png']
    assert (info['train'], info['test']) == (2, 2)
    written = cv2.imread(str(next((tmp_path / 'out').rglob('img_001.png'))))
    assert np.array_equal(written, tif)


def test_minutes_become_the_iterations_that_fit():
    assert iters_in(10, 0.5) == int((600 * 0.9 - 20) / (0.5 * 1.15))
    assert iters_in(0.1, 5.0) == 2  # at least 2


def test_the_step_timed_is_the_step_the_run_trains(monkeypatch):
    """--minutes divides by the time of the run's own step: the cached one (with a method, its
    teacher features cached too), bf16 under bf16."""
    import reko_mm.benchmarks.fast_step as fast_step
    from reko_mm.compress.pipeline import _step_seconds
    timed = []
    monkeypatch.setattr(fast_step, 'fast_step_cost', lambda *a, arms, **kw:
                        timed.append(arms) or [dict(step_s=1.5)])
    for precision in ('fp32', 'bf16'):
        assert _step_seconds('cfg.py', 't.pth', 32, 4, precision) == 1.5
    assert timed == [['cached'], ['cached bf16']]
    monkeypatch.undo()
    with pytest.raises(ValueError, match=r"unknown arm\(s\) \['bf16'\]"):
        fast_step.fast_step_cost('cfg.py', 'cfg.py', 't.pth', arms=['bf16'])


@pytest.mark.parametrize('method, layers', [('reko', ['model.11', 'model.5', 'model.8']),
                                            ('at', ['model.11', 'model.2', 'model.5',
                                                    'model.8']),
                                            ('omgd', ['model.11', 'model.2', 'model.5',
                                                      'model.8'])])
def test_a_method_trains_on_the_teachers_cached_features(method, layers, tmp_path):
    """With a distillation method the run caches the teacher's features at the layers its terms
    read beside its translations, and trains and times its step on them."""
    from reko_mm.compress.plan import run_overrides
    from reko_mm.benchmarks.fast_step import fast_step_cost
    from reko_mm.compress.plan import FAST_FEATURES, config_text, write_run_config
    from reko_mm.utils.config import load_config
    gen = generator_file(tmp_path / 'G.pth', JunyanzResnetGenerator(ngf=8, num_blocks=9,
                                                                    norm='in_affine'))
    from reko_mm.converters import import_generator
    teacher = str(tmp_path / 'teacher.pth')
    import_generator(gen, teacher, 'vintage', log=lambda _: None)
    teacher_cfg = dict(load_config(osp.join('configs', 'reko', FAST_FEATURES)).model.teacher
                       .generator, base_channels=8)
    o = run_overrides(teacher_cfg, teacher, 4, method, str(tmp_path / 'photos'),
                      str(tmp_path / 'cache'), SIZE, 2, 'fp32', 0)
    assert o['train_dataloader.dataset.features'] == layers
    path = write_run_config(str(tmp_path / 'run.py'),
                            config_text(o, method, str(tmp_path / 'w'), str(tmp_path / 'run.py'),
                                        ['test']), o)
    cfg = load_config(path)
    terms = {'reko': ['reko'], 'at': ['at'],
             'omgd': ['omgd_ssim', 'omgd_style', 'omgd_feature', 'omgd_tv', 'omgd_cd']}
    assert cfg.model.teacher.as_target == 'cached' and \
        sorted(cfg.model.distill.losses) == sorted(terms[method])
    rows = fast_step_cost(path, path, teacher, sizes=[SIZE], batches=[2], repeats=1,
                          arms=['cached'], log=lambda s: None)
    assert rows[0]['step_s'] > 0
def test_layouts_paired_unpaired_and_folders(tmp_path):
    # pix2pix A|B pairs: the input half is written (AtoB: left, BtoA: right)
    pairs = write_images(tmp_path / 'pairs' / 'train', 4, shape=(16, 32))
    write_images(tmp_path / 'pairs' / 'test', 2, shape=(16, 32), seed=1)
    for direction, half in (('AtoB', slice(0, 16)), ('BtoA', slice(16, 32))):
        out = tmp_path / f'out_{direction}'
        info = prepare_data(str(tmp_path / 'pairs'), str(out), direction=direction,
                            log=lambda s: None)
        assert (info['layout'], info['train'], info['test']) == ('paired', 4, 2)
        assert info['held_out'] == 'test folder'
        written = cv2.imread(str(out / 'train' / 'img_000.png'))
        source = cv2.imread(osp.join(pairs, 'img_000.png'))
        assert np.array_equal(written, source[:, half])
    # CycleGAN's trainA/testA: the A side (links to the user's files)
    for d, n in (('trainA', 5), ('testA', 2), ('trainB', 3)):
        write_images(tmp_path / 'cyc' / d, n)
    info = prepare_data(str(tmp_path / 'cyc'), str(tmp_path / 'o2'), log=lambda s: None)
    assert (info['layout'], info['train'], info['test']) == ('unpaired', 5, 2)
    assert os.readlink(tmp_path / 'o2' / 'train' / 'img_000.png') == \
        str(tmp_path / 'cyc' / 'trainA' / 'img_000.png')
    info = prepare_data(str(tmp_path / 'cyc'), str(tmp_path / 'o3'), direction='BtoA',
                        holdout=2, log=lambda s: None)
    assert (info['train'], info['test']) == (1, 2)  # no testB: 2 of trainB's 3 held out
    # a test folder of one image cannot be scored
    write_images(tmp_path / 'one' / 'train', 4)
    write_images(tmp_path / 'one' / 'test', 1)
    with pytest.raises(CompressDataError, match=r'one/test holds 1 image'):
        prepare_data(str(tmp_path / 'one'), str(tmp_path / 'o4'), log=lambda s: None)
    # CycleGAN's B side only, read A to B: the folder it lacks and the direction that fits
    write_images(tmp_path / 'bonly' / 'trainB', 4)
    with pytest.raises(CompressDataError, match=r'bonly/trainA \(it has trainB/: --direction '
                                                r'BtoA\)'):
        prepare_data(str(tmp_path / 'bonly'), str(tmp_path / 'o5'), log=lambda s: None)
    assert split_evenly(list('abcdefghij'), 3) == (list('bcefhij'), list('adg'))


def test_progress_bar_reads_the_training_log(tmp_path):
    log = tmp_path / 'train.log'
    assert progress_bar(str(log), 4) == ''
    log.write_text(
        '12/07 - mmengine - INFO - Iter(train) [ 100/400]  lr: 4e-4  eta: 0:05:00  time: 0.5000 '
        ' data_time: 0.01  loss: 1.0\n'
        '12/07 - mmengine - INFO - Iter(val) [2/2]    teacher/psnr: 21.5000  teacher/ssim: 0.7\n'
        '12/07 - mmengine - INFO - Iter(train) [ 200/400]  lr: 4e-4  eta: 0:03:20  time: 0.4000 '
        ' data_time: 0.01  loss: 1.0\n')
    assert progress_bar(str(log), 4, width=10) == \
        '[#####.....] 200/400 iterations, 10.0 images/s, ETA 0:03:20, last validation ' \
        'teacher/psnr 21.50'


def test_command_line_refuses_with_a_message_not_a_traceback(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(['tools/compress.py', str(tmp_path / 'G.pth'), '--data', str(tmp_path)])
    assert 'error: generator file not found' in str(exit_.value)


def test_report_opens_in_a_real_browser_with_its_images(compressed, tmp_path):
    browser = shutil.which('chromium') or shutil.which('chromium-browser') or \
        shutil.which('google-chrome')
    if not browser:
        pytest.skip('no Chromium here (Debian/Ubuntu: apt-get install chromium) to open '
                    'report.html in')
    html = open(osp.join(compressed['work'], 'report.html')).read()
    # a copy that writes, once loaded, each image's decoded width into the page's title
    probe = html.replace('</body>', '<script>window.addEventListener("load", () => {'
                         'document.title = "loaded:" + Array.from(document.images).map('
                         'i => i.complete ? i.naturalWidth : -1).join(",");});</script></body>')
    page = tmp_path / 'probe.html'
    page.write_text(probe)
    flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
             f'--user-data-dir={tmp_path / "profile"}']
    dom = subprocess.run([browser, *flags, '--virtual-time-budget=5000', '--dump-dom',
                          page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    widths = re.search(r'<title>loaded:([\d,-]+)</title>', dom)
    assert widths, dom[:500]
    widths = [int(w) for w in widths.group(1).split(',')]
    assert len(widths) == 2 and all(w > 0 for w in widths)  # the grid and the curve decoded
    shot = tmp_path / 'report.png'
    subprocess.run([browser, *flags, f'--screenshot={shot}', '--window-size=1100,1600',
                    osp.join(compressed['work'], 'report.html')], capture_output=True,
                   timeout=120)
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (1600, 1100)
    assert img.std() > 10  # text, tables and pictures, not a blank page


def test_console_script_is_installed():
    import sys
    script = osp.join(osp.dirname(sys.executable), 'reko-compress')
    out = subprocess.run([script, '--help'], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and 'GENERATOR --data DIR' in out.stdout
