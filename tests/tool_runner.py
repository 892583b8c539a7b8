"""Run a script of tools/ in its own process without paying for the imports each time.

A user starts ``python tools/X.py ...`` in a new interpreter, which spends about 6 s of CPU
importing torch, mmengine, mmcv and mmagic before the tool does anything; the tests start about
eighty tools. ``run_tool`` instead forks each one from a server process (multiprocessing's
forkserver) that has imported those libraries once, and runs the script there as ``__main__``
with the test's argv, environment and working directory, its stdout and stderr in one file and
its exit status as the return code, as ``subprocess.run`` would give them. Every run forks from
the untouched server, so runs share nothing. What a new interpreter would also have is set
again in the child: the module path, the random generators (NumPy's and torch's seeded from the
OS), multiprocessing's default start method (fork, so DataLoader workers start as they would).

What stays the server's: the modules it preloaded (reko_mm is deliberately not among them, so a
tool that forgets to import it, and register the ReKo components, still fails here; a tool that
forgets an mmagic import would not), their import-time warnings, Python's hash seed, and the
environment they read when imported; the server starts with the first run's thread counts and
checks CUDA through NVML, so the libraries are imported without a CUDA context or a thread pool.
The child leaves through ``os._exit`` after its threads and atexit handlers, as a multiprocessing
child does: a file a tool leaves open and unflushed in a global would lose its tail here.

``fresh=True`` starts a real interpreter instead: each tool's smoke test uses it.
"""
import multiprocessing
import multiprocessing.forkserver
import os
import os.path as osp
import subprocess
import sys
import tempfile

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
        os.environ['PYTORCH_NVML_BASED_CUDA_CHECK'] = '1'
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


def _main(script, args, env, cwd, log, base_path):
    """The child: the script as ``__main__``, as ``python script args`` would run it."""
    import atexit
    import io
    import signal
    import threading
    import traceback
    import types

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
    # what a new interpreter would have: the script's folder first, then PYTHONPATH
    extra = [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p]
    sys.path[:] = [osp.dirname(osp.abspath(script))] + extra + base_path
    sys.argv = [script] + list(args)
    if env.get('OMP_NUM_THREADS'):
        torch.set_num_threads(int(env['OMP_NUM_THREADS']))
    np.random.seed()  # a new interpreter's generators are seeded from the OS
    torch.seed()
    multiprocessing.set_start_method(None, force=True)  # the platform's default again
    # __main__ as the interpreter makes it: __file__ is the path joined to the cwd
    path = osp.join(cwd, script)
    if not osp.isfile(path):  # refused as the interpreter refuses it
        print(f"{sys.executable}: can't open file {path!r}: [Errno 2] No such file or directory",
              file=sys.stderr)
        os._exit(2)
    main = types.ModuleType('__main__')
    main.__file__ = path
    sys.modules['__main__'] = main
    code = 0
    try:
        with open(path, 'rb') as f:
            source = f.read()
        exec(compile(source, path, 'exec'), main.__dict__)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        traceback.print_exc()
        code = -signal.SIGINT
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        threading._shutdown()  # what the interpreter does at exit: wait for its threads,
        atexit._run_exitfuncs()  # then the atexit handlers
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        if code == -signal.SIGINT:  # killed by the signal, as a new interpreter reports it
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        os._exit(code)


def run_tool(args, cwd, env, timeout, fresh=False):
    """``subprocess.run([python] + args)`` with stdout and stderr together, as text."""
    cmd = [sys.executable] + list(args)
    if fresh or not args[0].endswith('.py'):
        return subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    context, base_path = _forkserver(env)
    with tempfile.NamedTemporaryFile('rb', suffix='.log') as log:
        proc = context.Process(target=_main, args=(args[0], args[1:], dict(env), cwd, log.name,
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
