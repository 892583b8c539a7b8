"""MMagic's image datasets without the files a data check found unreadable
(``data_check.skip_unreadable=True``; :func:`reko_mm.utils.check_images` puts them in)."""
import os.path as osp
from typing import Sequence

from mmagic.datasets import BasicImageDataset, PairedImageDataset, UnpairedImageDataset
from mmagic.registry import DATASETS


def _kept(paths, exclude):
    excluded = {osp.abspath(p) for p in exclude}
    return [p for p in paths if osp.abspath(p) not in excluded]


@DATASETS.register_module()
class ExcludingUnpairedImageDataset(UnpairedImageDataset):
    """``UnpairedImageDataset`` without the ``exclude`` files."""

    def __init__(self, *args, exclude: Sequence[str] = (), **kwargs):
        self.exclude = list(exclude)
        super().__init__(*args, **kwargs)

    def _load_domain_data_list(self, dataroot):
        infos = super()._load_domain_data_list(dataroot)
        keep = set(_kept([i['path'] for i in infos], self.exclude))
        return [i for i in infos if i['path'] in keep]


@DATASETS.register_module()
class ExcludingPairedImageDataset(PairedImageDataset):
    """``PairedImageDataset`` without the ``exclude`` files."""

    def __init__(self, *args, exclude: Sequence[str] = (), **kwargs):
        self.exclude = list(exclude)
        super().__init__(*args, **kwargs)

    def load_data_list(self):
        infos = super().load_data_list()
        keep = set(_kept([i['pair_path'] for i in infos], self.exclude))
        return [i for i in infos if i['pair_path'] in keep]


@DATASETS.register_module()
class ExcludingBasicImageDataset(BasicImageDataset):
    """``BasicImageDataset`` without the ``exclude`` files (of any of its keys)."""

    def __init__(self, *args, exclude: Sequence[str] = (), **kwargs):
        self.exclude = list(exclude)
        super().__init__(*args, **kwargs)

    def load_data_list(self):
        excluded = {osp.abspath(p) for p in self.exclude}
        return [info for info in super().load_data_list()
                if not any(osp.abspath(v) in excluded for k, v in info.items()
                           if k.endswith('_path'))]

