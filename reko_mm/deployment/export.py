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

from ..apis import student_config
from ..utils.config import load_config
from ..utils.safe_load import safe_torch_load
from .formats import FORMATS, max_abs_diff, write_formats
from .latency import write_fastest


def load_student(cfg, checkpoint: str, config_name: str = 'the config') -> nn.Module:
    """Build the plain student of ``cfg`` and load it strictly from a checkpoint.

    Args:
        cfg (Config): a plain or distillation config (its student is built).
        checkpoint (str): a student or distillation checkpoint; its distillation entries are not
            part of the student and are skipped.
        config_name (str): how errors name the config.

    Returns:
        nn.Module: the student model, in eval mode.

    Raises:
        CheckpointMismatchError: a key or shape does not match (nothing is loaded).
    """
    from mmengine.registry import init_default_scope
    from mmagic.registry import MODELS

    from ..utils import load_state_strict
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    model = MODELS.build(student_config(cfg).model)
    load_state_strict(model, checkpoint, config_name)
    return model.eval()


def save_plain_checkpoint(model: nn.Module, cfg, src_checkpoint: str, out: str) -> str:
    """Write the student as a plain MMagic checkpoint.

    Args:
        model (nn.Module): the plain student.
        cfg (Config): its (distillation) config; ``meta.cfg`` becomes the plain student's.
        src_checkpoint (str): the checkpoint it came from (refused as ``out``).
        out (str): where to write.

    Returns:
        str: ``out``, holding the ``state_dict`` only (no distillation heads, no optimizer).
    """
    if osp.abspath(out) == osp.abspath(src_checkpoint):
        raise ValueError(f'refusing to overwrite the source checkpoint {src_checkpoint}')
    from ..utils import is_generators_only
    src = safe_torch_load(src_checkpoint)
    meta = dict(src.get('meta', {})) if isinstance(src, dict) else {}
    meta['cfg'] = student_config(cfg).pretty_text
    meta['reko_mm'] = dict(exported_from=osp.abspath(src_checkpoint))
    state = model.state_dict()
    if is_generators_only(src):  # a published student: its discriminators were never loaded
        state = {k: v for k, v in state.items() if not k.startswith('discriminators.')}
    torch.save(dict(meta=meta, state_dict=state), out)
    return out


def generator_domains(model: nn.Module) -> Dict[str, str]:
    """``{target_domain: source_domain}`` of every generator of a translation model."""
    return {target: model.get_other_domains(target)[0] for target in model._reachable_domains}


def real_inputs(cfg, model: nn.Module, source_domain: str, num: int,
                split: str = 'test') -> torch.Tensor:
    """The first ``num`` images of ``source_domain``, preprocessed as the model's
    preprocessor does.

    Args:
        cfg (Config): the config whose test (or train) dataloader gives the images.
        model (nn.Module): the model whose data preprocessor normalises them.
        source_domain (str): the domain to read (``img_<domain>``).
        num (int): how many.
        split (str): ``'test'`` (the test or val dataloader) or ``'train'`` (its pipeline, with
            its random flips and crops).

    Returns:
        Tensor: ``(num, 3, H, W)`` in [-1, 1], the model's channel order.
    """
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


def verify_formats(files: Dict[str, str], inputs: torch.Tensor,
                   reference: np.ndarray) -> Dict[str, float]:
    """The max abs difference of each exported file to PyTorch's output.

    Args:
        files (dict): ``{format: path}`` (:func:`write_formats`).
        inputs (Tensor): the images, in the model's channel order.
        reference (ndarray): PyTorch's output on them.

    Returns:
        dict: ``{format: max abs difference}``; each file is run by its format's exact runtime
        (int8 by ONNX Runtime's int8 kernels).
    """
    from .runtimes import FORMAT_RUNTIMES, file_runner
    return {fmt: max_abs_diff(file_runner(path, FORMAT_RUNTIMES[fmt][0])(inputs.numpy()),
                              reference) for fmt, path in files.items()}


