"""tools/test.py and tools/dist_test.sh: offline FID/KID of checkpoints; 2 ranks score exactly
what one process scores (5 test images, so the ranks get unequal shares)."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from conftest import ROOT, run_tool, train
from test_distributed import free_port

TEACHER = 'configs/reko/synthetic/cyclegan_synthetic_teacher.py'
REKO = 'configs/reko/synthetic/cyclegan_synthetic_7x.py'
KEYS = ['FID-flat-to-striped/fid', 'KID-flat-to-striped/kid', 'FID-striped-to-flat/fid',
        'KID-striped-to-flat/kid']


@pytest.fixture(scope='module')
def odd_data(tmp_path_factory):
    from reko_mm.datasets import generate_synthetic_dataset
    root = str(tmp_path_factory.mktemp('odd') / 'unpaired')
    generate_synthetic_dataset(root, 'unpaired', num_train=4, num_test=5, size=64, seed=3)
    return root


@pytest.fixture(scope='module')
def teacher_ckpt(odd_data, tmp_path_factory):
    work = tmp_path_factory.mktemp('teacher')
    train(TEACHER, work, [f'train_dataloader.dataset.data_root={odd_data}',
                          'train_cfg.max_iters=2'])
    return str(work / 'iter_2.pth')


def eval_opts(root, out):
    return ['--out', str(out), '--cfg-options', f'test_dataloader.dataset.data_root={root}',
            'test_dataloader.batch_size=2']


def test_two_ranks_score_exactly_what_one_process_scores(odd_data, teacher_ckpt, tmp_path):
    run_tool(['tools/test.py', TEACHER, teacher_ckpt, '--work-dir', str(tmp_path / 'single')]
             + eval_opts(odd_data, tmp_path / 'single.json'))
    env = dict(os.environ, PORT=str(free_port()), PYTHON=sys.executable, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', 'tools/dist_test.sh', TEACHER, teacher_ckpt, '2', '--work-dir',
         str(tmp_path / 'ddp')] + eval_opts(odd_data, tmp_path / 'ddp.json'),
        cwd=ROOT, env=env, timeout=900, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    assert proc.returncode == 0, proc.stdout[-6000:]
    single = json.load(open(tmp_path / 'single.json'))
    ddp = json.load(open(tmp_path / 'ddp.json'))
    for key in KEYS:
        assert single[key] > 0
        assert ddp[key] == pytest.approx(single[key], rel=1e-5), key


def test_reko_checkpoint_is_scored_as_its_student(synthetic_unpaired, synthetic_reko_ckpts,
                                                  tmp_path):
    # the teacher checkpoint is not needed to evaluate the student
    out = run_tool(['tools/test.py', REKO, synthetic_reko_ckpts[1], '--work-dir',
                    str(tmp_path / 'test')] + eval_opts(synthetic_unpaired, tmp_path / 'm.json')
                   + ['model.teacher.ckpt=/nonexistent/teacher.pth'], fresh=True)
    metrics = json.load(open(tmp_path / 'm.json'))
    assert set(KEYS) <= metrics.keys(), out.stdout[-3000:]


def test_bad_inputs_are_named(odd_data, teacher_ckpt, tmp_path):
    """What tools/test.py checks before it builds anything (in-process), and, through the tool,
    a count of images to score that the test set does not have: exit code 1, nothing written."""
    import reko_mm  # noqa: F401
    from reko_mm.apis import load_config, prepare_test_cfg
    from reko_mm.utils import check_data_roots
    missing = tmp_path / 'no' / 'iter_9.pth'
    with pytest.raises(FileNotFoundError, match=f'checkpoint not found: {missing}'):
        prepare_test_cfg(load_config(TEACHER), str(missing))
    with pytest.raises(ValueError, match='the config has no test_evaluator'):
        prepare_test_cfg(load_config(TEACHER, {'test_evaluator': None}), teacher_ckpt)
    cfg = load_config(TEACHER, {'test_dataloader.dataset.data_root': f'{tmp_path}/absent'})
    with pytest.raises(FileNotFoundError, match=f'{tmp_path}/absent/testA'):
        check_data_roots(prepare_test_cfg(cfg, teacher_ckpt), keys=('test_dataloader', ))
    out = run_tool(['tools/test.py', TEACHER, teacher_ckpt, '--work-dir', str(tmp_path / 'w')]
                   + eval_opts(odd_data, tmp_path / 'x.json') +
                   ['test_evaluator.metrics.0.fake_nums=9'], check=False)
    assert out.returncode != 0 and 'fake_nums=9 but the evaluation dataset has 5' in out.stdout
    assert not (tmp_path / 'x.json').exists()


def test_a_checkpoint_of_another_model_is_refused_and_nothing_scored(odd_data, teacher_ckpt,
                                                                     tmp_path):
    """The ngf-16 teacher checkpoint given with the ngf-6 student config: an error that names the
    mismatching keys and what the checkpoint is; exit code 1; no metrics."""
    out = run_tool(['tools/test.py', REKO, teacher_ckpt, '--work-dir', str(tmp_path / 'w')]
                   + eval_opts(odd_data, tmp_path / 'm.json'), check=False)
    assert out.returncode != 0
    assert re.search(r'does not match the model of configs/reko/synthetic/cyclegan_synthetic_7x'
                     r'\.py: shapes differ: generators\.\w+\.model\.0\.conv\.weight '
                     r'\(16, 3, 7, 7\) in the checkpoint vs \(6, 3, 7, 7\) in the config',
                     out.stdout), out.stdout[-3000:]
    assert re.search(r'it was saved by a CycleGAN run \(generator ResnetGenerator '
                     r'base_channels=16\).*this config builds generators of width flat: 6, '
                     r'striped: 6', out.stdout)
    assert not (tmp_path / 'm.json').exists()


def test_pix2pix_scores_the_same_on_two_ranks_with_batch_one_and_no_dropout(synthetic_paired,
                                                                            tmp_path):
    """MMagic evaluates Pix2Pix in train mode: batch statistics and dropout. With one image per
    batch and dropout off, each output depends on its image alone, so 2 ranks score exactly
    what one process scores (docs/evaluation.md says why it differs otherwise)."""
    import reko_mm  # noqa: F401
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import save_checkpoint
    from mmagic.registry import MODELS
    init_default_scope('mmagic')
    config = 'configs/reko/synthetic/pix2pix_synthetic_teacher.py'
    model = MODELS.build(Config.fromfile(config).model)
    ckpt = str(tmp_path / 'pix2pix.pth')
    save_checkpoint({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    opts = ['--cfg-options', f'test_dataloader.dataset.data_root={synthetic_paired}',
            'test_dataloader.batch_size=1', 'model.generator.use_dropout=False']
    run_tool(['tools/test.py', config, ckpt, '--work-dir', str(tmp_path / 'single'), '--out',
              str(tmp_path / 'single.json')] + opts)
    env = dict(os.environ, PORT=str(free_port()), PYTHON=sys.executable, OMP_NUM_THREADS='1')
    proc = subprocess.run(['bash', 'tools/dist_test.sh', config, ckpt, '2', '--work-dir',
                           str(tmp_path / 'ddp'), '--out', str(tmp_path / 'ddp.json')] + opts,
                          cwd=ROOT, env=env, timeout=900, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout[-6000:]
    single = json.load(open(tmp_path / 'single.json'))
    ddp = json.load(open(tmp_path / 'ddp.json'))
    for key in ('FID-Full/fid', 'KID-Full/kid'):
        assert single[key] > 0
        assert ddp[key] == pytest.approx(single[key], rel=1e-5), key


def test_a_published_student_scores_what_its_training_checkpoint_scores(
        synthetic_unpaired, synthetic_reko_ckpts, tmp_path):
    """publish_model.py keeps the generators only (fp32 here: the same weights), and test.py
    loads that file strictly into the same config and scores it exactly as the full one."""
    import torch
    src = synthetic_reko_ckpts[1]
    out = run_tool(['tools/model_converters/publish_model.py', src, str(tmp_path / 'student.pth'),
                    '--fp32', '--config', REKO])
    published = re.search(r'wrote (\S+):', out.stdout).group(1)
    assert re.fullmatch(r'.*/student-[0-9a-f]{8}\.pth', published)
    state = torch.load(published, weights_only=True)
    assert state['state_dict'] and all(k.startswith('generators.') for k in state['state_dict'])
    assert state['meta']['reko_mm_release']['config'] == REKO
    scores = []
    for ckpt in (src, published):
        m = tmp_path / f'{len(scores)}.json'
        run_tool(['tools/test.py', REKO, ckpt, '--work-dir', str(tmp_path / 'test')] +
                 eval_opts(synthetic_unpaired, m) + ['model.teacher.ckpt=/nonexistent/t.pth'])
        scores.append(json.load(open(m)))
    assert scores[0] == scores[1] and set(KEYS) <= scores[0].keys()
    # export takes it too, and its plain checkpoint is the published generators again (no
    # discriminators that were never trained), which reloads strictly
    run_tool(['tools/deployment/export_student.py', REKO, published, '--out-dir',
              str(tmp_path / 'export'), '--formats', 'pth', '--num-images', '1',
              '--cfg-options', f'test_dataloader.dataset.data_root={synthetic_unpaired}'])
    plain = torch.load(tmp_path / 'export' / f'{osp.splitext(osp.basename(REKO))[0]}.pth',
                       weights_only=True)
    assert plain['state_dict'].keys() == state['state_dict'].keys()
    assert all(torch.equal(plain['state_dict'][k], v) for k, v in state['state_dict'].items())
    # the latency benchmark takes it too, and refuses a checkpoint of another model
    lat = ['tools/analysis_tools/benchmark_latency.py', REKO, '--shape', '64', '64', '--warmup',
           '1', '--repeats', '1', '--threads', '1', '--runtimes', 'pytorch', '--checkpoint']
    assert f'student weights: {published} (loaded strictly)' in run_tool(lat + [published]).stdout
    wrong = run_tool(lat + [synthetic_reko_ckpts[0]], check=False)
    assert wrong.returncode != 0 and 'does not match the model' in wrong.stdout
    # the same name again is refused, and nothing is overwritten
    again = run_tool(['tools/model_converters/publish_model.py', src,
                      str(tmp_path / 'student.pth'), '--fp32', '--config', REKO], check=False)
    assert again.returncode != 0 and 'exists' in again.stdout
