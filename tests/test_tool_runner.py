"""The tests' tool launcher (tool_runner.py): a tool forked from the server sees what it would
see started as ``python tools/X.py`` — its arguments, environment, working directory, module
path and ``__file__``, no reko_mm imported yet, freshly seeded generators, fork as the default
start method, the test's thread count — and its output and exit status come back the same way.
``REKO_TEST_FRESH=1`` makes every run a new interpreter."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest

from conftest import ROOT, THREADS, run_tool

SCRIPT = r'''
import json, multiprocessing, os, sys
reko = 'reko_mm' in sys.modules
import numpy, torch
print(json.dumps(dict(argv=sys.argv, cwd=os.getcwd(), env=os.environ.get('REKO_PROBE'),
                      path0=sys.path[0], path1=sys.path[1], reko=reko, name=__name__,
                      file=__file__, start=multiprocessing.get_start_method(),
                      threads=torch.get_num_threads(), seeds=[torch.initial_seed(),
                                                              int(numpy.random.randint(2**31))])))
print('to stderr', file=sys.stderr)
if sys.argv[1] == 'raise':
    raise RuntimeError('the probe failed')
if sys.argv[1] == 'interrupt':
    raise KeyboardInterrupt
sys.exit(int(sys.argv[1]))
'''


@pytest.mark.parametrize('fresh', [True, False])
def test_a_forked_tool_sees_what_a_new_interpreter_would(tmp_path, fresh):
    probe = tmp_path / 'probe.py'
    probe.write_text(SCRIPT)
    script = osp.relpath(probe, ROOT)  # as tools/X.py is given: relative to the repository
    env = dict(REKO_PROBE='x', PYTHONPATH=str(tmp_path / 'extra'))
    runs = [run_tool([script, '3', 'b c'], env=env, check=False, fresh=fresh) for _ in range(2)]
    seen = []
    for proc in runs:
        assert proc.returncode == 3
        assert 'to stderr' in proc.stdout
        seen.append(json.loads(proc.stdout.splitlines()[0]))
    seeds = [s.pop('seeds') for s in seen]
    argv0 = [s['argv'].pop(0) for s in seen]  # as given to a new interpreter, absolute forked
    assert all(osp.join(ROOT, a) == osp.join(ROOT, script) for a in argv0)
    assert seen[0] == seen[1] == dict(
        argv=['3', 'b c'], cwd=ROOT, env='x', path0=str(tmp_path),
        path1=str(tmp_path / 'extra'), reko=False, name='__main__', file=osp.join(ROOT, script),
        start='fork', threads=int(THREADS))
    assert seeds[0][0] != seeds[1][0] and seeds[0][1] != seeds[1][1]
    proc = run_tool([script, 'raise'], check=False, fresh=fresh)
    assert proc.returncode == 1
    assert 'RuntimeError: the probe failed' in proc.stdout
    # the traceback as the interpreter prints it: from the script's own frame
    assert proc.stdout.split('Traceback (most recent call last):\n')[1].startswith(
        f'  File "{osp.join(ROOT, script)}", line'), proc.stdout
    proc = run_tool([script, 'interrupt'], check=False, fresh=fresh)
    assert proc.returncode == -signal.SIGINT and 'KeyboardInterrupt' in proc.stdout
    missing = run_tool([osp.relpath(tmp_path / 'none.py', ROOT)], check=False, fresh=fresh)
    assert missing.returncode == 2
    assert f"can't open file '{osp.join(ROOT, osp.relpath(tmp_path / 'none.py', ROOT))}'" \
        in missing.stdout
    assert os.environ.get('REKO_PROBE') is None  # the test process is untouched


def test_the_switch_makes_every_run_a_new_interpreter(tmp_path):
    probe = tmp_path / 'pid.py'
    probe.write_text('import os, sys; print(os.getppid(), "torch" in sys.modules)\n')
    code = ('import sys; sys.path.insert(0, "tests"); import os, tool_runner; '
            'p = tool_runner.run_tool([sys.argv[1]], os.getcwd(), dict(os.environ), 60); '
            'print(p.stdout.strip() == f"{os.getpid()} False")')
    for fresh, parent in [('1', 'True'), ('0', 'False')]:
        out = subprocess.run([sys.executable, '-c', code, str(probe)], cwd=ROOT, text=True,
                             env=dict(os.environ, REKO_TEST_FRESH=fresh), check=True,
                             stdout=subprocess.PIPE).stdout
        assert out.strip() == parent, (fresh, out)


def test_a_forked_tool_imports_the_stack_as_a_new_interpreter_does(tmp_path):
    """The server's preloads (mmcv's ops stand-in on mmcv-lite among them) leave MMagic whole:
    a preload that fails is skipped without a word by multiprocessing, and would leave a
    half-imported mmagic behind."""
    probe = tmp_path / 'stack.py'
    probe.write_text('import reko_mm, mmcv.ops, mmagic.models.utils.model_utils\nprint("whole")\n')
    proc = run_tool([osp.relpath(probe, ROOT)], check=False, fresh=False)
    assert proc.returncode == 0 and 'whole' in proc.stdout, proc.stdout[-3000:]
