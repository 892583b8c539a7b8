# Pix2PixHD student on the 'bands' set without distillation: ngf 8 (the teacher has 32), a fixed
# budget. tools/benchmarks/kd_benchmark.py picks the width where it is clearly worse than the
# teacher, and may override it.
_base_ = './pix2pixhd_bands_teacher.py'
max_iters = 1000
model = dict(generator=dict(base_channels=8))
train_cfg = dict(max_iters=max_iters)
custom_hooks = []
default_hooks = dict(checkpoint=dict(interval=max_iters, save_best=None))
