"""What ``tools/compress.py`` decides before it trains: the student's width, the run's config
(an MMagic config that inherits a shipped recipe and states its overrides), and the record that
tells a rerun of the same command (resumed) from another run in the same work dir (refused)."""
import copy
import json
import math
import os
import os.path as osp
from typing import Dict, List, Optional

from ..benchmarks.arms import CONFIGS, distillation
from ..utils.config import load_config

# the shipped recipes the run's config inherits: the fast teacher-target recipe (the teacher's
# translations cached; the released students' recipe), and for a distillation method the same
# recipe with the teacher's features cached as well, at the layers the method's terms read
FAST = 'vintagify/vintagify_7x_nokd_fast.py'
FAST_FEATURES = 'vintagify/vintagify_7x_fast.py'
# the released students' schedule: its length is a run's default length (--iters)
RELEASE = 'vintagify/vintagify_7x_nokd_release.py'
# the recipe's domain names: its input images are 'photo', the teacher's output 'vintage'
SOURCE, TARGET = 'photo', 'vintage'
RATIOS = {'4x': 4, '7x': 7, '16x': 16}
# seconds of one step of the recipe (4 images at 256x256) on 2 cores, for a first time estimate
# before a step is timed on this machine (docs/benchmarks.md: bf16 0.82 s with AMX, 1.48 s with
# AVX-512 bf16 alone; fp32 2.6-4.9 s)
STEP_GUESS_S = {'bf16': 0.85, 'fp32': 3.9}
ARCH_OF = {'ResnetGenerator': 'resnet', 'UnetGenerator': 'unet'}
RECORD = 'compress.json'
# the arguments that make a run: the same ones resume it, others are another run
RUN_ARGS = ('generator_sha256', 'key', 'source_channel_order', 'data', 'layout', 'direction',
            'holdout', 'ratio', 'width', 'method', 'size', 'iters', 'minutes', 'precision',
            'seed')


class CompressError(ValueError):
    """A compression ``tools/compress.py`` refuses before it trains, with the fix."""


def release_iters() -> int:
    """The released students' number of training iterations (``RELEASE``'s)."""
    return int(load_config(osp.join(CONFIGS, RELEASE)).train_cfg.max_iters)


def check_ratio(ratio: Optional[str], width: Optional[int]) -> None:
    if width is None and ratio not in RATIOS:
        raise CompressError(f'--ratio must be one of {sorted(RATIOS)}, got {ratio!r} (or give '
                            '--width N)')


def student_width(teacher_cfg: dict, ratio: Optional[str] = None,
                  width: Optional[int] = None) -> int:
    """The student's ``base_channels``: ``width``, or the teacher's divided by the square root
    of ``ratio`` (parameters scale with the square of the width: 64 -> 24 for 7x, 16 for 16x,
    32 for 4x), rounded."""
    if teacher_cfg.get('type') not in ARCH_OF:
        raise CompressError(f"the teacher is a {teacher_cfg.get('type')}; tools/compress.py "
                            f'narrows {sorted(ARCH_OF)}: distil it with a config of its own '
                            '(docs/distill_your_model.md)')
    full = int(teacher_cfg.get('base_channels', 64))
    check_ratio(ratio, width)
    if width is None:
        width = max(1, round(full / math.sqrt(RATIOS[ratio])))
    if not 1 <= width <= full:
        raise CompressError(f'--width {width}: a student is narrower than its teacher, whose '
                            f'width (base_channels) is {full}; choose 1 to {full}.')
    return width


def _base_path(base: str, config_path: str) -> str:
    """The shipped ``base`` as the run's config names it: relative to the config's folder when
    both are in this checkout (the checkout can move), else absolute."""
    root = osp.dirname(osp.dirname(CONFIGS))
    config_path = osp.abspath(config_path)
    if osp.commonpath([root, config_path]) == root:
        return osp.relpath(base, osp.dirname(config_path))
    return base


