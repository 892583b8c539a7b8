"""A checkpoint is data: files built to run code when read, given to every entry point that
takes a checkpoint, are refused with the file and what was refused, and a marker file proves
that nothing in them ran. Generated here; nothing is committed.

* ``gadget``: a pickle whose ``__reduce__`` calls ``exec`` (refused by the weights-only reader);
* ``dotted``: a real teacher whose ``meta['generator_cfg']`` names ``subprocess.Popen`` (refused
  by the generator-config check; mmengine's registry would import and call it);
* ``cfg_text``: a student whose ``meta['cfg']`` text holds a statement, and whose state dict has
  one wrong key, so that the mismatch message describes the checkpoint (read with ``ast``).
"""
import os
import re

import pytest
import torch

from conftest import data_options, run_tool

STUDENT = 'configs/reko/synthetic/cyclegan_synthetic_7x.py'
TEACHER = 'configs/reko/synthetic/cyclegan_synthetic_teacher.py'


class Gadget:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


@pytest.fixture(scope='module')
def files(synthetic_reko_ckpts, tmp_path_factory):
    root = tmp_path_factory.mktemp('malicious')
    marker = str(root / 'ran.txt')
    teacher, student = synthetic_reko_ckpts
    from reko_mm.utils import safe_torch_load
    t = safe_torch_load(teacher)
    s = safe_torch_load(student)
    out = {}
    out['gadget'] = str(root / 'gadget.pth')
    torch.save(dict(state_dict=t['state_dict'], meta=dict(x=Gadget(marker))), out['gadget'])
    out['dotted'] = str(root / 'dotted.pth')
    torch.save(dict(state_dict={k: v for k, v in t['state_dict'].items()
                                if k.startswith('generators.')},
                    meta=dict(generator_cfg={'type': 'subprocess.Popen',
                                             'args': ['touch', marker]})), out['dotted'])
    out['cfg_text'] = str(root / 'cfg_text.pth')
    state = dict(s['state_dict'])
    key = next(iter(state))
    state[key + '_renamed'] = state.pop(key)
    torch.save(dict(state_dict=state, meta=dict(
        cfg=f"x = open({marker!r}, 'w').write('ran')\nmodel = dict(type='Pix2Pix')\n")),
        out['cfg_text'])
    return out, marker


def refused(proc, marker, *needles):
    assert proc.returncode != 0, proc.stdout[-3000:]
    for needle in needles:
        assert needle in proc.stdout, (needle, proc.stdout[-3000:])
    assert not os.path.exists(marker), 'something in the file ran'


GADGET_REFUSAL = 'refused: it holds objects that only code could build'


@pytest.mark.parametrize('entry', ['teacher', 'student_init', 'load_from'])
def test_training_refuses_them(entry, files, synthetic_unpaired, tmp_path):
    (paths, marker) = files
    opts = data_options(synthetic_unpaired) + ['train_cfg.max_iters=1']
    if entry == 'load_from':
        cfg, opts = TEACHER, opts + [f"load_from={paths['gadget']}"]
    else:
        cfg, opts = STUDENT, opts + [f"model.teacher.ckpt={paths['gadget']}"]
        if entry == 'student_init':
            opts = opts + ['model.student_init.rule=norm_scale']
    proc = run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'w'),
                     '--cfg-options'] + opts, check=False)
    refused(proc, marker, paths['gadget'], GADGET_REFUSAL, 'exec')
    if entry == 'load_from':
        return
    # the teacher's generator config is checked before anything is built from it
    opts[-1 if entry == 'teacher' else -2] = f"model.teacher.ckpt={paths['dotted']}"
    proc = run_tool(['tools/train.py', cfg, '--work-dir', str(tmp_path / 'w2'),
                     '--cfg-options'] + opts, check=False)
    refused(proc, marker, paths['dotted'], "generator_cfg['type'] is 'subprocess.Popen'")


