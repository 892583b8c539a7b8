"""Training and scoring runs of a benchmark: one process each, reused when finished, resumed when
partial, refused when a work dir holds a run of another config."""
import glob
import json
import os
import os.path as osp
import re
import shlex
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional, Sequence

from .arms import PARSE_LOCK, ROOT, BenchmarkError

REUSED = 'done before, not repeated'


def scalars(work_dir: str) -> List[dict]:
    """Every record of mmengine's ``scalars.json`` of a run, in order (each session of a resumed
    run has its own)."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            records += [json.loads(line) for line in f]
    return records


def val_curve(work_dir: str) -> List[tuple]:
    """``[(iteration, {metric: value})]`` of the validations during training (mmengine's
    ``scalars.json``; a metric is a key with a ``/``, e.g. ``GT/psnr_obj``, ``FID-Full/fid``)."""
    curve = []
    for rec in scalars(work_dir):
        vals = {k: v for k, v in rec.items() if '/' in k}
        if vals:
            curve.append((rec['step'], vals))
    return curve


_TRAIN_ITER = re.compile(r'Iter\(train\) \[\s*(\d+)/(\d+)\].*?eta: (\S+)(?:.*? time: ([\d.]+))?')
_VAL_PSNR = re.compile(r'Iter\(val\) \[\s*(\d+)/\1\].*?(\S+/psnr\S*): ([\d.]+)')


def _log_tail(log_path: str, size: int = 65536) -> str:
    try:
        with open(log_path, 'rb') as f:
            f.seek(max(0, os.path.getsize(log_path) - size))
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


def train_progress(log_path: str) -> str:
    """``'iteration N/M, eta H:MM:SS'`` from the last training line of an mmengine log, or
    ``''`` before the first one (and in a test log)."""
    found = _TRAIN_ITER.findall(_log_tail(log_path, 8192))
    if not found:
        return ''
    n, m, eta, _ = found[-1]
    return f'iteration {n}/{m}, eta {eta}'


def progress_bar(log_path: str, batch: int, width: int = 20) -> str:
    """A progress bar of a training run from its mmengine log: ``'[#####...] 1200/6000
    iterations, 4.7 images/s, ETA 0:17:00, last validation teacher/psnr 25.70'`` (``''`` before
    its first training line)."""
    tail = _log_tail(log_path)
    found = _TRAIN_ITER.findall(tail)
    if not found:
        return ''
    n, m, eta, step_s = found[-1]
    done = int(width * int(n) / max(int(m), 1))
    line = f"[{'#' * done}{'.' * (width - done)}] {n}/{m} iterations"
    if step_s:
        line += f', {batch / float(step_s):.1f} images/s'
    line += f', ETA {eta}'
    val = _VAL_PSNR.findall(tail)
    if val:
        line += f', last validation {val[-1][1]} {float(val[-1][2]):.2f}'
    return line


def time_left(durations: Sequence[float], running: Sequence[float], pending: int,
              jobs: int) -> float:
    """Seconds until every run is done, from the mean duration of the finished ones: the
    running runs finish their mean, and the pending ones start, ``jobs`` at a time, as slots
    free up."""
    if not durations:
        return 0.0
    mean = sum(durations) / len(durations)
    slots = sorted([max(mean - r, 0.0) for r in running] +
                   [0.0] * max(jobs - len(running), 0))
    for _ in range(pending):
        slots[0] += mean
        slots.sort()
    return max(slots) if slots else 0.0


class _LockedLog:
    """One line at a time from every job's thread (print writes a line in two parts)."""

    def __init__(self, log: Callable[[str], None]):
        self._log, self._lock = log, threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self._log(line)


