# The 16x student of vintagify's generator: ResNet ngf 16 (0.72 M parameters), teacher-target
# baseline (see vintagify_7x_nokd.py).
_base_ = './vintagify_7x_nokd.py'
model = dict(generator=dict(base_channels=16))