def plan_export(cfg, model: nn.Module, name: str, out_dir: str, formats, allow_int8: bool,
                split_narrow: bool, overwrite: bool) -> dict:
    """What an export will write, checked before anything is.

    Args:
        cfg (Config): the config.
        model (nn.Module): the loaded student.
        name (str): the stem of the output files.
        out_dir (str): where they go.
        formats: ``pth``, any of :data:`FORMATS`, or ``fastest``.
        allow_int8 (bool): with ``fastest``, let int8 compete.
        split_narrow (bool): export the exact rewrite of the narrow convolutions.
        overwrite (bool): allow existing files to be replaced.

    Returns:
        dict: ``formats`` (to make), ``fastest``, ``pth``, ``domains`` (``{target: source}``),
        ``graphs`` (``{target: {graph: generator}}``) and ``outputs`` (every path written).

    Raises:
        ValueError: unknown formats, ``split_narrow`` with ``fastest`` or where nothing would be
            rewritten.
        FileExistsError: an output exists and ``overwrite`` is off.
    """
    from .rewrite import split_narrow_convs
    from .runtimes import FORMAT_RUNTIMES, runtime_available
    unknown = set(formats) - {'pth', 'fastest'} - set(FORMATS)
    if unknown:
        raise ValueError(f'unknown formats {sorted(unknown)}; choose from pth, '
                         f'{", ".join(FORMATS)}, fastest')
    fastest = 'fastest' in formats
    made = [f for f in FORMATS if f in formats]
    if fastest:
        made = [f for f in FORMATS if (f != 'onnx-int8' or allow_int8) and
                runtime_available(FORMAT_RUNTIMES[f][0]) is None]
    if split_narrow and fastest:
        raise ValueError('split_narrow applies to explicit formats: --formats fastest '
                         'already times the plain and the rewritten graph')
    domains = generator_domains(model)
    graphs, plain = {}, []
    for target in domains:
        generator = model._get_target_generator(target).eval()
        split, names = split_narrow_convs(generator)
        if not names:
            plain.append(target)
        if fastest and names:
            graphs[target] = {'plain': generator, 'split-narrow': split}
        elif split_narrow:
            graphs[target] = {'split-narrow': split}
        else:
            graphs[target] = {'plain': generator}
    if split_narrow and plain:
        raise ValueError(f'split_narrow: the generator(s) to {plain} have no convolution with '
                         'at most 4 outputs to rewrite (a UNet ends in a transposed '
                         'convolution); export without it')
    outputs = [osp.join(out_dir, f'{name}.pth')] if 'pth' in formats else []
    if fastest:
        outputs.append(osp.join(out_dir, f'{name}_deploy.json'))
    else:
        outputs += [osp.join(out_dir, f'{name}_{source}2{target}{FORMATS[f]}')
                    for target, source in domains.items() for f in made]
    existing = [p for p in outputs if osp.exists(p)]
    if existing and not overwrite:
        raise FileExistsError(f'would overwrite {existing}; choose another --out-dir or pass '
                              '--overwrite')
    return dict(formats=made, fastest=fastest, pth='pth' in formats, domains=domains,
                graphs=graphs, outputs=outputs)


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
    rewritten graph in the other formats. Existing files are left alone unless ``overwrite``.

    The steps: :func:`plan_export` (every check and path, before anything is written),
    :func:`write_formats` (convert, into a temporary folder for ``fastest``),
    :func:`verify_formats`, and for ``fastest`` :func:`reko_mm.deployment.latency.write_fastest`
    (time them, write the fastest and the manifest).
    """
    import tempfile

    from ..utils import check_data_roots
    cfg = load_config(config, cfg_options)
    # the exports are checked on test images (int8 calibrated on training ones): refuse a
    # config whose data is not here before anything is loaded or written
    check_data_roots(cfg, keys=('test_dataloader',) + (
        ('train_dataloader',) if 'onnx-int8' in formats or allow_int8 else ()))
    model = load_student(cfg, checkpoint, config)
    name = osp.splitext(osp.basename(config))[0]
    plan = plan_export(cfg, model, name, out_dir, formats, allow_int8, split_narrow, overwrite)
    os.makedirs(out_dir, exist_ok=True)
    report = {}
    if plan['pth']:
        path = save_plain_checkpoint(model, cfg, checkpoint, osp.join(out_dir, f'{name}.pth'))
        reloaded = load_student(cfg, path).state_dict()
        saved = safe_torch_load(path)['state_dict']  # a published student's: generators only
        diff = max(max_abs_diff(v.detach(), reloaded[k].detach()) for k, v in
                   model.state_dict().items() if k in saved)
        report[path] = dict(max_abs_diff=diff)
        log(f'plain MMagic checkpoint: {path} (max abs weight difference {diff:.3g})')
    candidates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for target, source in plan['domains'].items():
            label = f'{source}->{target}'
            inputs = real_inputs(cfg, model, source, num_images)
            with torch.no_grad():
                reference = model._get_target_generator(target).eval()(inputs).numpy()
            example = inputs[:1]
            rewritten = 'split-narrow' in plan['graphs'][target]
            files = {}
            for graph, generator in plan['graphs'][target].items():
                folder = osp.join(tmp, graph) if plan['fastest'] else out_dir
                os.makedirs(folder, exist_ok=True)
                made = write_formats(
                    generator, example, osp.join(folder, f'{name}_{source}2{target}'),
                    plan['formats'], opset, scratch=tmp,
                    calibration=lambda: [real_inputs(cfg, model, source, calib_images,
                                                     split='train')])
                for fmt, diff in verify_formats(made, inputs, reference).items():
                    entry = dict(max_abs_diff=diff, images=len(inputs), int8=fmt == 'onnx-int8')
                    if rewritten:
                        entry['graph'] = graph
                    files[(graph, fmt)] = (made[fmt], entry)
                    log(f'{fmt:11s} {label}{f" ({graph} graph)" if rewritten else ""}: '
                        f'{made[fmt]}  max abs difference vs PyTorch on {len(inputs)} real test '
                        f'images: {diff:.3g}' +
                        (' (int8: check its metric with tools/test.py --exported)'
                         if fmt == 'onnx-int8' else ''))
            if plan['fastest']:
                candidates[(source, target)] = (files, example)
            else:
                report.update(files.values())
        if plan['fastest']:
            report.update(write_fastest(candidates, out_dir, name, threads, log))
    return report
