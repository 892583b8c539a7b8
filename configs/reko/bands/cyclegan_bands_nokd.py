# CycleGAN student on the 'bands' set without distillation: ngf 4 (the teacher has 16), a fixed
# budget, scored on the test set at the end. tools/benchmarks/kd_benchmark.py picks the width
# where this student is clearly worse than the teacher, and may override it.
_base_ = './cyclegan_bands_teacher.py'
max_iters = 1000
model = dict(generator=dict(base_channels=4))
train_cfg = dict(max_iters=max_iters)
custom_hooks = []
default_hooks = dict(checkpoint=dict(interval=max_iters, save_best=None))
