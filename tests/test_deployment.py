"""Student export (plain checkpoint, ONNX, TorchScript, OpenVINO, int8, the fastest form)
checked on real test images, scoring an export with tools/test.py, and the latency benchmark's
report."""
import os
import re

import pytest
import torch

from conftest import run_tool

REKO = 'configs/reko/synthetic/cyclegan_synthetic_7x.py'


def data_opts(root):
    return ['--cfg-options', f'test_dataloader.dataset.data_root={root}']


def test_export_all_formats_match_pytorch(synthetic_unpaired, synthetic_reko_ckpts, tmp_path):
    out = run_tool(['tools/deployment/export_student.py', REKO, synthetic_reko_ckpts[1],
                    '--out-dir', str(tmp_path)] + data_opts(synthetic_unpaired), fresh=True).stdout
    diffs = {m[0]: float(m[1]) for m in re.findall(
        r'(\S+\.(?:onnx|pt))\s+max abs difference vs PyTorch on 4 real test images: (\S+)', out)}
    assert len(diffs) == 4, out[-3000:]  # 2 generators x (ONNX, TorchScript)
    assert max(diffs.values()) < 1e-4
    assert 'all 5 fp32 exports match PyTorch' in out

    # the plain checkpoint holds only what a plain MMagic CycleGAN has, and loads strictly
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    from reko_mm.utils import load_config as load_cfg
    from reko_mm.apis import student_config
    plain = torch.load(tmp_path / 'cyclegan_synthetic_7x.pth', weights_only=False)
    assert not [k for k in plain['state_dict'] if k.startswith('distill_losses')]
    init_default_scope('mmagic')
    cfg = student_config(load_cfg(REKO))
    model = MODELS.build(cfg.model)
    model.load_state_dict(plain['state_dict'], strict=True)
    assert "type='CycleGAN'" in plain['meta']['cfg']

    # the TorchScript file runs on its own (no mmagic / reko_mm modules needed to load it)
    ts = torch.jit.load(str(tmp_path / 'cyclegan_synthetic_7x_flat2striped.pt'))
    y = ts(torch.rand(1, 3, 64, 64) * 2 - 1)
    assert y.shape == (1, 3, 64, 64) and y.abs().max() <= 1


def test_generators_take_the_images_in_loaded_bgr_order(synthetic_unpaired):
    """What docs/deployment.md tells users to feed an exported generator."""
    import glob

    import cv2
    import numpy as np
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope

    from reko_mm.deployment import real_inputs
    from reko_mm.utils import load_config as load_cfg
    from reko_mm.apis import student_config
    init_default_scope('mmagic')
    cfg = student_config(load_cfg(REKO))
    cfg.test_dataloader.dataset.data_root = synthetic_unpaired
    model = MODELS.build(cfg.model)
    x = real_inputs(cfg, model, 'flat', 1)[0].permute(1, 2, 0).numpy()
    bgr = cv2.imread(sorted(glob.glob(f'{synthetic_unpaired}/testA/*.png'))[0])
    assert np.abs(x - (bgr.astype(np.float32) - 127.5) / 127.5).max() < 1e-6
    assert np.abs(bgr - bgr[:, :, ::-1]).max() > 50  # coloured: a swap would be seen


def test_export_refuses_to_overwrite(synthetic_unpaired, synthetic_reko_ckpts, tmp_path):
    from reko_mm.deployment import export_student
    existing = tmp_path / 'cyclegan_synthetic_7x_flat2striped.onnx'
    existing.write_bytes(b'user file')
    with pytest.raises(FileExistsError, match='--overwrite'):
        export_student(REKO, synthetic_reko_ckpts[1], str(tmp_path), ['onnx'],
                       cfg_options={'test_dataloader.dataset.data_root': synthetic_unpaired})
    assert existing.read_bytes() == b'user file'
    assert sorted(os.listdir(tmp_path)) == [existing.name]


