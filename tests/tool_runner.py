"""Run a script of tools/ in its own process without paying for the imports each time.

A user starts ``python tools/X.py ...`` in a fresh interpreter, which spends about 6 s of CPU
importing torch, mmengine, mmcv and mmagic before the tool does anything; the tests start about
eighty tools. ``run_tool`` instead forks each one from a server process (multiprocessing's
forkserver) that has imported those libraries once, and runs the script there as ``__main__``
with the test's argv, environment and working directory, its stdout and stderr in one file, as
``subprocess.run`` would give them. reko_mm is deliberately not imported by the server, so a
tool that forgets to import it (and register the ReKo components) still fails here. The server
never computes anything, so the children's OpenMP thread pools start fresh.

``fresh=True`` starts a real interpreter instead: each tool's smoke test uses it, and so does
anything that must see its environment at import time.
"""
import multiprocessing
import os
import os.path as osp
import subprocess
import sys
import tempfile

PRELOAD = ['numpy', 'cv2', 'torch', 'torchvision', 'mmengine.runner', 'mmcv.ops',
           'mmagic.models', 'mmagic.datasets', 'mmagic.evaluation', 'mmagic.engine',
           'onnxruntime']
_context = None


def _forkserver():
    """The forkserver, and the ``sys.path`` a fresh interpreter starts with (less the script's
    folder and PYTHONPATH, which each run adds)."""
    global _context
    if _context is None:
        env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
        code = 'import sys; print(*sys.path[1:], sep="\\n")'
        base = subprocess.run([sys.executable, '-c', code], env=env, stdout=subprocess.PIPE,
                              text=True, check=True).stdout
        _context = multiprocessing.get_context('forkserver'), base.splitlines()
        _context[0].set_forkserver_preload(PRELOAD)
    return _context


def _main(script, args, env, cwd, log, base_path):
    """The child: the script as ``__main__``, as ``python script args`` would run it."""
    import atexit
    import io
    import runpy
    import traceback

    import numpy as np
    import torch
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = io.TextIOWrapper(open(1, 'wb', buffering=0, closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(open(2, 'wb', buffering=0, closefd=False), write_through=True)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    # what a fresh interpreter would have: the script's folder first, then PYTHONPATH
    extra = [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]
    sys.path[:] = [osp.dirname(osp.abspath(script))] + extra + base_path
    sys.argv = [script] + list(args)
    if env.get('OMP_NUM_THREADS'):
        torch.set_num_threads(int(env['OMP_NUM_THREADS']))
    np.random.seed()  # a fresh interpreter's NumPy generator is seeded from the OS
    code = 0
    try:
        runpy.run_path(script, run_name='__main__')
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_tool(args, cwd, env, timeout, fresh=False):
    """``subprocess.run([python] + args)`` with stdout and stderr together, as text."""
    if fresh or not args[0].endswith('.py'):
        return subprocess.run([sys.executable] + list(args), cwd=cwd, env=env, timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with tempfile.NamedTemporaryFile('rb', suffix='.log') as log:
        context, base_path = _forkserver()
        proc = context.Process(target=_main, args=(args[0], args[1:], dict(env), cwd, log.name,
                                                   base_path))
        proc.start()
        proc.join(timeout)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
            raise subprocess.TimeoutExpired([sys.executable] + list(args), timeout,
                                            output=log.read().decode(errors='replace'))
        out = log.read().decode(errors='replace')
    return subprocess.CompletedProcess([sys.executable] + list(args), proc.exitcode, out)