def test_resume_refuses_a_work_dir_checkpoint(files, synthetic_unpaired, tmp_path):
    (paths, marker) = files
    work = tmp_path / 'w'
    work.mkdir()
    os.link(paths['gadget'], work / 'iter_1.pth')
    proc = run_tool(['tools/train.py', TEACHER, '--work-dir', str(work), '--resume',
                     '--cfg-options'] + data_options(synthetic_unpaired) +
                    ['train_cfg.max_iters=2'], check=False)
    refused(proc, marker, str(work / 'iter_1.pth'), GADGET_REFUSAL)
    # a checkpoint whose saved config text holds a statement, resumed and loaded: the text is
    # read as data when the mismatch is described
    opts = data_options(synthetic_unpaired) + ['train_cfg.max_iters=2']
    work = tmp_path / 'cfg_text'
    work.mkdir()
    os.link(paths['cfg_text'], work / 'iter_1.pth')
    proc = run_tool(['tools/train.py', STUDENT, '--work-dir', str(work), '--resume',
                     '--cfg-options'] + opts, check=False)
    refused(proc, marker, '(iter_1.pth) was trained with a different model config')
    proc = run_tool(['tools/train.py', STUDENT, '--work-dir', str(tmp_path / 'load'),
                     '--cfg-options', f"load_from={paths['cfg_text']}"] + opts, check=False)
    refused(proc, marker, paths['cfg_text'])


@pytest.mark.parametrize('tool', ['test', 'export'])
def test_scoring_and_export_refuse_them(tool, files, synthetic_unpaired, tmp_path):
    (paths, marker) = files
    opts = ['--cfg-options', f'test_dataloader.dataset.data_root={synthetic_unpaired}']

    def run(ckpt):
        if tool == 'test':
            args = ['tools/test.py', STUDENT, ckpt, '--work-dir', str(tmp_path / 't')]
        else:
            args = ['tools/deployment/export_student.py', STUDENT, ckpt, '--out-dir',
                    str(tmp_path / 'e'), '--formats', 'pth']
        return run_tool(args + opts, check=False)
    refused(run(paths['gadget']), marker, paths['gadget'], GADGET_REFUSAL)
    proc = run(paths['cfg_text'])  # the mismatch message reads the saved config as data
    refused(proc, marker, f"checkpoint {paths['cfg_text']} does not match the model",
            'it was saved by a Pix2Pix run')
    # a generator config naming a callable: the student is built from the config, never from
    # what the file says, and the file's tensors do not fit it
    refused(run(paths['dotted']), marker, paths['dotted'])
    assert not os.listdir(tmp_path / 'e') if (tmp_path / 'e').exists() else True


def test_the_importer_refuses_a_gadget(files, tmp_path):
    (paths, marker) = files
    proc = run_tool(['tools/model_converters/import_generator.py', paths['gadget'],
                     str(tmp_path / 'out.pth'), '--domain', 'b'], check=False)
    refused(proc, marker, paths['gadget'], 'exec')
    assert not (tmp_path / 'out.pth').exists()


def test_benchmark_run_reuse_reads_them_as_data(files, tmp_path):
    """The benchmarks decide whether a run is done from its checkpoint's saved config."""
    from reko_mm.utils import StaleRunError, UnsafeCheckpointError, run_state
    (paths, marker) = files
    work = tmp_path / 'run'
    work.mkdir()
    os.link(paths['cfg_text'], work / 'iter_2.pth')
    with pytest.raises(StaleRunError, match='another budget or config'):
        run_state(str(work), STUDENT, [], 2)
    os.remove(work / 'iter_2.pth')
    os.link(paths['gadget'], work / 'iter_2.pth')
    with pytest.raises(UnsafeCheckpointError, match=re.escape(str(work / 'iter_2.pth'))):
        run_state(str(work), STUDENT, [], 2)
    assert not os.path.exists(marker)


def test_saved_generator_configs_are_checked_key_by_key():
    from reko_mm.models.generators import (UnsafeGeneratorConfigError,
                                           check_saved_generator_cfg)
    good = dict(type='ResnetGenerator', in_channels=3, out_channels=3, base_channels=8,
                norm_cfg=dict(type='IN', affine=True), use_dropout=False, num_blocks=2,
                padding_mode='reflect', init_cfg=dict(type='normal', gain=0.02))
    assert check_saved_generator_cfg(good, 'f.pth') == good
    bad = {
        "generator_cfg['type'] is 'subprocess.Popen'": dict(good, type='subprocess.Popen'),
        "generator_cfg['norm_cfg'] is {'type': 'os.system'}": dict(
            good, norm_cfg=dict(type='os.system')),
        "generator_cfg key 'args'": dict(good, args=['rm']),
        "generator_cfg['init_cfg.gain'] is a Gadget": dict(
            good, init_cfg=dict(type='normal', gain=Gadget('x'))),
        'generator_cfg is a list': [good],
    }
    for message, cfg in bad.items():
        with pytest.raises(UnsafeGeneratorConfigError, match=re.escape(message)):
            check_saved_generator_cfg(cfg, 'f.pth')


