"""Building what a config describes: the model (with a checkpoint loaded strictly), its
generators (student and teacher, resolved as training resolves them), and their size."""
import os.path as osp
from typing import Dict, Optional, Tuple

import torch.nn as nn

from ..utils.config import load_config


def build_model_from_config(config: str, checkpoint: Optional[str] = None,
                            cfg_options: Optional[dict] = None,
                            require_distill: bool = False) -> nn.Module:
    """Build ``cfg.model`` in MMagic's scope and load ``checkpoint`` into it strictly (CPU, eval).

    ``cfg_options`` is a ``{'model.generator.base_channels': 16}`` dict, as mmengine's
    ``DictAction`` produces from ``--cfg-options``. For a ``TeacherStudentGAN`` the checkpoint's
    distillation state (projection heads) is loaded too; ``require_distill`` refuses a checkpoint
    without one (a figure of random heads would be wrong).
    """
    from mmengine.registry import init_default_scope
    from mmagic.registry import MODELS

    from ..utils import load_checkpoint_strict
    cfg = load_config(config, cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint_strict(model, checkpoint, config, require_distill=require_distill)
    return model.eval()


def generator_complexity(gen_cfg: dict, shape=(256, 256)) -> Tuple[float, float]:
    """(params in M, FLOPs in G) of a generator config at input ``shape`` (mmengine's counter)."""
    from mmengine.analysis import get_model_complexity_info

    from ..models.generators import build_generator
    gen = build_generator(gen_cfg).eval()
    info = get_model_complexity_info(gen, input_shape=(gen_cfg.get('in_channels', 3), *shape),
                                     show_table=False, show_arch=False)
    return info['params'] / 1e6, info['flops'] / 1e9


def teacher_and_student_generators(cfg) -> dict:
    """``{'student': cfg, 'teacher': cfg}`` generator configs of a ReKo config, or
    ``{'generator': cfg}`` for a plain one. The teacher's is resolved as the model resolves it:
    on the checkpoint's ``meta['generator_cfg']`` when the checkpoint is there and has one."""
    from ..models import read_checkpoint, teacher_generator_cfg
    if not cfg.model.get('teacher'):
        return {'generator': cfg.model.generator}
    ckpt = cfg.model.teacher.get('ckpt')
    base = read_checkpoint(ckpt)[1].get('generator_cfg') if ckpt and osp.isfile(ckpt) else None
    return {'student': cfg.model.generator,
            'teacher': teacher_generator_cfg(cfg.model.generator,
                                             cfg.model.teacher.get('generator', {}), base=base)}


def generators_of(cfg) -> Dict[str, dict]:
    """``{'model.generator': cfg, 'model.teacher.generator': cfg}`` of a config (the teacher's
    only for a distillation config), for :func:`reko_mm.utils.check_input_sizes`."""
    gens = teacher_and_student_generators(cfg) if cfg.get('model', {}).get('generator') else {}
    return {('model.teacher.generator' if role == 'teacher' else 'model.generator'): gen
            for role, gen in gens.items()}
