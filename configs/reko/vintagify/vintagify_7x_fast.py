# ReKo on the fast recipe: vintagify_7x_fast_nokd.py (the teacher's translations and its
# features at ReKo's layers computed once, for each photo and its mirror image) plus ReKo's
# term, which reads the cached features, so the teacher does not run in training. Build the
# cache, then train (add --amp on a CPU with bf16 units):
#
#   python tools/dataset_converters/teacher_translations.py \
#       configs/reko/vintagify/vintagify_7x_fast.py
#   python tools/train.py configs/reko/vintagify/vintagify_7x_fast.py --amp
# (the baseline already reads ../_base_/methods/reko.py, for ReKo's layers)
_base_ = './vintagify_7x_fast_nokd.py'
model = dict(distill=dict(losses=_base_.reko_resnet_losses))