def test_export_bad_inputs(synthetic_reko_ckpts, tmp_path):
    from reko_mm.deployment import export_onnx, load_student
    from reko_mm.utils import load_config as load_cfg

    class GridSample(torch.nn.Module):
        def forward(self, x):
            grid = torch.zeros(x.shape[0], 4, 4, 2)
            return torch.nn.functional.grid_sample(x, grid, align_corners=False)

    with pytest.raises(RuntimeError, match=r'opset 11.*grid_sampler'):
        export_onnx(GridSample(), torch.rand(1, 3, 8, 8), str(tmp_path / 'g.onnx'), opset=11)
    # a checkpoint of another width than the config
    cfg = load_cfg(REKO, {'model.generator.base_channels': 8})
    with pytest.raises(ValueError, match=r'does not match the model of the config: shapes '
                                         r'differ: .*its generators have width flat: 6, '
                                         r'striped: 6; this config builds generators of width '
                                         r'flat: 8, striped: 8.*nothing was loaded'):
        load_student(cfg, synthetic_reko_ckpts[1])
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        load_student(cfg, str(tmp_path / 'missing.pth'))
    # a run trained with --cfg-options ...data_root=..., exported without them
    from reko_mm.deployment import export_student
    with pytest.raises(FileNotFoundError, match=r"(?s)test_dataloader.dataset.data_root="
                                                r"'data/synthetic/unpaired': missing .*"
                                                r"--cfg-options test_dataloader.dataset"):
        export_student(REKO, synthetic_reko_ckpts[1], str(tmp_path / 'out'), ['pth', 'onnx'])
    assert not (tmp_path / 'out').exists()


def test_allow_int8_without_fastest_is_refused(tmp_path):
    """--allow-int8 only steers --formats fastest; alone it would do nothing, so it is refused."""
    proc = run_tool(['tools/deployment/export_student.py', REKO, str(tmp_path / 'no.pth'),
                     '--out-dir', str(tmp_path / 'out'), '--formats', 'onnx', '--allow-int8'],
                    check=False, timeout=300)
    assert proc.returncode != 0
    assert ('--allow-int8 applies to --formats fastest; to write an int8 export, use '
            '--formats onnx-int8') in proc.stdout
    assert not (tmp_path / 'out').exists()


