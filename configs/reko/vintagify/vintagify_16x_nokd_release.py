# The schedule of the released 16x student (configs/reko/vintagify/README.md): the 7x release
# schedule (vintagify_7x_nokd_release.py: the fast recipe, 6000 steps of 4 photos, 24,000
# images at 256x256, the rate constant for the first half and then linearly to 0, seed 1) with
# the 16x student, ResNet ngf 16 (vintagify_16x_nokd.py), initialised from the teacher.
#
#   python tools/dataset_converters/teacher_translations.py \
#       configs/reko/vintagify/vintagify_16x_nokd_release.py
#   python tools/train.py configs/reko/vintagify/vintagify_16x_nokd_release.py --amp
_base_ = './vintagify_7x_nokd_release.py'

model = dict(generator=dict(base_channels=16))
