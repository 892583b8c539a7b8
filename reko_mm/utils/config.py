"""Reading configs: a file plus ``--cfg-options`` (a config saved as text in a checkpoint is read
as data by :mod:`.config_text`)."""
import os.path as osp
from typing import Optional


def load_config(path: str, cfg_options: Optional[dict] = None):
    """``Config.fromfile(path)`` with ``cfg_options`` merged (the ``{'a.b': v}`` dict mmengine's
    ``DictAction`` makes of ``--cfg-options``); a missing file is named."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file not found: {osp.abspath(path)}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg
