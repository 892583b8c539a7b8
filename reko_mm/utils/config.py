"""Reading configs: a file plus ``--cfg-options``, and a config saved as text in a checkpoint."""
import os
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


def config_from_text(text: str):
    """A saved config (``meta['cfg']`` of a checkpoint), parsed without importing its
    ``custom_imports`` (they may not be importable here)."""
    import tempfile

    from mmengine.config import Config
    with tempfile.NamedTemporaryFile('w', suffix='.py', delete=False) as f:
        f.write(text)
    try:
        return Config.fromfile(f.name, import_custom_modules=False)
    finally:
        os.remove(f.name)