def test_no_unsafe_load_in_the_package_or_the_tools():
    from conftest import ROOT
    found = []
    for folder in ('reko_mm', 'tools'):
        for base, _, names in os.walk(os.path.join(ROOT, folder)):
            for name in names:
                if name.endswith(('.py', '.sh')):
                    path = os.path.join(base, name)
                    text = open(path).read()
                    if re.search(r'weights_only\s*=\s*False|pickle\.loads?\(', text) or \
                            'config_from_text' in text or 'add_safe_globals' in text:
                        found.append(os.path.relpath(path, ROOT))
    assert not found, found


def test_the_inception_feature_cache_is_read_as_data(tmp_path):
    """``inception_pkl`` (a path a config names) is read by a pickle reader that builds NumPy
    arrays and refuses everything else before it is called."""
    import pickle

    import numpy as np
    from reko_mm.utils import UnsafeCheckpointError, safe_pickle_load
    marker = tmp_path / 'marker.txt'
    bad = tmp_path / 'feats.pkl'
    bad.write_bytes(pickle.dumps(dict(raw_feature=Gadget(str(marker)))))
    refusal = r'feats\.pkl refused: it asks for builtins\.exec'
    with open(bad, 'rb') as f, pytest.raises(UnsafeCheckpointError, match=refusal):
        safe_pickle_load(f)
    assert not marker.exists()
    good = dict(raw_feature=np.random.rand(4, 8).astype(np.float32), real_nums=4,
                scale=np.float64(0.5), kind=np.dtype('float16'), inception=dict(style='pytorch'))
    with open(tmp_path / 'good.pkl', 'wb') as f:
        pickle.dump(good, f)
    with open(tmp_path / 'good.pkl', 'rb') as f:
        back = safe_pickle_load(f)
    assert np.array_equal(back['raw_feature'], good['raw_feature'])
    assert back['raw_feature'].dtype == np.float32 and back['scale'] == 0.5
    assert back['kind'] == np.float16 and back['inception'] == good['inception']


def test_model_zoo_names_are_read_by_the_safe_reader(tmp_path, monkeypatch):
    """``load_from='torchvision://...'`` resolves a URL and downloads it: the file is read by
    the weights-only reader like any other (the download is simulated)."""
    import reko_mm  # noqa: F401  (registers the safe loaders)
    from mmengine.runner.checkpoint import _load_checkpoint
    from reko_mm.utils import UnsafeCheckpointError
    marker = tmp_path / 'ran.txt'
    urls = []

    def download(url, path, progress=False):
        urls.append(url)
        torch.save(dict(state_dict={}, meta=dict(x=Gadget(str(marker)))), path)
    monkeypatch.setattr(torch.hub, 'download_url_to_file', download)
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    with pytest.raises(UnsafeCheckpointError, match=GADGET_REFUSAL):
        _load_checkpoint('torchvision://resnet18')
    assert urls and 'resnet18' in urls[0] and not marker.exists()


def test_only_a_marked_release_may_lack_its_discriminators(tmp_path):
    """A generators-only file loads into a model with discriminators only when publish_student
    wrote it (meta['reko_mm_release']); any other file missing keys is refused."""
    import torch
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope

    from reko_mm.utils import (CheckpointMismatchError, is_generators_only, load_state_strict,
                               publish_student)
    init_default_scope('mmagic')
    cfg = dict(type='Pix2Pix', data_preprocessor=dict(type='DataPreprocessor'),
               generator=dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                              base_channels=8, num_blocks=1),
               discriminator=dict(type='PatchDiscriminator', in_channels=6, base_channels=8,
                                  num_conv=2),
               default_domain='b', reachable_domains=['b'], related_domains=['a', 'b'])
    full = tmp_path / 'full.pth'
    trained = MODELS.build(cfg)
    torch.save({'state_dict': trained.state_dict(), 'meta': {}}, full)
    out = publish_student(str(full), str(tmp_path / 'release.pth'), fp16=True)
    assert out['fp16_max_change'] < 1e-2
    model = MODELS.build(cfg)
    assert is_generators_only(load_state_strict(model, out['file']))
    for k, v in trained.generators.state_dict().items():
        assert torch.allclose(model.generators.state_dict()[k], v, atol=1e-2), k
    bare = tmp_path / 'bare.pth'  # the same generators without the release mark
    torch.save({'state_dict': torch.load(out['file'], weights_only=True)['state_dict']}, bare)
    with pytest.raises(CheckpointMismatchError, match='missing from the checkpoint'):
        load_state_strict(MODELS.build(cfg), str(bare))
    with pytest.raises(FileExistsError):
        publish_student(str(full), out['file'])