def test_latency_benchmark_reports_every_runtime(tmp_path):
    import json
    runtimes = ['pytorch', 'torchscript', 'onnxruntime', 'onnxruntime-tuned', 'openvino',
                'onnxruntime-int8', 'openvino-int8']
    out = run_tool(['tools/analysis_tools/benchmark_latency.py', REKO, '--shape', '64', '64',
                    '--warmup', '1', '--repeats', '2', '--threads', '1', '--runtimes'] +
                   runtimes + ['--profile', '--json', str(tmp_path / 'lat.json')],
                   fresh=True).stdout
    rows = re.findall(r'^(\S+)\s+(plain|split-narrow)\s+cpu\s+1\s+([\d.]+)\s+([\d.]+)\s+'
                      r'([\d.]+)x\s+([\d.]+)x\s+(\S+)$', out, re.M)
    # every runtime on both graphs: the rewrite of the 7x7 RGB convolution is exact
    assert [r[:2] for r in rows] == [(r, g) for r in runtimes
                                     for g in ('plain', 'split-narrow')], out[-2000:]
    assert 'split-narrow rewrites teacher: model.14.conv; student: model.14.conv' in out
    for runtime, graph, *_, diff in rows:
        assert (float(diff) < 1e-3) != runtime.endswith('int8'), (runtime, diff, out[-3000:])
    # the per-operator profile: convolutions dominate both networks, the columns add up
    conv = re.search(r'^Conv\s+([\d.]+) \(\s*(\d+)%\)\s+([\d.]+) \(\s*(\d+)%\)', out, re.M)
    assert conv and int(conv[2]) > 50, out[-2000:]
    saved = json.load(open(tmp_path / 'lat.json'))
    assert [(r['runtime'], r['graph']) for r in saved['rows'] if 'runtime' in r] == \
        [r[:2] for r in rows]
    profile = saved['rows'][-1]['profile']
    total = re.search(r'^all operators\s+([\d.]+)\s+([\d.]+)', out, re.M)
    assert sum(profile['teacher'].values()) == pytest.approx(float(total[1]), abs=0.02), \
        out[-3000:]
    # OpenVINO per convolution layer, for each graph: 24 layers paired, MAC ratios as built
    ov_profile = saved['rows'][-1]['openvino_profile']
    assert set(ov_profile) == {'plain', 'split-narrow'}
    for graph, prof in ov_profile.items():
        layers = prof['conv_layers']
        assert layers and layers[-1]['layer'] == 'model.14.conv', (graph, layers)
        assert layers[-1]['mac_ratio'] == pytest.approx(16 / 6)  # ngf 16 vs 6 into 3 outputs
        assert all(r['teacher_ms'] > 0 and r['student_ms'] > 0 for r in layers)
        assert sum(prof['per_type']['student'].values()) >= sum(
            r['student_ms'] for r in layers) * 0.99
    assert 'OpenVINO per convolution layer (split-narrow graph)' in out
    for _, _, teacher_ms, student_ms, speedup, *_ in rows:
        assert float(speedup) == pytest.approx(float(teacher_ms) / float(student_ms),
                                               rel=0.02), out[-3000:]
    flops = re.search(r'teacher ([\d.]+) G, student ([\d.]+) G \(ratio ([\d.]+)x\)', out)
    assert float(flops[3]) == pytest.approx(float(flops[1]) / float(flops[2]), rel=0.01)
    assert all(r[5] == flops[3] for r in rows)


def tiny_generator():
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmagic')
    torch.manual_seed(0)
    return MODELS.build(dict(type='ResnetGenerator', in_channels=3, out_channels=3,
                             base_channels=8, num_blocks=2, norm_cfg=dict(type='IN'))).eval()


def test_cpu_runtimes_match_pytorch_and_int8_is_marked(tmp_path, monkeypatch):
    from reko_mm.deployment import (ExportedGenerator, export_onnx, quantize_int8,
                                    save_openvino_ir)
    net = tiny_generator()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        ref = net(x)
    onnx = export_onnx(net, x[:1], str(tmp_path / 'g.onnx'))
    xml = save_openvino_ir(onnx, str(tmp_path / 'g.xml'))
    assert (tmp_path / 'g.bin').exists()
    for path, runtime in ((onnx, None), (onnx, 'onnxruntime-tuned'), (xml, None),
                          (onnx, 'openvino')):
        gen = ExportedGenerator(path, runtime)
        assert gen.runtime == (runtime or ('openvino' if path == xml else 'onnxruntime'))
        assert (gen(x) - ref).abs().max() < 1e-4, (path, runtime)  # batch 2 from a batch-1 export
    # ONNX Runtime's quantiser leaves temporary files in the working directory; ours must not
    work = tmp_path / 'cwd'
    work.mkdir()
    monkeypatch.chdir(work)
    int8 = quantize_int8(onnx, 'g_int8.onnx', [torch.rand(4, 3, 32, 32) * 2 - 1])
    assert os.getcwd() == str(work) and sorted(os.listdir(work)) == ['g_int8.onnx']
    import onnx as onnx_lib
    ops = {n.op_type for n in onnx_lib.load(int8).graph.node}
    assert {'QuantizeLinear', 'DequantizeLinear'} <= ops and 'InstanceNormalization' in ops
    for runtime in ('onnxruntime-int8', 'openvino-int8'):
        y = ExportedGenerator(int8, runtime)(x)
        assert y.shape == ref.shape and torch.isfinite(y).all()
        assert 0 < (y - ref).abs().max() < 2  # quantised: not equal, still in range

    (tmp_path / 'g.onnxx').write_bytes(b'')
    with pytest.raises(ValueError, match=r"unknown exported format '.onnxx'.*\.xml"):
        ExportedGenerator(str(tmp_path / 'g.onnxx'))
    with pytest.raises(FileNotFoundError, match='exported generator not found'):
        ExportedGenerator(str(tmp_path / 'missing.onnx'))


