"""The tests' tool launcher (tool_runner.py): a tool forked from the server sees what it would
see started as ``python tools/X.py`` — its argv, environment, working directory and module
path, no reko_mm imported yet — and its output and exit status come back the same way."""
import json
import os

import pytest

from conftest import ROOT, run_tool

SCRIPT = r'''
import json, os, sys
print(json.dumps(dict(argv=sys.argv, cwd=os.getcwd(), env=os.environ.get('REKO_PROBE'),
                      path0=sys.path[0], path1=sys.path[1], reko='reko_mm' in sys.modules,
                      name=__name__)))
print('to stderr', file=sys.stderr)
if sys.argv[1] == 'raise':
    raise RuntimeError('the probe failed')
sys.exit(int(sys.argv[1]))
'''


@pytest.mark.parametrize('fresh', [True, False])
def test_a_forked_tool_sees_what_a_new_interpreter_would(tmp_path, fresh):
    probe = tmp_path / 'probe.py'
    probe.write_text(SCRIPT)
    env = dict(REKO_PROBE='x', PYTHONPATH=str(tmp_path / 'extra'))
    proc = run_tool([str(probe), '3', 'b c'], env=env, check=False, fresh=fresh)
    assert proc.returncode == 3
    seen = json.loads(proc.stdout.splitlines()[0])
    assert seen == dict(argv=[str(probe), '3', 'b c'], cwd=ROOT, env='x', path0=str(tmp_path),
                        path1=str(tmp_path / 'extra'), reko=False, name='__main__')
    assert 'to stderr' in proc.stdout
    proc = run_tool([str(probe), 'raise'], check=False, fresh=fresh)
    assert proc.returncode == 1
    assert 'RuntimeError: the probe failed' in proc.stdout
    assert os.environ.get('REKO_PROBE') is None  # the test process is untouched
