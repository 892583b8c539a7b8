# The schedule of the released 7x student (configs/reko/vintagify/README.md): the fast recipe
# (vintagify_7x_nokd_fast.py: the teacher's translations cached, the student initialised from
# the teacher, 4 photos a step) for 6000 steps, 24,000 images at 256x256, the rate constant for
# the first half and then linearly to 0, seed 1. Trained with --amp on a CPU with bf16 units.
#
#   python tools/dataset_converters/teacher_translations.py \
#       configs/reko/vintagify/vintagify_7x_nokd_release.py
#   python tools/train.py configs/reko/vintagify/vintagify_7x_nokd_release.py --amp
_base_ = './vintagify_7x_nokd_fast.py'

max_iters = 6000
train_cfg = dict(max_iters=max_iters)
param_scheduler = dict(begin=max_iters // 2, end=max_iters)
randomness = dict(seed=1)
