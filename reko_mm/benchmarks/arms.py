"""The arms of a distillation benchmark, as mmengine ``Config`` objects.

An arm is the setting's no-KD student with the terms of one or more method fragments
(``configs/reko/_base_/methods/<m>.py``), which say everything about a method: its terms for each
generator (``<m>_<arch>_losses``), its feature networks (``<m>_<arch>_feature_nets`` or
``<m>_feature_nets``) and the optimizer of its learnable parts (``<m>_optim_wrapper``). The
teacher is the one the no-KD config's teacher config names (``teacher_student``). So the arms of
a benchmark are the shipped method configs, and differ from each other only in distillation.
"""
import copy
import os
import os.path as osp
import pprint
import threading
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs', 'reko')
METHODS_DIR = osp.join(CONFIGS, '_base_', 'methods')

# no-KD, ReKo, the paper's eight comparison methods and its two combinations
ARMS = ['nokd', 'reko', 'hinton', 'at', 'gan_compression', 'srpkd', 'cat', 'vid', 'omgd', 'gcc',
        'reko_omgd', 'reko_gcc']
# The paper's Table 4: ReKo with one of its two parts switched (arm: (label, loss changes)).
ABLATIONS = {
    'all_regions': ('contrastive on all regions (L_RegionDis)', dict(region_selector='all')),
    'l2_crucial': ('L2 on the crucial regions', dict(contrastive=False)),
}
ARCHS = ('resnet', 'unet', 'hd')
INIT = '+init'  # an arm name ending in it: the same arm, the student initialised from the teacher


# mmengine parses mmagic:: bases through pkg_resources, which two threads must not use at once
PARSE_LOCK = threading.RLock()


def _min_batch():
    from ..losses.kernel_alignment_loss import KernelAlignmentLoss
    return {'cat': KernelAlignmentLoss.min_batch}


# the arms whose term compares the images of a batch, and the batch they need
MIN_BATCH = _min_batch()

def load_config(path: str):
    """:func:`reko_mm.utils.load_config`, one thread at a time."""
    from ..utils.config import load_config as load
    with PARSE_LOCK:
        return load(path)


def split_arm(arm: str) -> Tuple[str, bool]:
    """``(method arm, initialised from the teacher)`` of an arm name: ``'reko+init'`` ->
    ``('reko', True)``."""
    return (arm[:-len(INIT)], True) if arm.endswith(INIT) else (arm, False)


def run_name(arm: str, seed: int) -> str:
    """The work dir name of one run of an arm: ``'reko+init'``, seed 3 -> ``reko_init_seed3``."""
    return f"{arm.replace(INIT, '_init')}_seed{seed}"


class BenchmarkError(RuntimeError):
    """A benchmark that cannot run as asked (a stale work dir, a missing fragment, ...)."""


def config_path(name: str) -> str:
    """``configs/reko/<name>`` of this checkout (the benchmarks read the shipped configs)."""
    path = osp.join(CONFIGS, name)
    if not osp.isfile(path):
        raise BenchmarkError(f'config not found: {path} (the benchmarks run from a checkout of '
                             'reko-mm, which has configs/reko)')
    return path


def fragments(arm: str) -> List[str]:
    """The method fragments of an arm: ``'reko_omgd'`` is ReKo's and OMGD's terms together."""
    if arm == 'nokd':
        return []
    if arm in ABLATIONS:
        return ['reko']
    if arm.startswith('reko_'):
        return ['reko', arm[len('reko_'):]]
    return [arm]


@lru_cache(maxsize=None)
def _fragment(name: str) -> dict:  # a cached copy: callers deep-copy what they take
    path = osp.join(METHODS_DIR, f'{name}.py')
    if not osp.isfile(path):
        raise BenchmarkError(f'no method fragment {path} for the arm {name!r}; the methods are '
                             f'{sorted(f[:-3] for f in os.listdir(METHODS_DIR))}')
    return load_config(path).to_dict()


