#!/usr/bin/env bash
# The quick start (`make demo`): vintagify's real trained photo -> vintage generator (11.39 M
# parameters) and its released 7x student (configs/reko/vintagify/README.md): scores against the
# teacher on held-out photos beside the unchanged photo's, latency of teacher and student, the
# exported student; then a short distillation of the same teacher with the same recipe on photos
# bundled with scikit-image, scored the same way. Minutes on 2 CPU cores.
# Override with env vars: WORK=work_dirs/demo STEPS=300 make demo. A finished short run is
# reused: delete $WORK to train again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${REKO_VENV:-$ROOT/.venv}/bin/python"
WORK="${WORK:-work_dirs/demo}"
STEPS="${STEPS:-}"
PRECISION="${PRECISION:-auto}"  # auto: bf16 where the CPU has bf16 units, fp32 elsewhere
exec "$PY" -W ignore tools/demo.py --work-dir "$WORK" --precision "$PRECISION" ${STEPS:+--steps "$STEPS"}
