"""What a benchmark reports: tables of arms (mean +- std over seeds, the change against the
baseline, the share of the gap to the teacher closed, Welch's p), curves over training, and a
grid of sample images."""
import math
import statistics
from typing import Callable, Dict, List, Optional, Sequence, Tuple

Runs = Dict[str, List[dict]]  # arm -> its runs (each with 'metrics' and 'curve')


def welch_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Welch's two-sided t-test p-value (NaN with fewer than two values on a side)."""
    if len(a) < 2 or len(b) < 2:
        return float('nan')
    from scipy import stats
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def mean_std(values: Sequence[float], fmt: str = '.2f') -> str:
    """``'m +- s'`` (``'m'`` for a single value)."""
    if len(values) > 1:
        return f'{statistics.mean(values):{fmt}} +- {statistics.stdev(values):{fmt}}'
    return f'{values[0]:{fmt}}' if values else '-'


def arm_table(arms: Runs, value: Callable[[dict], float], label: str,
              extra: Sequence[Tuple[str, Callable[[dict], float]]] = (), baseline: str = 'nokd',
              reference: Optional[float] = None, names: Optional[Dict[str, str]] = None,
              fmt: str = '.2f') -> str:
    """A markdown table, one row per arm.

    Args:
        arms (dict): arm -> runs, in the order of the rows.
        value (callable): the ranked metric of a run (higher is better for "gap closed").
        label (str): its column header.
        extra (list): ``(header, metric of a run)`` columns shown as means.
        baseline (str): the arm the others are compared with (change, Welch's p).
        reference (float, optional): the teacher's value: adds the share of the
            baseline -> teacher gap each arm closes.
        names (dict, optional): row labels of the arms.
        fmt (str): number format.
    """
    base = [value(r) for r in arms.get(baseline, [])]
    base_mean = statistics.mean(base) if base else float('nan')
    head = [label, f'change vs {baseline}'] + (['gap closed'] if reference is not None else []) \
        + ['p (Welch)'] + [h for h, _ in extra] + ['runs']
    lines = ['| arm | ' + ' | '.join(head) + ' |', '|---' * (len(head) + 1) + '|']
    for arm, runs in arms.items():
        vals = [value(r) for r in runs]
        if not vals:
            continue
        mean = statistics.mean(vals)
        if arm == baseline:
            cells = ['-'] * (3 if reference is not None else 2)
        else:
            cells = [f'{mean - base_mean:+{fmt}}']
            if reference is not None:
                gap = reference - base_mean
                cells.append(f'{100 * (mean - base_mean) / gap:+.0f} %' if gap else 'nan')
            p = welch_p(vals, base)
            cells.append(f'{p:.3f}' if not math.isnan(p) else
                         ('n/a (1 run)' if len(vals) < 2 or len(base) < 2 else 'nan'))
        cells += [f'{statistics.mean(f(r) for r in runs):{fmt}}' for _, f in extra]
        name = (names or {}).get(arm, arm)
        lines.append(f'| {name} | {mean_std(vals, fmt)} | ' + ' | '.join(cells) +
                     f' | {len(vals)} |')
    return '\n'.join(lines) + '\n'


def curve_plot(panels: Sequence[Tuple[str, Dict[str, List[tuple]]]], ylabel: str,
               out_png: str, styles: Optional[Dict[str, dict]] = None) -> str:
    """One panel per ``(title, {line label: [(iteration, value)]})``; with more than six
    lines in a panel its legend goes beside it, off the curves."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    crowded = max(len(lines) for _, lines in panels) > 6
    fig, axes = plt.subplots(1, len(panels), figsize=((8.5 if crowded else 5.5) * len(panels), 4),
                             squeeze=False)
    for ax, (title, lines) in zip(axes[0], panels):
        for name, points in lines.items():
            if points:
                ax.plot(*zip(*points), marker='.', label=name, **(styles or {}).get(name, {}))
        ax.set(title=title, xlabel='iteration', ylabel=ylabel)
        ax.grid(alpha=0.3)
        if crowded:
            ax.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.02, 1))
        else:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return out_png


def curve_of(run: dict, key: str) -> List[tuple]:
    """``[(iteration, value of key)]`` of a run's validations."""
    return [(it, m[key]) for it, m in run['curve'] if key in m]


def translations(run: dict, num: int, with_target: bool = False) -> Tuple:
    """``(inputs, outputs[, targets])`` of a run's student on the first ``num`` test images
    (``(N, 3, H, W)`` in [-1, 1], the model's channel order): its first direction."""
    import torch
    from ..deployment import generator_domains, load_student, real_inputs
    from ..utils.config import load_config
    cfg = load_config(run['cfg'])
    model = load_student(cfg, run['ckpt'])
    target, source = sorted(generator_domains(model).items())[0]
    x = real_inputs(cfg, model, source, num)
    with torch.no_grad():
        y = model._get_target_generator(target)(x)
    if with_target:
        return x, y, real_inputs(cfg, model, target, num)
    return x, y


def sample_grid(columns: Sequence, out_png: str, scale: int = 1) -> str:
    """Rows: images; columns: the ``(N, 3, H, W)`` tensors in [-1, 1] (BGR, as MMagic's
    loaders give them), side by side."""
    import cv2
    import numpy as np

    def to_img(t):
        return ((t.permute(0, 2, 3, 1).numpy() + 1) * 127.5).clip(0, 255)
    num = min(len(c) for c in columns)
    rows = [np.concatenate([to_img(c)[i] for c in columns], axis=1) for i in range(num)]
    grid = np.concatenate(rows, axis=0).astype(np.uint8)
    if scale != 1:
        grid = cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(out_png, grid)
    return out_png


def write_results(work_dir: str, text: str, results, log) -> None:
    """A benchmark's ``results.md`` (``text``, also logged) and ``results.json``."""
    import json
    import os.path as osp
    with open(osp.join(work_dir, 'results.md'), 'w') as f:
        f.write(text)
    with open(osp.join(work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1, default=str)
    log(text)
