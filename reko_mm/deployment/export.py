"""Student export: a plain MMagic checkpoint, ONNX and TorchScript generators, each checked.

The exported graphs are the bare generators: input ``(N, 3, H, W)`` in [-1, 1], in the channel
order the model was trained on, output in the same range and order. For MMagic's CycleGAN and
Pix2Pix configs that is BGR: ``LoadImageFromFile`` reads OpenCV's BGR and their
``DataPreprocessor`` does not convert it, so the input is ``(bgr - 127.5) / 127.5``.
"""
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn as nn

from ..models import student_config


def load_cfg(config: str, cfg_options: Optional[dict] = None):
    from mmengine.config import Config
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {osp.abspath(config)}')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def load_student(cfg, checkpoint: str, config_name: str = 'the config') -> nn.Module:
    """Build the plain student of ``cfg`` and load it strictly from a (ReKo) checkpoint: every key
    and shape must match (distillation entries of a training checkpoint are not the student)."""
    from mmengine.registry import init_default_scope
    from mmagic.registry import MODELS

    from ..utils import load_state_strict
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    model = MODELS.build(student_config(cfg).model)
    load_state_strict(model, checkpoint, config_name)
    return model.eval()


def save_plain_checkpoint(model: nn.Module, cfg, src_checkpoint: str, out: str) -> str:
    """Write the student as a plain MMagic checkpoint: its ``state_dict`` only (no distillation
    heads, no optimizer) and ``meta.cfg`` set to the plain student config."""
    if osp.abspath(out) == osp.abspath(src_checkpoint):
        raise ValueError(f'refusing to overwrite the source checkpoint {src_checkpoint}')
    src = torch.load(src_checkpoint, map_location='cpu', weights_only=False)
    meta = dict(src.get('meta', {})) if isinstance(src, dict) else {}
    meta['cfg'] = student_config(cfg).pretty_text
    meta['reko_mm'] = dict(exported_from=osp.abspath(src_checkpoint))
    torch.save(dict(meta=meta, state_dict=model.state_dict()), out)
    return out


def generator_domains(model: nn.Module) -> Dict[str, str]:
    """``{target_domain: source_domain}`` of every generator of a translation model."""
    return {target: model.get_other_domains(target)[0] for target in model._reachable_domains}


def real_inputs(cfg, model: nn.Module, source_domain: str, num: int,
                split: str = 'test') -> torch.Tensor:
    """The first ``num`` images of ``source_domain`` of the test (or ``split='train'``) set,
    preprocessed as the model's data preprocessor does (the train set's pipeline, with its
    random flips and crops, for 'train')."""
    from mmengine.dataset import pseudo_collate
    from mmagic.registry import DATASETS
    if split == 'train':
        loader = cfg.get('train_dataloader')
    else:
        loader = cfg.get('test_dataloader') or cfg.get('val_dataloader')
    if not loader:
        raise ValueError(f'the config has no {split}_dataloader to take real images from')
    dataset = DATASETS.build(loader['dataset'])
    batch = pseudo_collate([dataset[i] for i in range(min(num, len(dataset)))])
    inputs = model.data_preprocessor(batch, False)['inputs']
    return inputs[f'img_{source_domain}'] if isinstance(inputs, dict) else inputs


def export_onnx(generator: nn.Module, example: torch.Tensor, path: str, opset: int = 17,
                dynamic: bool = True) -> str:
    """Export (batch, height and width dynamic unless ``dynamic=False``) with the TorchScript
    exporter; an unsupported op names the op and the opset."""
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    try:
        torch.onnx.export(generator, (example,), path, dynamo=False, opset_version=opset,
                          input_names=['input'], output_names=['output'],
                          dynamic_axes=dict(input=axes, output=axes) if dynamic else None)
    except torch.onnx.errors.UnsupportedOperatorError as err:
        raise RuntimeError(f'ONNX export failed at opset {opset}: {err}. Try another '
                           '--opset, or replace the operator in the generator.') from err
    import onnx
    onnx.checker.check_model(onnx.load(path))
    return path


def freeze_torchscript(generator: nn.Module, example: torch.Tensor) -> torch.jit.ScriptModule:
    """Trace and freeze. Freezing inlines the submodules, which also drops mmcv's ``in``
    attribute names (InstanceNorm in ``ConvModule``) that ``torch.jit.load`` cannot parse."""
    with torch.no_grad():
        return torch.jit.freeze(torch.jit.trace(generator, example).eval())


def export_torchscript(generator: nn.Module, example: torch.Tensor, path: str) -> str:
    freeze_torchscript(generator, example).save(path)
    return path


def onnx_outputs(path: str, inputs: torch.Tensor) -> np.ndarray:
    import onnxruntime as ort
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return session.run(None, {'input': inputs.numpy()})[0]


