#!/usr/bin/env bash
# Evaluate on N processes (GPUs, or CPU processes with gloo when there is no GPU):
#   bash tools/dist_test.sh CONFIG CHECKPOINT N [test.py args...]
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 bash tools/dist_test.sh ...
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "${REKO_VENV:-$ROOT/.venv}/bin/python" ]; then PYTHON="${REKO_VENV:-$ROOT/.venv}/bin/python"; else PYTHON=python; fi
fi

"$PYTHON" "$ROOT/tools/misc/check_launch.py" --nproc "$GPUS" --port "$PORT" --node-rank "$NODE_RANK"

PYTHONPATH="$ROOT:${PYTHONPATH:-}" \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$ROOT/tools/test.py" \
    "$CONFIG" \
    "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
