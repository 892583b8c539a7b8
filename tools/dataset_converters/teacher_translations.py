"""Compute a teacher's translations of a photo folder once, for a config that trains on them
(``model.teacher.as_target='cached'``, ``TeacherTranslationDataset``).

    python tools/dataset_converters/teacher_translations.py \
        configs/reko/vintagify/vintagify_7x_nokd_cached.py
    python tools/dataset_converters/teacher_translations.py CONFIG --cfg-options \
        train_dataloader.dataset.photo_root=my_photos train_dataloader.dataset.data_root=my_cache

Entries that still match (same teacher file, resize and photo) are kept; the rest are built.
"""
import argparse

from mmengine.config import DictAction

from reko_mm.datasets.teacher_translations import build_teacher_translations
from reko_mm.utils import load_config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help="a config with model.teacher.as_target='cached'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings (key=value)')
    args = parser.parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    ds = cfg.train_dataloader.dataset
    print(f'teacher translations of {ds.get("photo_root")}/{ds.get("split", "train")} '
          f'into {ds.get("data_root")}')
    info = build_teacher_translations(cfg, log=lambda line: print(line, flush=True))
    print(f'{info["images"]} pairs in {ds.data_root}: {info["built"]} built, {info["kept"]} '
          f'kept, in {info["seconds"]:.0f} s; {info["bytes"] / 2**20:.1f} MiB on disk')


if __name__ == '__main__':
    main()