def test_fastest_export_and_its_metric_equals_the_checkpoint(synthetic_unpaired,
                                                             synthetic_reko_ckpts, tmp_path):
    """--formats fastest writes one timed form per generator and a manifest; tools/test.py
    --exported scores that file, and for CycleGAN (evaluated in eval mode) the metrics equal
    those of the checkpoint itself."""
    import json
    out = run_tool(['tools/deployment/export_student.py', REKO, synthetic_reko_ckpts[1],
                    '--out-dir', str(tmp_path), '--formats', 'fastest', '--threads', '1'] +
                   data_opts(synthetic_unpaired)).stdout
    deploy = json.load(open(tmp_path / 'cyclegan_synthetic_7x_deploy.json'))
    assert set(deploy) == {'flat2striped', 'striped2flat'}, out[-2000:]
    for entry in deploy.values():
        measured = entry['measured']
        assert entry['median_ms'] == min(measured.values())
        assert any(entry['runtime'] in k for k, v in measured.items()
                   if v == entry['median_ms'])
        assert not entry['runtime'].endswith('int8')  # not without --allow-int8
        # the CycleGAN generators end in a 7x7 convolution to 3 channels: both graphs timed,
        # and the manifest names the graph of the fastest
        assert {k.rsplit(', ', 1)[1] for k in measured} == {'plain)', 'split-narrow)'}
        best = [k for k, v in measured.items() if v == entry['median_ms']]
        assert any(k.endswith(f', {entry["graph"]})') for k in best), (entry, best)
        assert os.path.isfile(tmp_path / entry['file'])
        assert entry['max_abs_diff'] < 1e-4
    files = sorted(os.listdir(tmp_path))
    assert len([f for f in files if not f.endswith(('.json', '.bin'))]) == 2, files

    scores = {}
    test_opts = [f'test_dataloader.dataset.data_root={synthetic_unpaired}']
    exported = [f'{k.split("2")[1]}={tmp_path / v["file"]}' for k, v in deploy.items()]
    for name, extra in (('checkpoint', []), ('exported', ['--exported'] + exported)):
        out = run_tool(['tools/test.py', REKO, synthetic_reko_ckpts[1], '--work-dir',
                        str(tmp_path / name), '--out', str(tmp_path / f'{name}.json')] + extra +
                       ['--cfg-options'] + test_opts).stdout
        scores[name] = json.load(open(tmp_path / f'{name}.json'))
    assert 'run by' in out and "the checkpoint's generator is not used" in out
    assert scores['checkpoint'].keys() == scores['exported'].keys()
    for key, value in scores['checkpoint'].items():
        assert scores['exported'][key] == pytest.approx(value, rel=1e-3, abs=1e-3), key

    # a domain the model does not translate to (tools/test.py's check, in-process)
    from reko_mm.apis import build_model_from_config, swap_exported_generators
    model = build_model_from_config(REKO, synthetic_reko_ckpts[1],
                                    {'model.teacher.ckpt': synthetic_reko_ckpts[0]})
    with pytest.raises(ValueError, match=r"--exported 'zebra=.*target domains of this model: "
                                         r"\['flat', 'striped'\]"):
        swap_exported_generators(model, [f'zebra={tmp_path / "x.onnx"}'])


