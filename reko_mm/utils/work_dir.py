"""Refuse a training run that would overwrite what a user has: checkpoints of another run in
the work_dir, or the teacher checkpoint the config reads."""
import glob
import os.path as osp
import re
from typing import List, Optional

CKPT_NAME = re.compile(r'^(iter_\d+|epoch_\d+|best_.*)\.pth$')


def _checkpoints(work_dir: str) -> List[str]:
    found = [p for p in glob.glob(osp.join(work_dir, '*.pth')) if CKPT_NAME.match(osp.basename(p))]

    def order(path):
        m = re.match(r'^(?:iter|epoch)_(\d+)\.pth$', osp.basename(path))
        return (1, int(m.group(1))) if m else (0, 0)
    return sorted(found, key=order)


def _diff(a, b, path='model', out=None, limit=4) -> List[str]:
    """Key paths where two config values differ (lists and tuples compare as sequences)."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f'{path}.{k}: {a.get(k, "<absent>")!r} vs {b.get(k, "<absent>")!r}')
            else:
                _diff(a[k], b[k], f'{path}.{k}', out, limit)
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _diff(x, y, f'{path}[{i}]', out, limit)
    elif a != b:
        out.append(f'{path}: {a!r} in the checkpoint vs {b!r} now')
    return out[:limit]


def _saved_model_cfg(ckpt_path: str) -> Optional[dict]:
    """The model config a checkpoint was saved with, read as data; ``None`` when it has none.
    A checkpoint the safe reader refuses is refused here too (before anything is trained)."""
    from .config_text import read_config_text
    from .safe_load import safe_torch_load
    checkpoint = safe_torch_load(ckpt_path, what='work-dir checkpoint')
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    model = read_config_text((meta or {}).get('cfg')).get('model')
    return dict(model) if isinstance(model, dict) else None


def _comparable(model_cfg: dict) -> dict:
    cfg = dict(model_cfg)
    if isinstance(cfg.get('teacher'), dict):  # the same teacher may be named by another path
        cfg['teacher'] = {k: v for k, v in cfg['teacher'].items() if k != 'ckpt'}
    return cfg


def check_work_dir(cfg, resume: bool) -> None:
    """Raise ``FileExistsError`` when training ``cfg`` into ``cfg.work_dir`` would overwrite
    checkpoints of another run (or of this one, without ``--resume``), or the teacher."""
    work_dir = osp.abspath(cfg.work_dir)
    teacher = (cfg.model.get('teacher') or {}).get('ckpt') if cfg.model.get(
        'type') == 'TeacherStudentGAN' else None
    if teacher and osp.dirname(osp.abspath(teacher)) == work_dir and \
            CKPT_NAME.match(osp.basename(teacher)):
        raise FileExistsError(
            f'model.teacher.ckpt={teacher} lies in this run\'s work_dir {work_dir}, where the run '
            f'writes its own {osp.basename(teacher)}-style checkpoints and could overwrite the '
            'teacher. Train into a new --work-dir.')
    ckpts = _checkpoints(work_dir)
    if not ckpts:
        return
    latest = ckpts[-1]
    saved = _saved_model_cfg(latest)
    differences = _diff(_comparable(saved), _comparable(cfg.model.to_dict())) \
        if saved is not None else []  # no readable config: nothing to compare
    names = ', '.join(osp.basename(p) for p in ckpts[-3:])
    if not resume:
        what = 'a different model config' if differences else \
            ('this config' if saved is not None else 'a config it cannot read')
        raise FileExistsError(
            f'work_dir {work_dir} already holds checkpoints ({names}) of {what}; training from '
            'scratch would overwrite them. Pass --resume to continue that run, or --work-dir '
            'NEW_DIR for a new one.' + (f' Differences: {"; ".join(differences)}'
                                         if differences else ''))
    if differences:
        raise FileExistsError(
            f'--resume: the latest checkpoint in {work_dir} ({osp.basename(latest)}) was trained '
            f'with a different model config ({"; ".join(differences)}); resuming would mix two '
            'runs. Resume with the config it was trained with, or train into --work-dir NEW_DIR.')