class RunQueue:
    """Runs ``tools/train.py`` / ``tools/test.py`` in subprocesses, ``jobs`` at a time with
    ``threads`` each, and prints every command, so a benchmark's results list how each number
    was made.

    Args:
        dry_run (bool): print the commands, run nothing.
        jobs (int): runs at a time (:meth:`map`).
        threads (int): threads per run (``OMP_NUM_THREADS``).
        log (callable): where progress lines go.
        progress_every (float, optional): while a run trains, log its iteration and ETA every
            so many seconds (default: only when it starts and ends).
        progress (callable): the progress text of a run from its log's path (default:
            :func:`train_progress`).
    """

    def __init__(self, dry_run: bool = False, jobs: int = 1, threads: int = 1,
                 log: Callable[[str], None] = lambda s: print(s, flush=True),
                 progress_every: Optional[float] = None,
                 progress: Callable[[str], str] = train_progress):
        self.dry_run = dry_run
        self.progress = progress
        self.progress_every = progress_every
        self.jobs = jobs
        self.threads = threads
        self.log = _LockedLog(log)
        self.commands: List[str] = []
        self._live = set()  # the training / scoring processes running now, of every job
        self._live_lock = threading.Lock()
        self._stopping = False

    def call(self, cmd: Sequence[str], log_path: str, threads: Optional[int] = None) -> str:
        """Run ``cmd`` in the repository with its output in ``log_path``; raise on failure.
        Returns the command line."""
        line = ' '.join(shlex.quote(c) for c in cmd)
        self.commands.append(line)
        self.log(f'$ {line}')
        if self.dry_run:
            return line
        threads = str(threads or self.threads)
        env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
        t0 = time.time()
        os.makedirs(osp.dirname(osp.abspath(log_path)), exist_ok=True)
        with open(log_path, 'w') as f:
            with subprocess.Popen(list(cmd), cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                                  env=env) as proc:
                with self._live_lock:
                    self._live.add(proc)
                    if self._stopping:  # stop_all ran while this one started
                        proc.kill()
                try:
                    self._wait(proc, log_path, t0)
                finally:
                    with self._live_lock:
                        self._live.discard(proc)
        if proc.returncode:
            with open(log_path, errors='replace') as f:
                tail = ''.join(f.readlines()[-15:])
            raise BenchmarkError(f'failed ({proc.returncode}) after {time.time() - t0:.0f} s; '
                                 f'log: {log_path}, which ends:\n{tail}')
        self.log(f'  done in {time.time() - t0:.0f} s: {log_path}')
        return line

    def stop_all(self) -> int:
        """Kill every process this queue is running (all jobs'); returns how many."""
        with self._live_lock:
            self._stopping = True
            live = list(self._live)
        for proc in live:
            if proc.poll() is None:
                proc.kill()
        for proc in live:
            proc.wait()
        return len(live)

    def _wait(self, proc: subprocess.Popen, log_path: str, t0: float) -> None:
        """Wait for ``proc``, logging its progress every ``progress_every`` seconds; kill it if
        this process is interrupted."""
        try:
            while True:
                try:
                    proc.wait(timeout=self.progress_every)
                    return
                except subprocess.TimeoutExpired:
                    where = self.progress(log_path)
                    self.log(f'  {osp.basename(osp.dirname(log_path))}: running for '
                             f'{time.time() - t0:.0f} s' + (f', {where}' if where else ''))
        except BaseException:
            proc.kill()
            raise

    def train_and_test(self, work: str, cfg: str, iters: Optional[int], best: bool = False,
                       threads: Optional[int] = None,
                       score: Optional[Callable[[str, str], List[str]]] = None,
                       prepare: Optional[Callable[[], None]] = None) -> dict:
        """Train ``cfg`` in ``work`` (unless done), then score its checkpoint on the test set.

        Args:
            work (str): the run's work dir.
            cfg (str): its config file.
            iters (int, optional): the iterations of a finished run (None: any).
            best (bool): early stopping decides when it is done (a teacher); its best
                validation checkpoint is scored.
            threads (int, optional): threads for the training (default: ``threads``).
            score (callable, optional): ``(checkpoint, json path) -> command`` that scores the
                checkpoint into that JSON file (default: ``tools/test.py ... --out``). A
                finished run scored by another command is scored again.
            prepare (callable, optional): called before the run trains (not when it is
                reused), e.g. to build the data it reads.

        Returns:
            dict: ``work``, ``cfg``, ``ckpt``, ``metrics`` (the test metrics), ``curve``, and
            ``commands`` (those that made it; listed again, as reused, when it is reused).
        """
        from ..utils import last_ckpt
        state, ckpt, run = self.status(work, cfg, iters, best, score)
        if run is not None:
            # one line per command of this run (files written while two jobs ran may list the
            # other job's too)
            own = [c for c in run.get('commands', []) if f'{work}/' in c]
            self.commands += [f'# reused: {c}' for c in dict.fromkeys(own or [work])]
            self.log(f'{REUSED}: {work}')
            return run
        done_marker = osp.join(work, 'train_done')
        out, result = osp.join(work, 'test_metrics.json'), osp.join(work, 'result.json')
        mine = []  # this run's commands (other jobs append to self.commands meanwhile)
        if state != 'done':
            if prepare and not self.dry_run:
                prepare()
            resume = ['--resume'] if state == 'partial' else []
            mine.append(self.call(
                [sys.executable, 'tools/train.py', cfg, '--work-dir', work] + resume,
                osp.join(work, 'train.log'), threads=threads))
            if not self.dry_run:
                open(done_marker, 'w').close()
        if self.dry_run:
            return dict(work=work, cfg=cfg, ckpt=osp.join(work, '<its checkpoint>.pth'),
                        metrics={}, curve=[])
        best_ckpts = sorted(glob.glob(osp.join(work, 'best_*.pth'))) if best else []
        ckpt = best_ckpts[-1] if best_ckpts else last_ckpt(work)
        cmd = self._score_cmd(work, cfg, ckpt, score)
        mine.append(self.call(cmd, osp.join(work, 'test.log')))
        with open(out) as f:
            metrics = json.load(f)
        run = dict(work=work, cfg=cfg, ckpt=ckpt, metrics=metrics,
                   curve=val_curve(work), commands=mine, score_cmd=cmd)
        with open(result, 'w') as f:
            json.dump(run, f, indent=1)
        return run

    @staticmethod
    def _score_cmd(work: str, cfg: str, ckpt: str, score=None) -> List[str]:
        out = osp.join(work, 'test_metrics.json')
        return score(ckpt, out) if score else [
            sys.executable, 'tools/test.py', cfg, ckpt, '--work-dir', osp.join(work, 'test'),
            '--out', out]

    def status(self, work: str, cfg: str, iters: Optional[int], best: bool = False,
               score: Optional[Callable[[str, str], List[str]]] = None) -> tuple:
        """``(state, last checkpoint, result)`` of a run (arguments as :meth:`train_and_test`):
        ``state`` is ``'done'``, ``'partial'`` or ``'new'``; ``result`` the run's ``result.json``
        when it is done and was scored since, by the same command (else None). Raises
        :class:`BenchmarkError` for a work dir of another config."""
        from ..utils import StaleRunError, run_state
        result = osp.join(work, 'result.json')
        try:
            with PARSE_LOCK:
                state, ckpt = run_state(work, cfg, [], None if best else iters)
        except StaleRunError as err:
            raise BenchmarkError(str(err)) from None
        if best and state == 'done' and not osp.exists(osp.join(work, 'train_done')):
            state = 'partial'  # early stopping decides when a teacher is done
        run = None
        if state == 'done' and osp.exists(result) and \
                osp.getmtime(result) >= osp.getmtime(ckpt):
            with open(result) as f:
                run = json.load(f)
            if run.get('score_cmd', [''])[1:] not in (
                    [], self._score_cmd(work, cfg, run['ckpt'], score)[1:]):
                run = None  # scored by another command (other sizes, photos): score again
        return state, ckpt, run

    def map(self, fn: Callable, items: Sequence, name: Callable = str) -> list:
        """``[fn(item)]``, ``jobs`` at a time, with a progress line (elapsed time and an ETA
        from the runs done so far) after each."""
        items = list(items)
        t0, lock = time.time(), threading.Lock()
        started, durations = {}, []

        def one(i):
            with lock:
                started[i] = time.time()
            out = fn(items[i])
            with lock:
                now = time.time()
                durations.append(now - started.pop(i))
                running = [now - s for s in started.values()]
                pending = len(items) - len(durations) - len(running)
                eta = time_left(durations, running, pending, self.jobs)
                self.log(f'[{len(durations)}/{len(items)}] {name(items[i])}: elapsed '
                         f'{(now - t0) / 60:.1f} min, ETA {eta / 60:.1f} min')
            return out
        import signal
        previous = None
        if threading.current_thread() is threading.main_thread():
            def terminated(signum, frame):  # SIGTERM ends the runs as Ctrl-C does
                raise KeyboardInterrupt(f'signal {signum}')
            previous = signal.signal(signal.SIGTERM, terminated)
        try:
            if self.jobs <= 1:
                return [one(i) for i in range(len(items))]
            pool = ThreadPoolExecutor(self.jobs)
            try:
                return list(pool.map(one, range(len(items))))
            finally:
                pool.shutdown(wait=False, cancel_futures=True)
        except BaseException as err:
            # the worker threads wait on their runs: end those runs, which ends the threads
            self.stop_all()
            if isinstance(err, KeyboardInterrupt):  # Ctrl-C, SIGTERM: a message, no traceback
                raise BenchmarkError('interrupted: the runs in progress were stopped. Run the '
                                     'same command again to resume them (finished runs are '
                                     'reused).') from None
            raise
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