def run_overrides(teacher_cfg: dict, teacher_ckpt: str, width: int, method: str, photos: str,
                  cache: str, size: int, iters: int, precision: str, seed: int,
                  validations: int = 5) -> Dict:
    """``{key: value}`` of everything the run's config changes in its base (dotted keys, in
    the order they are written): ``iters`` steps, the rate constant for the first half and then
    linearly to 0, ``validations`` validations (each with a checkpoint), bf16 autocast with
    float32 master weights where ``precision`` says so."""
    from ..engine import enable_amp
    arch = ARCH_OF[teacher_cfg['type']]
    generator = dict(teacher_cfg, base_channels=width)
    o = {'model.generator': dict(generator, _delete_=True),
         'model.teacher.generator': dict(teacher_cfg, _delete_=True),
         'model.teacher.ckpt': teacher_ckpt}
    fast = load_config(osp.join(CONFIGS, FAST))
    test_pipeline = _resized(fast.test_pipeline, size)
    base = fast if method == 'none' else load_config(osp.join(CONFIGS, FAST_FEATURES))
    o.update({'train_dataloader.dataset.data_root': cache,
              'train_dataloader.dataset.photo_root': photos,
              'train_dataloader.dataset.teacher_ckpt': teacher_ckpt,
              'train_dataloader.dataset.size': size})
    if method == 'none':
        o['train_dataloader.dataset.pipeline'] = _resized(fast.train_pipeline, size)
    else:
        from ..models.distillers.distill_config import teacher_layers
        distill, optim = distillation(method, arch, probe_size=size)
        if optim:  # a method's learnable parts train with the student, at the recipe's rate
            o['optim_wrapper'] = dict(_get(base, 'optim_wrapper'), **optim)
        features = teacher_layers(distill)
        # a method reading only images (the teacher's is the cached translation) caches no
        # features, and trains on the baseline's data
        pipeline = base.train_pipeline if features else fast.train_pipeline
        o.update({'model.distill': dict(distill, _delete_=True),
                  'train_dataloader.dataset.features': features,
                  'train_dataloader.dataset.mirrored': bool(features),
                  'train_dataloader.dataset.pipeline': _resized(pipeline, size)})
    norm = teacher_cfg.get('norm_cfg') or {}
    if norm.get('type') == 'IN' and not norm.get('affine'):
        # no scale to rank channels by (student_init's norm_scale would fall back to filter
        # norms, which the norm divides out): say what it is, a random choice
        o['model.student_init'] = dict(rule='random', seed=0)
    o.update({'val_dataloader.dataset.data_root': photos,
              'val_dataloader.dataset.pipeline': test_pipeline,
              'test_dataloader.dataset.data_root': photos,
              'test_dataloader.dataset.pipeline': test_pipeline})
    interval = max(1, iters // validations)
    o.update({'train_cfg': dict(max_iters=iters, val_interval=interval),
              'param_scheduler.begin': iters // 2, 'param_scheduler.end': iters,
              'default_hooks.checkpoint': dict(interval=interval, max_keep_ckpts=2),
              'default_hooks.logger.interval': max(1, min(50, iters // 20)),
              'randomness': dict(seed=seed)})
    if precision == 'bf16':  # as tools/train.py --amp: autocast, float32 master weights
        amp = dict(optim_wrapper=copy.deepcopy(o.get('optim_wrapper') or
                                               _get(base, 'optim_wrapper')))
        enable_amp(amp)
        o['optim_wrapper'] = amp['optim_wrapper']
    # what the base has already (the recipe's 256x256 pipelines) is not restated
    return {k: v for k, v in o.items() if not _same(_get_or_none(base, k), v)}


def _get_or_none(cfg, key: str):
    try:
        return _get(cfg, key)
    except (KeyError, TypeError):
        return None


def _same(got, want) -> bool:
    """Whether ``got`` (read from a config) is what ``want`` (an override) asks for."""
    if isinstance(want, dict) and isinstance(got, dict):
        delete = want.get('_delete_', False)
        want = {k: v for k, v in want.items() if k != '_delete_'}
        if delete:
            return _plain(dict(got)) == _plain(want)
        return all(k in got and _same(got[k], v) for k, v in want.items())
    return _plain(got) == _plain(want)


def _get(cfg, key: str):
    value = cfg
    for part in key.split('.'):
        value = value[part]
    return value.to_dict() if hasattr(value, 'to_dict') else value


def _resized(pipeline, size: int) -> List[dict]:
    """A copy of ``pipeline`` with its resize and crop sizes set to ``size``."""
    out = []
    for t in pipeline:
        t = dict(t.to_dict() if hasattr(t, 'to_dict') else t)
        if t['type'] == 'Resize':
            t['scale'] = (size, -1)
        if 'crop_size' in t:
            t['crop_size'] = (size, size)
        out.append(t)
    return out


def _nest(flat: Dict) -> Dict:
    """Dotted keys to nested dicts (mmengine merges a child config's dicts into its base's)."""
    out: Dict = {}
    for key, value in copy.deepcopy(flat).items():
        *parents, last = key.split('.')
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return out


def config_text(overrides: Dict, method: str, work_dir: str, config_path: str,
                header: List[str], train_tool: str = 'tools/train.py') -> str:
    """The run's config: ``_base_`` (the shipped recipe, relative to the config's folder) and
    one top-level assignment per overridden key, with a header saying how to train it again."""
    base = FAST if method == 'none' else FAST_FEATURES
    lines = [f'# {h}' if h else '#' for h in header]
    lines += ['#', '# Train it again (or after editing it) with MMagic\'s runner:',
              f'#   python {train_tool} {config_path} --work-dir {work_dir} --resume', '',
              f"_base_ = '{_base_path(osp.join(CONFIGS, base), config_path)}'", '']
    from mmengine.config import Config
    return '\n'.join(lines) + '\n' + Config(_nest(overrides)).pretty_text


def write_run_config(path: str, text: str, overrides: Dict) -> str:
    """Write the config and read it back through mmengine: every override must resolve to the
    value meant (a base that changed under it would otherwise train something else)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not osp.exists(path) or open(path).read() != text:
        tmp = path + '.part.py'
        with open(tmp, 'w') as f:
            f.write(text)
        os.replace(tmp, path)
    cfg = load_config(path)
    for key, want in overrides.items():
        got = _get_or_none(cfg, key)
        if not _same(got, want):
            raise CompressError(f'{path}: {key} reads {got!r}, not {want!r}; the recipe it '
                                f'inherits ({FAST}) may have changed. Please report this.')
    return path


def _plain(value):
    """Tuples as lists, recursively (the config file's text keeps neither kind apart)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def check_record(work_dir: str, args: Dict) -> str:
    """``'new'`` for an empty work dir; ``'same'`` when it holds a compression of the same
    ``args`` (resumed, or reused when finished); ``'restart'`` when it holds one of other
    arguments that never reached training (its teacher, data and config are made again).
    Refuses a work dir that holds a trained compression of other arguments, or files that are
    not a compression's."""
    import glob
    path = osp.join(work_dir, RECORD)
    if osp.exists(path):
        before = read_json(path, 'the record of the compression in it')
        changed = [k for k in RUN_ARGS if before.get(k) != args.get(k)]
        if not changed:
            return 'same'
        if not glob.glob(osp.join(work_dir, 'train', '*.pth')):
            return 'restart'
        diffs = '; '.join(f'{k}: {before.get(k)!r} then, {args.get(k)!r} now' for k in changed)
        raise CompressError(
            f'{work_dir} holds another compression ({diffs}). Rerun with the same arguments to '
            'resume it, or give another --work-dir (or delete this one).')
    if osp.isdir(work_dir) and os.listdir(work_dir):
        raise CompressError(f'{work_dir} exists and holds files of something else '
                            f'({sorted(os.listdir(work_dir))[:5]}); give an empty or new '
                            '--work-dir. Nothing was changed in it.')
    return 'new'


def write_record(work_dir: str, args: Dict) -> None:
    write_json(osp.join(work_dir, RECORD), {k: args.get(k) for k in RUN_ARGS})


def read_json(path: str, what: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as err:
        raise CompressError(f'{path} ({what}) cannot be read ({err}); delete it, or the work '
                            'dir, and run again.') from None


def write_json(path: str, obj: dict) -> None:
    """Write ``obj`` to ``path`` through a temporary file (never half written)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path + '.part', 'w') as f:
        json.dump(obj, f, indent=1)
    os.replace(path + '.part', path)