def torchscript_outputs(path: str, inputs: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return torch.jit.load(path, map_location='cpu')(inputs).numpy()


def max_abs_diff(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


FORMATS = {'onnx': '.onnx', 'torchscript': '.pt', 'openvino': '.xml',
           'onnx-int8': '_int8.onnx'}
# what runs each format when the fastest form is measured
FORMAT_RUNTIMES = {'onnx': ['onnxruntime', 'onnxruntime-tuned'], 'torchscript': ['torchscript'],
                   'openvino': ['openvino'], 'onnx-int8': ['onnxruntime-int8', 'openvino-int8']}


def time_file(path: str, runtime: str, x: torch.Tensor, threads: int, warmup: int = 3,
              repeats: int = 10) -> float:
    """Median ms per call of an exported file in ``runtime``."""
    import statistics
    import time

    from .runtimes import file_runner
    run = file_runner(path, runtime, threads)
    feed = x.numpy()
    for _ in range(warmup):
        run(feed)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(feed)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def export_forms(generator: nn.Module, graph: Optional[str], label: str, stem: str,
                 made: List[str],
                 example: torch.Tensor, inputs: torch.Tensor, reference: np.ndarray, tmp: str,
                 opset: int, fastest: bool, report: dict, log, calibration) -> Dict[str, tuple]:
    """Write ``generator`` in each format of ``made`` at ``stem`` + suffix, run each on
    ``inputs`` and compare with ``reference``. Returns ``{format: (path, entry)}``."""
    from .runtimes import file_runner, quantize_int8, save_openvino_ir
    onnx_path = stem + '.onnx' if 'onnx' in made else osp.join(tmp, 'for_derived.onnx')
    if {'onnx', 'openvino', 'onnx-int8'} & set(made):
        export_onnx(generator, example, onnx_path, opset)
    files = {}
    for fmt in made:
        path = stem + FORMATS[fmt]
        if fmt == 'onnx':
            out = onnx_outputs(path, inputs)
        elif fmt == 'torchscript':
            export_torchscript(generator, example, path)
            out = torchscript_outputs(path, inputs)
        elif fmt == 'openvino':
            save_openvino_ir(onnx_path, path)
            out = file_runner(path, 'openvino')(inputs.numpy())
        else:
            quantize_int8(onnx_path, path, [calibration()])
            out = file_runner(path, 'onnxruntime-int8')(inputs.numpy())
        diff = max_abs_diff(out, reference)
        entry = dict(max_abs_diff=diff, images=len(inputs), int8=fmt == 'onnx-int8')
        if graph:
            entry['graph'] = graph
        if not fastest:
            report[path] = entry
        log(f'{fmt:11s} {label}{" (" + graph + " graph)" if graph else ""}: {path}  '
            f'max abs difference vs PyTorch on {len(inputs)} real test images: {diff:.3g}' +
            (' (int8: check its metric with tools/test.py --exported)'
             if fmt == 'onnx-int8' else ''))
        files[fmt] = (path, entry)
    return files


def export_student(config: str, checkpoint: str, out_dir: str,
                   formats: List[str] = ('pth', 'onnx', 'torchscript'), opset: int = 17,
                   num_images: int = 4, cfg_options: Optional[dict] = None,
                   overwrite: bool = False, log=print, calib_images: int = 16,
                   allow_int8: bool = False, threads: int = 0,
                   split_narrow: bool = False) -> Dict[str, dict]:
    """Export every generator of the student in ``checkpoint`` and check each export against
    PyTorch on ``num_images`` real test images. Returns ``{file: {'max_abs_diff': ...}}``.

    Formats: ``pth`` (plain MMagic checkpoint), ``onnx``, ``torchscript``, ``openvino`` (IR,
    fp32), ``onnx-int8`` (static quantisation calibrated on ``calib_images`` training images;
    its difference is reported, not bounded: check it on a metric with ``tools/test.py
    --exported``), and ``fastest``: every fp32 form (and int8 with ``allow_int8``) is made in a
    temporary folder and timed in each runtime that runs it, with ``threads``, at the test
    images' size; the fastest is written, with ``<name>_deploy.json`` saying which runtime and
    what was measured; it tries the plain graph and, where the generator has a narrow
    convolution, the exactly rewritten one (``split_narrow_convs``). ``split_narrow`` exports the
    rewritten graph in the other formats. Existing files are left alone unless ``overwrite``."""
    import json
    import shutil
    import tempfile

    from .rewrite import split_narrow_convs
    from .runtimes import runtime_available
    unknown = set(formats) - {'pth', 'fastest'} - set(FORMATS)
    if unknown:
        raise ValueError(f'unknown formats {sorted(unknown)}; choose from pth, '
                         f'{", ".join(FORMATS)}, fastest')
    cfg = load_cfg(config, cfg_options)
    model = load_student(cfg, checkpoint, config)
    name = osp.splitext(osp.basename(config))[0]
    report = {}
    fastest = 'fastest' in formats
    made = [f for f in FORMATS if f in formats]
    if fastest:
        made = [f for f in FORMATS if f != 'onnx-int8' or allow_int8]
        made = [f for f in made
                if all(runtime_available(r) is None for r in FORMAT_RUNTIMES[f][:1])]
    domains = generator_domains(model)
    if split_narrow:
        if fastest:
            raise ValueError('split_narrow applies to explicit formats: --formats fastest '
                             'already times the plain and the rewritten graph')
        plain = [t for t in domains
                 if not split_narrow_convs(model._get_target_generator(t))[1]]
        if plain:
            raise ValueError(f'split_narrow: the generator(s) to {plain} have no convolution '
                             'with at most 4 outputs to rewrite (a UNet ends in a transposed '
                             'convolution); export without it')
    planned = [osp.join(out_dir, f'{name}.pth')] if 'pth' in formats else []
    if fastest:
        planned.append(osp.join(out_dir, f'{name}_deploy.json'))
    else:
        planned += [osp.join(out_dir, f'{name}_{source}2{target}{FORMATS[f]}')
                    for target, source in domains.items() for f in made]
    existing = [p for p in planned if osp.exists(p)]
    if existing and not overwrite:
        raise FileExistsError(f'would overwrite {existing}; choose another --out-dir or pass '
                              '--overwrite')
    os.makedirs(out_dir, exist_ok=True)
    if 'pth' in formats:
        path = save_plain_checkpoint(model, cfg, checkpoint, osp.join(out_dir, f'{name}.pth'))
        reloaded = load_student(cfg, path)
        diff = max(max_abs_diff(p.detach(), q.detach()) for p, q in
                   zip(model.state_dict().values(), reloaded.state_dict().values()))
        report[path] = dict(max_abs_diff=diff)
        log(f'plain MMagic checkpoint: {path} (max abs weight difference {diff:.3g})')
    deploy = {}
    with tempfile.TemporaryDirectory() as tmp:
        for target, source in domains.items():
            generator = model._get_target_generator(target).eval()
            inputs = real_inputs(cfg, model, source, num_images)
            with torch.no_grad():
                reference = generator(inputs).numpy()
            example = inputs[:1]
            split, split_names = split_narrow_convs(generator)
            if fastest and split_names:
                graphs = {'plain': generator, 'split-narrow': split}
            elif split_narrow:
                graphs = {'split-narrow': split}
            else:
                graphs = {'plain': generator}
            files = {}
            for graph, graph_generator in graphs.items():
                folder = osp.join(tmp, graph) if fastest else out_dir
                os.makedirs(folder, exist_ok=True)
                stem = osp.join(folder, f'{name}_{source}2{target}')
                files.update({(graph, fmt): f for fmt, f in export_forms(
                    graph_generator, graph if split_names else None, f'{source}->{target}',
                    stem, made, example,
                    inputs, reference, tmp, opset, fastest, report, log,
                    lambda: real_inputs(cfg, model, source, calib_images,
                                        split='train')).items()})
            if not fastest:
                continue
            timings = []
            for (graph, fmt), (path, entry) in files.items():
                for runtime in FORMAT_RUNTIMES[fmt]:
                    if runtime_available(runtime) is None:
                        ms = time_file(path, runtime, example, threads)
                        timings.append((ms, graph, fmt, runtime))
                        log(f'  {runtime:<18} {graph:<12} {ms:9.2f} ms  '
                            f'({osp.basename(path)})')
            ms, graph, fmt, runtime = min(timings)
            path, entry = files[(graph, fmt)]
            dst = osp.join(out_dir, osp.basename(path))
            shutil.copy(path, dst)
            if fmt == 'openvino':
                shutil.copy(path[:-4] + '.bin', dst[:-4] + '.bin')
            report[dst] = entry
            deploy[f'{source}2{target}'] = dict(
                file=osp.basename(dst), runtime=runtime, graph=graph, median_ms=round(ms, 3),
                threads=threads or 'default', input_shape=list(example.shape),
                max_abs_diff=entry['max_abs_diff'],
                measured={f'{r} ({f}, {g})': round(t, 3) for t, g, f, r in timings})
            log(f'fastest for {source}->{target}: {runtime} on the {graph} graph ({dst}), '
                f'{ms:.2f} ms')
    if fastest:
        path = osp.join(out_dir, f'{name}_deploy.json')
        with open(path, 'w') as f:
            json.dump(deploy, f, indent=1)
        log(f'what to run and how fast it was: {path}')
    return report
