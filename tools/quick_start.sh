#!/usr/bin/env bash
# The quick start (`make demo`): vintagify's real trained photo -> vintage generator (11.39 M
# parameters) distilled into a 7x student, a teacher-target baseline and a ReKo student side by
# side, on photos bundled with scikit-image; scores against the teacher on held-out photos,
# latency of teacher and student, the exported student. Minutes on 2 CPU cores.
# Override with env vars: WORK=work_dirs/demo ITERS=600 make demo. Finished runs are reused:
# delete $WORK to train again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${REKO_VENV:-$ROOT/.venv}/bin/python"
WORK="${WORK:-work_dirs/demo}"
ITERS="${ITERS:-600}"
PRECISION="${TEACHER_PRECISION:-}"
if [ -z "$PRECISION" ]; then  # bf16 where the CPU has bf16 units, fp32 elsewhere
  PRECISION=$("$PY" -c 'import torch; print("bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32")' 2>/dev/null || echo fp32)
fi
exec "$PY" -W ignore tools/demo.py --work-dir "$WORK" --iters "$ITERS" --teacher-precision "$PRECISION"
