# vintagify_7x_nokd.py trained on the teacher's translations computed once (GAN Compression's
# recipe): the photo folder becomes a paired set photo | teacher(photo), and the teacher runs in
# validation and test only. Build the cache first (entries that still match are kept; a cache
# made from another teacher file, resize or photos is refused):
#
#   python tools/dataset_converters/teacher_translations.py \
#       configs/reko/vintagify/vintagify_7x_nokd_cached.py
#   python tools/train.py configs/reko/vintagify/vintagify_7x_nokd_cached.py
#
# For terms-free teacher-target configs only: a distillation term (ReKo, AT, ...) reads the
# teacher on the student's own crop, so those configs keep as_target=True.
_base_ = './vintagify_7x_nokd.py'

cache_root = 'data/photos_vintage_cache'
model = dict(
    data_preprocessor=dict(data_keys=['img_photo', 'img_vintage']),
    teacher=dict(as_target='cached'))

train_pipeline = [
    dict(type='LoadImageFromFile', key='img_photo', color_type='color', channel_order='bgr'),
    dict(type='LoadImageFromFile', key='img_vintage', color_type='color', channel_order='bgr'),
    dict(type='FixedCrop', keys=['img_photo', 'img_vintage'], crop_size=({{_base_.size}},
                                                                         {{_base_.size}})),
    dict(type='Flip', keys=['img_photo', 'img_vintage'], direction='horizontal'),
    # teacher_sha256: which teacher made the targets (the model checks it is its own)
    dict(type='PackInputs', keys=['img_photo', 'img_vintage'],
         data_keys=['img_photo', 'img_vintage'], meta_keys=['teacher_sha256'])]
train_dataloader = dict(
    dataset=dict(_delete_=True, type='TeacherTranslationDataset', data_root=cache_root,
                 photo_root={{_base_.dataroot}}, teacher_ckpt={{_base_.teacher_ckpt}},
                 size={{_base_.size}}, source='photo', target='vintage',
                 pipeline=train_pipeline))
