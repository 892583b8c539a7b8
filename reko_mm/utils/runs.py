"""Whether a training run in a work dir is finished, partial, or of another config (stale):
what the benchmark scripts need to be rerunnable without mistaking one for another."""
import argparse
import glob
import os.path as osp
from typing import List, Optional, Tuple

from .config import load_config
from .config_text import read_config_text
from .safe_load import safe_torch_load


def last_ckpt(work_dir: str) -> Optional[str]:
    """The ``iter_<N>.pth`` of a work dir with the largest N (None when there is none)."""
    ckpts = glob.glob(osp.join(work_dir, 'iter_*.pth'))
    return max(ckpts, key=lambda p: int(osp.basename(p)[5:-4])) if ckpts else None


def config_differences(a, b, path: str, out: List[str]) -> List[str]:
    """Key paths where two config values differ, appended to ``out``.

    Args:
        a, b: the two values (dicts recurse; lists and tuples compare as sequences).
        path (str): the key path of ``a`` / ``b``.
        out (list): where the differences go.

    Returns:
        list[str]: ``out``, as ``'<path>: <a> then, <b> now'``.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            config_differences(a.get(k), b.get(k), f'{path}.{k}', out)
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            config_differences(x, y, f'{path}[{i}]', out)
    elif a != b:
        out.append(f'{path}: {a!r} then, {b!r} now')
    return out


class StaleRunError(RuntimeError):
    """A work dir holds a run of another config or budget."""


def run_state(work_dir: str, cfg_path: str, options: List[str],
              iters: Optional[int]) -> Tuple[str, Optional[str]]:
    """Whether a training run in a work dir is finished, partial or new.

    Args:
        work_dir (str): the run's work dir.
        cfg_path (str): the config it should have been trained with.
        options (list[str]): ``--cfg-options`` strings on top of it.
        iters (int, optional): the iterations of a finished run (None: any).

    Returns:
        tuple: ``('done' | 'partial' | 'new', its last checkpoint or None)``. ``'done'`` only when
        the last checkpoint reached ``iters`` and was trained with the same model, schedule,
        optimizers (and precision) and training data; ``'partial'`` when it stopped earlier
        with the same config (resume it).

    Raises:
        StaleRunError: the work dir holds a run of another config: neither reuse nor overwrite it.
    """
    from mmengine.config import DictAction
    ckpt = last_ckpt(work_dir)
    if ckpt is None:
        return 'new', None
    meta = safe_torch_load(ckpt, what='work-dir checkpoint').get('meta') or {}
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction)
    want = load_config(cfg_path, parser.parse_args(['--o'] + list(options)).o if options else None)
    saved = read_config_text(meta.get('cfg'))  # as data: never executed
    diffs: List[str] = []
    for key in ('model', 'train_cfg', 'optim_wrapper'):
        config_differences(saved.get(key), want.get(key), key, diffs)
    config_differences((saved.get('train_dataloader') or {}).get('dataset'),
                       want.train_dataloader.get('dataset'), 'train_dataloader.dataset', diffs)
    diffs = [d for d in diffs if not d.startswith('model.teacher.ckpt')]
    if diffs:
        raise StaleRunError(
            f'{work_dir} holds a run of another budget or config ({osp.basename(ckpt)}; '
            f'{"; ".join(diffs[:4])}): it is neither reused nor overwritten. Delete it, or give '
            'another --work-dir.')
    if iters is None or meta.get('iter') == iters:
        return 'done', ckpt
    return 'partial', ckpt
