#!/usr/bin/env bash
# The quick start (`make demo`): a translation with a known answer ('bands': flat objects ->
# outlined objects, 32x32) -> a Pix2Pix teacher trained until its error on the objects stops
# improving -> a no-KD student and a ReKo student (ngf 8, 4x narrower) at the same budget ->
# their error against the ground truth. Runs in minutes on a CPU; it is
# tools/benchmarks/kd_benchmark.py with one seed and two arms. Override with env vars, e.g.
# TEACHER_ITERS=1000 STUDENT_ITERS=500 make demo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${REKO_VENV:-$ROOT/.venv}/bin/python"
WORK="${WORK:-work_dirs/quick_start}"
TEACHER_ITERS="${TEACHER_ITERS:-2000}"
STUDENT_ITERS="${STUDENT_ITERS:-1000}"
T0=$(date +%s)

# Finished runs are reused, partial ones resumed, and a run of another config is refused:
# delete $WORK, or set WORK=another/dir, to train again.
mkdir -p "$(dirname "$WORK")"
echo "== 1/2 teacher (ngf 32, early stopping), then no-KD and ReKo students (ngf 8)"
"$PY" tools/benchmarks/kd_benchmark.py --work-dir "$WORK" --models pix2pix \
  --arms nokd reko --seeds 0 --widths 8 --min-gap 0 \
  --teacher-iters "$TEACHER_ITERS" --student-iters "$STUDENT_ITERS" --jobs 2 \
  > "$WORK.log" 2>&1 || { tail -n 30 "$WORK.log"; echo "failed; full log: $WORK.log"; exit 1; }

RUN="$WORK/pix2pix"
ckpt_of() { "$PY" -c "import json, sys; print(json.load(open(sys.argv[1]))['ckpt'])" "$1"; }
STUDENT_CKPT="$(ckpt_of "$RUN/reko_seed0/result.json")"
TEACHER_CKPT="$(ckpt_of "$RUN/teacher_seed0/result.json")"
echo "== 2/2 teacher attention and the K distilled regions of one test image"
TEST_IMG="$(ls "$RUN"/data/bands_paired/test/*.png | head -n 1)"
"$PY" tools/analysis_tools/visualize_attention.py "$RUN/reko_seed0/budget_cfg.py" \
  "$STUDENT_CKPT" "$TEST_IMG" "$RUN/reko_seed0/attention_regions.png" --pair-half B \
  --mask "$RUN/data/bands_paired/masks/test/$(basename "$TEST_IMG")" \
  --cfg-options model.teacher.ckpt="$TEACHER_CKPT" 2>/dev/null | grep '^wrote'

# the table of results.md, without the commands that follow it
sed -n '/^### /,/^Samples/p' "$WORK/results.md"
cat <<MSG

Quick start finished in $(( $(date +%s) - T0 )) s. One seed cannot rank the two students:
tools/benchmarks/kd_benchmark.py does, with 8 seeds per arm (docs/results.md).
  teacher checkpoint : $TEACHER_CKPT
  student checkpoint : $STUDENT_CKPT
                       (a plain MMagic Pix2Pix checkpoint: it loads strictly into
                        configs/reko/bands/pix2pix_bands_nokd.py; the distillation state
                        is kept apart, in its 'distill' entry, for --resume)
  sample grid        : $WORK/pix2pix_samples.png (input | truth | teacher | no-KD | ReKo)
  error curves       : $WORK/pix2pix_curves.png
  attention + regions: $RUN/reko_seed0/attention_regions.png
  full log           : $WORK.log, commands in $WORK/results.md
MSG
