# The fast recipe (vintagify_7x_nokd_fast.py) on a cache that also keeps the teacher's features
# at ReKo's layers, so that ReKo (vintagify_7x_fast.py, this config plus its term) trains on the
# same samples without running the teacher, at the cost of this baseline's step
# (docs/benchmarks.md). This config is the teacher-target baseline to compare ReKo with: no
# distillation term, the features loaded and unused.
#
# The cache holds the three residual-block outputs of every photo and of its mirror image in
# float16 (256 x 64 x 64 each, 6 MiB an image at 256x256). The teacher's features of a mirrored
# photo are not the mirrored features of the photo, so the pipeline does not flip: the mirror
# images are entries of their own, with the teacher's own translations and features (the
# released students' vintagify_7x_nokd_fast.py flips its cached translations instead).
#
#   python tools/dataset_converters/teacher_translations.py \
#       configs/reko/vintagify/vintagify_7x_fast_nokd.py    # the cache both configs read
#   python tools/train.py configs/reko/vintagify/vintagify_7x_fast_nokd.py --amp
#   python tools/train.py configs/reko/vintagify/vintagify_7x_fast.py --amp
_base_ = ['./vintagify_7x_nokd_fast.py', '../_base_/methods/reko.py']

keys = ['img_photo', 'img_vintage']
train_pipeline = [
    dict(type='LoadImageFromFile', key='img_photo', color_type='color', channel_order='bgr'),
    dict(type='LoadImageFromFile', key='img_vintage', color_type='color', channel_order='bgr'),
    dict(type='LoadTeacherFeatures'),
    # a random crop at a multiple of the features' stride, of the images and the features
    # together; no flip (the cache holds each photo's mirror image as an entry)
    dict(type='CropFlipWithFeatures', keys=keys, crop_size=({{_base_.size}}, {{_base_.size}}),
         flip_ratio=0.0),
    dict(type='PackInputsWithFeatures', keys=keys, data_keys=keys,
         meta_keys=['teacher_sha256'])]
train_dataloader = dict(dataset=dict(data_root='data/photos_vintage_reko_cache',
                                     features=_base_.reko_resnet_points, mirrored=True,
                                     pipeline=train_pipeline))
