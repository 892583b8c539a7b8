#!/usr/bin/env bash
# The GPU check: on a CUDA machine whose Python already has a CUDA build of PyTorch, install
# reko-mm's pure-Python stack from a folder of wheels (no package index needed), then run
# tools/misc/gpu_check.py: the CUDA-marked tests, the cost of a training step, the 7x vintagify
# student trained for a few minutes and scored, one JSON of every figure and the checkpoint.
#
#   bash tools/misc/gpu_check.sh OUT_DIR [--wheels DIR] [--dry-run] [--minutes M] [--photos DIR]
#
#   --wheels DIR   install every wheel of DIR (docs/benchmarks.md, "On a GPU", says how to
#                  download them) into a private folder put first on PYTHONPATH; without it the
#                  Python at hand must have the stack (e.g. `make setup`'s .venv)
#   --dry-run      every stage on the CPU at a tiny budget (the test suite runs this)
# REKO_PYTHON picks the interpreter (default python3); REKO_SITE where the wheels go.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="${REKO_PYTHON:-python3}"
args=() wheels=""
while [ $# -gt 0 ]; do
  case "$1" in
    --wheels) [ $# -ge 2 ] || { echo "gpu_check: --wheels needs a folder" >&2; exit 2; }
              wheels="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -n "$wheels" ]; then
  ls "$wheels"/*.whl >/dev/null 2>&1 || { echo "gpu_check: no wheels (*.whl) in '$wheels'" >&2; exit 2; }
  site="${REKO_SITE:-$(mktemp -d)/site}"
  t0=$(date +%s)
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --disable-pip-version-check --target "$site" "$wheels"/*.whl
  echo "[gpu_check] installed $(ls "$wheels"/*.whl | wc -l) wheels into $site in $(( $(date +%s) - t0 )) s" >&2
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
cd "$ROOT"
exec "$PY" tools/misc/gpu_check.py "${args[@]}"