def distillation(arm: str, arch: str, num_regions: Optional[int] = None,
                 probe_size: Optional[int] = None) -> Tuple[dict, Optional[dict]]:
    """``(model.distill, optim_wrapper or None)`` of an arm for a generator ``arch``.

    Args:
        arm (str): one of :data:`ARMS` or :data:`ABLATIONS`.
        arch (str): ``'resnet'``, ``'unet'`` or ``'hd'`` (Pix2PixHD's global generator).
        num_regions (int, optional): ReKo's K, where the maps are smaller than the configs'.
        probe_size (int, optional): the build-time dry run's input side (the crop size).
    """
    if arch not in ARCHS:
        raise ValueError(f'arch must be one of {ARCHS}, got {arch!r}')
    losses: Dict[str, dict] = {}
    nets: Dict[str, dict] = {}
    optim = None
    for name in fragments(arm):
        frag = _fragment(name)
        var = f'{name}_{arch}_losses'
        if var not in frag:
            raise BenchmarkError(f'{METHODS_DIR}/{name}.py defines no {var}')
        losses.update(copy.deepcopy(frag[var]))
        for net_var in (f'{name}_{arch}_feature_nets', f'{name}_feature_nets'):
            if net_var in frag:
                nets.update(copy.deepcopy(frag[net_var]))
                break
        optim = copy.deepcopy(frag.get(f'{name}_optim_wrapper', optim))
    if 'reko' in losses:
        if num_regions is not None:
            losses['reko']['loss']['num_regions'] = num_regions
        if arm in ABLATIONS:
            losses['reko']['loss'].update(ABLATIONS[arm][1])
    distill = dict(losses=losses)
    if nets:
        distill['feature_nets'] = nets
    if probe_size is not None:
        distill['probe_size'] = probe_size
    return distill, optim


def arm_config(student: str, arm: str, arch: str, budget: Optional[dict] = None,
               teacher_ckpt: Optional[str] = None, num_regions: Optional[int] = None,
               probe_size: Optional[int] = None, student_init: Optional[dict] = None):
    """The ``Config`` of one arm: the no-KD ``student`` config, distilled as ``arm`` asks (from
    the teacher its teacher config names, or ``teacher_ckpt``), with the ``budget`` (a
    ``merge_from_dict`` dict: data, schedule, seed) the same for every arm.

    ``student_init`` (``model.student_init``, e.g. ``dict(rule='norm_scale')``): the student
    starts from the teacher's channels. A plain no-KD student then becomes a
    ``TeacherStudentGAN`` with no distillation terms: the teacher only initialises it.
    """
    cfg = load_config(student)
    if arm != 'nokd' or student_init:
        distill, optim = distillation(arm, arch, num_regions, probe_size)
        if cfg.model.get('type') != 'TeacherStudentGAN':
            if 'teacher_student' not in cfg:
                raise BenchmarkError(f'{student} names no teacher (no teacher_student variable '
                                     'in its teacher config): it cannot be distilled')
            cfg.merge_from_dict(dict(model=copy.deepcopy(cfg.teacher_student)))
        if arm != 'nokd' or 'distill' not in cfg.model:  # a teacher-target baseline keeps its own
            cfg.model.distill = distill
        if optim:
            cfg.merge_from_dict(dict(optim_wrapper=optim))
        if teacher_ckpt:
            cfg.model.teacher.ckpt = teacher_ckpt
        if student_init:
            cfg.model.student_init = dict(student_init)
    if budget:
        cfg.merge_from_dict(budget)
    return cfg


def sized_pipeline(pipeline, size: int, crop_keys=('Crop',)) -> list:
    """A copy of a data pipeline at ``size``: its ``Resize`` to a short side of ``size``, and
    the crops of the transforms named in ``crop_keys`` to ``size`` x ``size``."""
    out = copy.deepcopy(list(pipeline))
    for t in out:
        if t['type'] == 'Resize':
            t['scale'] = (size, -1)
        elif t['type'] in crop_keys:
            t['crop_size'] = (size, size)
    return out


def config_text(cfg) -> str:
    """A whole config (no ``_base_``) as Python, keys in their order. (mmengine's
    ``pretty_text`` sorts them, and the order of ``model.distill.losses`` is the order in which
    the terms, and their random heads, are built.)"""
    lines = ['# written by reko_mm.benchmarks: the whole config of one run']
    for key, value in cfg.to_dict().items():
        lines.append(f'{key} = {pprint.pformat(value, width=99, sort_dicts=False)}')
    return '\n'.join(lines) + '\n'


def write_config(cfg, path: str) -> str:
    """Write ``cfg`` to ``path`` (see :func:`config_text`); left untouched when it already holds
    the same text, so a finished run's config keeps its time stamp."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    text = config_text(cfg)
    if not osp.exists(path) or open(path).read() != text:
        with open(path, 'w') as f:
            f.write(text)
    return path
