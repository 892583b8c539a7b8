# The fast recipe for 2 CPU cores (docs/benchmarks.md, "A fast teacher-target step"):
# vintagify_7x_nokd_cached.py (the teacher's translations computed once) with the student
# initialised from the teacher's channels, 4 images a step (Adam's learning rate doubled: the
# square-root rule), and CycleGAN's schedule: constant for the first half, then linearly to 0.
# 5000 steps of 4 are the 20000 images of the shipped schedule. On a CPU with bf16 units
# (AVX-512 bf16, AMX) add --amp: float32 master weights, the step under bf16 autocast.
#
#   python tools/dataset_converters/teacher_translations.py \
#       configs/reko/vintagify/vintagify_7x_nokd_fast.py
#   python tools/train.py configs/reko/vintagify/vintagify_7x_nokd_fast.py --amp
_base_ = './vintagify_7x_nokd_cached.py'

model = dict(student_init=dict(rule='norm_scale', seed=0))
train_dataloader = dict(batch_size=4)
lr = 4e-4
optim_wrapper = dict(generators=dict(optimizer=dict(lr=lr)),
                     discriminators=dict(optimizer=dict(lr=lr)))
max_iters = 5000
eval_interval = 1000
train_cfg = dict(max_iters=max_iters, val_interval=eval_interval)
param_scheduler = dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=False,
                       begin=max_iters // 2, end=max_iters)
default_hooks = dict(checkpoint=dict(interval=eval_interval))
