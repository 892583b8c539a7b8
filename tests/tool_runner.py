"""Run a script of tools/ in its own process, as ``python tools/X.py ...`` would.

``REKO_TEST_FRESH=1`` (what CI sets) starts every tool in a new interpreter, exactly as a user
does. Without it, a tool is forked from a server process (multiprocessing's forkserver) that has
imported torch, mmengine, mmcv and mmagic once, and run there with ``runpy.run_path`` as
``__main__``: a new interpreter spends about 6 s of CPU on those imports, and the tests start
about eighty tools. Each run forks from the untouched server, so runs share nothing; the child
gets the test's arguments, environment, working directory and module path, freshly seeded random
generators and fork as the start method; its exit status is the interpreter's (``sys.exit``'s
code, 1 after an uncaught exception with its traceback, killed by SIGINT after Ctrl-C).

Where a forked run differs from a new interpreter, and the fresh runs in CI do not:
- an import the tool forgot that the server preloaded (reko_mm is not preloaded, so a tool that
  forgets it fails either way);
- ``sys.argv[0]`` is the script's absolute path (runpy sets it so; argparse's program name, its
  base name, is the same);
- the child leaves through ``os._exit`` as a multiprocessing child does: no atexit handlers, and
  a file a tool leaves open and unflushed in a global loses its tail.
"""
import multiprocessing
import multiprocessing.forkserver
import os
import os.path as osp
import runpy
import subprocess
import sys
import tempfile

FRESH = os.environ.get('REKO_TEST_FRESH') == '1'
# mmcv_stand_in before mmcv.ops: where mmcv is mmcv-lite, the stand-in for its compiled ops
PRELOAD = ['numpy', 'cv2', 'torch', 'torchvision', 'mmengine.runner', 'mmcv_stand_in',
           'mmcv.ops', 'mmagic.models', 'mmagic.datasets', 'mmagic.evaluation', 'mmagic.engine',
           'onnxruntime']
# read by the preloaded libraries when imported: the server takes them from the first run
IMPORT_TIME_ENV = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS')
_server = None


def _forkserver(env):
    """The forkserver context, and the ``sys.path`` a new interpreter starts with (less the
    script's folder and PYTHONPATH, which each run adds)."""
    global _server
    if _server is None:
        clean = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
        code = 'import sys; print(*sys.path[1:], sep="\\n")'
        base = subprocess.run([sys.executable, '-c', code], env=clean, stdout=subprocess.PIPE,
                              text=True, check=True).stdout.splitlines()
        context = multiprocessing.get_context('forkserver')
        context.set_forkserver_preload(PRELOAD)
        saved = dict(os.environ)
        threads = env.get('OMP_NUM_THREADS')
        os.environ.update({k: env.get(k, threads) for k in IMPORT_TIME_ENV if env.get(k, threads)})
        os.environ['PYTORCH_NVML_BASED_CUDA_CHECK'] = '1'  # no CUDA context in the server
        # the server's own path, for mmcv_stand_in (Python 3.11's forkserver ignores sys.path,
        # and skips a preload that fails to import without a word)
        os.environ['PYTHONPATH'] = osp.dirname(osp.abspath(__file__))
        try:
            multiprocessing.forkserver.ensure_running()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        _server = context, base
    return _server


def _main(path, args, env, cwd, log, base_path):
    """The forked child: ``path`` as ``__main__`` with the argv, environment and module path
    that ``python path args`` run in ``cwd`` would have."""
    import io
    import signal
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
    extra = [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]
    sys.path[:] = [osp.dirname(osp.abspath(path))] + extra + base_path
    sys.argv = [path] + list(args)
    if env.get('OMP_NUM_THREADS'):
        torch.set_num_threads(int(env['OMP_NUM_THREADS']))
    np.random.seed()  # a new interpreter's generators are seeded from the OS
    torch.seed()
    multiprocessing.set_start_method(None, force=True)  # the platform's default again
    try:
        runpy.run_path(path, run_name='__main__')
    except SystemExit:
        raise  # multiprocessing makes the exit status of SystemExit's code
    except BaseException as e:  # as the interpreter reports it: the script's frames only
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb or e.__traceback__)
        sys.stderr.flush()
        if isinstance(e, KeyboardInterrupt):  # killed by the signal, as a new interpreter is
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        sys.exit(1)


def run_tool(args, cwd, env, timeout, fresh=None):
    """``subprocess.run([python] + args)`` with stdout and stderr together, as text. ``fresh``:
    True a new interpreter, False forked, None (the default) as ``REKO_TEST_FRESH`` says."""
    cmd = [sys.executable] + list(args)
    path = osp.join(cwd, args[0])
    if fresh is None:
        fresh = FRESH
    if fresh or not args[0].endswith('.py') or not osp.isfile(path):
        return subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    context, base_path = _forkserver(env)
    with tempfile.NamedTemporaryFile('rb', suffix='.log') as log:
        proc = context.Process(target=_main, args=(path, args[1:], dict(env), cwd, log.name,
                                                   base_path))
        proc.start()
        proc.join(timeout)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
            raise subprocess.TimeoutExpired(cmd, timeout,
                                            output=log.read().decode(errors='replace'))
        out = log.read().decode(errors='replace')
    return subprocess.CompletedProcess(cmd, proc.exitcode, out)