def test_split_narrow_convs_is_exact_and_says_what_it_cannot_rewrite(tmp_path):
    """The rewrite of the RGB output convolution equals the original (PyTorch, ONNX Runtime,
    OpenVINO), leaves the original network alone, and refuses convolutions it cannot express."""
    import torch.nn as nn
    from mmagic.registry import MODELS

    from reko_mm.deployment import (RowSplitConv2d, export_onnx, file_runner,
                                    split_narrow_convs)
    net = tiny_generator()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        ref = net(x)
    split, names = split_narrow_convs(net)
    narrow = [n for n, m in net.named_modules()
              if isinstance(m, nn.Conv2d) and m.out_channels <= 4]
    assert names == narrow and len(names) == 1
    assert isinstance(split.get_submodule(names[0]), RowSplitConv2d)
    assert type(net.get_submodule(names[0])) is nn.Conv2d  # the original is untouched
    with torch.no_grad():
        assert (split(x) - ref).abs().max() < 1e-5
    onnx = export_onnx(split, x[:1], str(tmp_path / 'split.onnx'))
    other = torch.rand(1, 3, 48, 64) * 2 - 1  # the row shifts follow the dynamic height
    with torch.no_grad():
        ref_other = net(other)
    for runtime in ('onnxruntime', 'openvino'):
        for inp, expected in ((x, ref), (other, ref_other)):
            y = file_runner(onnx, runtime)(inp.numpy())
            assert y.shape == expected.shape and abs(y - expected.numpy()).max() < 1e-4, runtime

    # zero padding and a bias are carried over; a strided or grouped conv is refused
    conv = nn.Conv2d(5, 2, (3, 5), padding=(1, 2)).eval()
    with torch.no_grad():
        assert (RowSplitConv2d(conv)(x[:, :1].repeat(1, 5, 1, 1)) -
                conv(x[:, :1].repeat(1, 5, 1, 1))).abs().max() < 1e-5
    with pytest.raises(ValueError, match='stride'):
        RowSplitConv2d(nn.Conv2d(4, 3, 3, stride=2))
    with pytest.raises(ValueError, match='groups=3'):
        RowSplitConv2d(nn.Conv2d(3, 3, 3, groups=3))
    with pytest.raises(ValueError, match='reflect'):
        RowSplitConv2d(nn.Conv2d(3, 3, 3, padding=1, padding_mode='reflect'))
    # a UNet ends in a transposed convolution: nothing to rewrite, and it says so
    unet = MODELS.build(dict(type='UnetGenerator', in_channels=3, out_channels=3,
                             num_down=5, base_channels=8))
    assert split_narrow_convs(unet)[1] == []


def test_split_narrow_export_is_exact_and_refused_where_it_would_do_nothing(
        synthetic_unpaired, synthetic_reko_ckpts, tmp_path):
    out = run_tool(['tools/deployment/export_student.py', REKO, synthetic_reko_ckpts[1],
                    '--out-dir', str(tmp_path / 'split'), '--formats', 'onnx', 'openvino',
                    '--split-narrow'] + data_opts(synthetic_unpaired)).stdout
    diffs = re.findall(r'\(split-narrow graph\): \S+\s+max abs difference vs PyTorch on 4 real '
                       r'test images: (\S+)', out)
    assert len(diffs) == 4 and max(map(float, diffs)) < 1e-4, out[-3000:]
    import onnx
    graph = onnx.load(str(tmp_path / 'split' / 'cyclegan_synthetic_7x_flat2striped.onnx')).graph
    assert 'Slice' in {n.op_type for n in graph.node}  # the rewritten graph was written

    bad = run_tool(['tools/deployment/export_student.py', REKO, synthetic_reko_ckpts[1],
                    '--out-dir', str(tmp_path / 'no'), '--formats', 'fastest',
                    '--split-narrow'], check=False, timeout=300)
    assert bad.returncode != 0 and 'already times the plain and the rewritten graph' in \
        bad.stdout and not (tmp_path / 'no').exists()


