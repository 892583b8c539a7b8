"""Paper, Fig. 1: a trained teacher's top-K attention regions fall on the translated objects.

The synthetic data makes this measurable: the translation changes only the objects, and their
masks are known. We train a small teacher CycleGAN through tools/train.py and measure, over the
test images, the share of the K=64 selected regions (of a 16x16 map) that lie on the objects,
against the share of all regions that do (what a random pick scores, about 0.21 here).
Measured at 100-200 iterations: 0.34-0.43, i.e. 1.6-2.0x chance (docs/reko.md).
"""
import pytest

from conftest import train

MARGIN = 1.4  # asserted hit rate / chance


@pytest.fixture(scope='module')
def trained_teacher(tmp_path_factory):
    from reko_mm.datasets import generate_synthetic_dataset
    root = tmp_path_factory.mktemp('attn')
    data = str(root / 'data')
    generate_synthetic_dataset(data, 'unpaired', num_train=64, num_test=16, size=64, seed=0)
    train('configs/reko/synthetic/cyclegan_synthetic_teacher.py', root / 'teacher',
          [f'train_dataloader.dataset.data_root={data}', 'train_dataloader.batch_size=4',
           'model.generator.base_channels=16', 'model.discriminator.base_channels=16',
           'train_cfg.max_iters=200', 'default_hooks.logger.interval=50'], timeout=1500)
    return data, str(root / 'teacher' / 'iter_200.pth')


def test_teacher_attention_regions_fall_on_objects(trained_teacher):
    from reko_mm.apis import build_model_from_config
    from reko_mm.visualization import object_hit_rate
    data, ckpt = trained_teacher
    model = build_model_from_config(
        'configs/reko/synthetic/cyclegan_synthetic_teacher.py', ckpt,
        {'model.generator.base_channels': 16, 'model.discriminator.base_channels': 16})
    for domain, split in (('flat', 'testB'), ('striped', 'testA')):
        r = object_hit_rate(model.generators[domain], 'model.11', data, split, k=64, model=model)
        assert r['images'] == 16
        assert 0.1 < r['chance'] < 0.4
        assert r['hit_rate'] > MARGIN * r['chance'], (domain, r)
