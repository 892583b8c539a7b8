#!/usr/bin/env bash
# The quick start (`make demo`): synthetic data -> teacher CycleGAN -> ReKo-distilled 7x student.
# Runs in minutes on a CPU. Override sizes with env vars, e.g. TEACHER_ITERS=200 make demo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${REKO_VENV:-$ROOT/.venv}/bin/python"
DATA="${DATA:-data/synthetic/unpaired}"
WORK="${WORK:-work_dirs/quick_start}"
TEACHER_ITERS="${TEACHER_ITERS:-300}"
STUDENT_ITERS="${STUDENT_ITERS:-300}"
T0=$(date +%s)

if [ ! -d "$DATA/trainA" ]; then
  "$PY" tools/dataset_converters/make_synthetic.py "$DATA" --layout unpaired \
    --num-train 64 --num-test 16 --size 64 --seed 0
fi
COMMON=(train_dataloader.dataset.data_root="$DATA")

# A finished step is reused (tools/train.py refuses to overwrite checkpoints): delete
# $WORK, or set WORK=another/dir, to train again.
TEACHER_CKPT="$WORK/teacher/iter_$TEACHER_ITERS.pth"
if [ -f "$TEACHER_CKPT" ]; then
  echo "== 1/3 teacher: reusing $TEACHER_CKPT"
else
  echo "== 1/3 teacher CycleGAN (ngf 16), $TEACHER_ITERS iterations"
  "$PY" tools/train.py configs/reko/synthetic/cyclegan_synthetic_teacher.py \
    --work-dir "$WORK/teacher" --cfg-options "${COMMON[@]}" train_cfg.max_iters="$TEACHER_ITERS"
fi

STUDENT_CKPT="$WORK/student_reko/iter_$STUDENT_ITERS.pth"
if [ -f "$STUDENT_CKPT" ]; then
  echo "== 2/3 ReKo student: reusing $STUDENT_CKPT"
else
  echo "== 2/3 ReKo student (ngf 6), $STUDENT_ITERS iterations, distilled from $TEACHER_CKPT"
  "$PY" tools/train.py configs/reko/synthetic/cyclegan_synthetic_7x.py \
    --work-dir "$WORK/student_reko" --cfg-options "${COMMON[@]}" \
    train_cfg.max_iters="$STUDENT_ITERS" model.teacher.ckpt="$TEACHER_CKPT"
fi

echo "== 3/3 teacher attention and the K distilled regions of one test image"
TEST_IMG="$(ls "$DATA"/testB/*.png | head -n 1)"
"$PY" tools/analysis_tools/visualize_attention.py \
  configs/reko/synthetic/cyclegan_synthetic_7x.py "$STUDENT_CKPT" "$TEST_IMG" \
  "$WORK/student_reko/attention_regions.png" --domain flat \
  --mask "$DATA/masks/testB/$(basename "$TEST_IMG")" \
  --cfg-options model.teacher.ckpt="$TEACHER_CKPT"

VIS="$(ls -d "$WORK"/student_reko/*/vis_data 2>/dev/null | tail -n 1)"
cat <<MSG

Quick start finished in $(( $(date +%s) - T0 )) s.
  teacher checkpoint : $TEACHER_CKPT
  student checkpoint : $STUDENT_CKPT
                       (a plain MMagic CycleGAN checkpoint: it loads strictly into
                        configs/reko/synthetic/cyclegan_synthetic_7x_nokd.py; the distillation
                        state is kept apart, in its 'distill' entry, for --resume)
  logs               : $WORK/teacher/<timestamp>/, $WORK/student_reko/<timestamp>/
  sample images      : ${VIS:-$WORK/student_reko/<timestamp>/vis_data}
  attention + regions: $WORK/student_reko/attention_regions.png
MSG