def test_split_narrow_is_refused_for_a_unet_before_anything_is_written(tmp_path, synthetic_paired):
    """A Pix2Pix UNet has no narrow convolution: --split-narrow would do nothing, so it is
    refused, naming the generator, and no output folder is made."""
    from mmagic.registry import MODELS
    from mmengine.registry import init_default_scope

    from reko_mm.deployment import export_student
    from reko_mm.utils import load_config as load_cfg
    from reko_mm.apis import student_config
    config = 'configs/reko/synthetic/pix2pix_synthetic_4x.py'
    init_default_scope('mmagic')
    model = MODELS.build(student_config(load_cfg(config)).model)
    ckpt = tmp_path / 'student.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    with pytest.raises(ValueError, match=r"generator\(s\) to \['photo'\] have no convolution"):
        export_student(config, str(ckpt), str(tmp_path / 'out'), ['onnx'], split_narrow=True,
                       cfg_options={'test_dataloader.dataset.data_root': synthetic_paired})
    assert not (tmp_path / 'out').exists()


def test_openvino_bf16_computes_in_bf16_or_is_refused(tmp_path):
    """On a CPU with bf16 units ``openvino-bf16`` really runs in bfloat16 (its output moves off
    the f32 one by about bf16's precision); on one without, it is refused with the reason
    instead of silently running f32 under a bf16 label."""
    from reko_mm.deployment import (REDUCED_PRECISION, ExportedGenerator, export_onnx,
                                    runtime_available, save_openvino_ir)
    import openvino as ov
    assert 'openvino-bf16' in REDUCED_PRECISION
    net = tiny_generator()
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    xml = save_openvino_ir(export_onnx(net, x, str(tmp_path / 'g.onnx')), str(tmp_path / 'g.xml'))
    has_bf16 = 'BF16' in ov.Core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES')
    problem = runtime_available('openvino-bf16')
    if not has_bf16:
        assert problem and 'no bf16 units' in problem
        with pytest.raises(RuntimeError, match='no bf16 units'):
            ExportedGenerator(xml, 'openvino-bf16')
        return
    assert problem is None
    f32 = ExportedGenerator(xml, 'openvino')(x)
    bf16 = ExportedGenerator(xml, 'openvino-bf16')(x)
    diff = (bf16 - f32).abs().max().item()
    assert 1e-3 < diff < 0.5, diff  # bfloat16 keeps 8 bits of mantissa: ~1e-2 per value


def test_the_fastest_form_is_chosen_in_one_interleaved_timing(tmp_path, monkeypatch):
    """Every candidate (graph x format x runtime) in one median_times call, so that a drift of
    the machine cannot favour the one timed in a quiet moment."""
    from reko_mm.deployment import export_onnx, latency
    net, x = torch.nn.Conv2d(3, 3, 3, padding=1).eval(), torch.rand(1, 3, 16, 16)
    files = {}
    for graph in ('plain', 'split-narrow'):
        files[(graph, 'onnx')] = str(tmp_path / f'{graph}.onnx')
        export_onnx(net, x, files[(graph, 'onnx')])
    calls = []
    real = latency.median_times

    def spy(fns, *args, **kwargs):
        calls.append(sorted(k[:3] for k in fns))
        return real(fns, *args, **kwargs)
    monkeypatch.setattr(latency, 'median_times', spy)
    timings = latency.select_fastest(files, x, warmup=1, repeats=2, log=lambda _: None)
    assert len(calls) == 1 and calls[0] == sorted(
        (g, 'onnx', r) for g in ('plain', 'split-narrow')
        for r in ('onnxruntime', 'onnxruntime-tuned'))
    assert [t[0] for t in timings] == sorted(t[0] for t in timings) and len(timings) == 4


def test_timing_on_a_device_leaves_the_callers_network_where_it_was():
    from reko_mm.deployment import make_runner
    net = torch.nn.Conv2d(3, 3, 3)
    run, _ = make_runner('pytorch', torch.rand(1, 3, 8, 8), net=net, device='meta')
    assert run().device.type == 'meta'
    assert all(p.device.type == 'cpu' for p in net.parameters())
