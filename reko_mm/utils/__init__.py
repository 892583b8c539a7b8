from .checkpoint import (CheckpointMismatchError, describe_checkpoint, load_checkpoint_strict,
                         load_distill_state, load_state_strict)
from .config import config_from_text, load_config
from .data_check import DataCheckError, check_data_roots, check_images, check_input_sizes
from .dist_utils import close_process_group
from .runs import StaleRunError, last_ckpt, run_state
from .work_dir import check_work_dir

__all__ = ['config_from_text', 'load_config', 'check_data_roots', 'check_input_sizes',
           'check_images', 'DataCheckError',
           'close_process_group', 'check_work_dir', 'CheckpointMismatchError',
           'describe_checkpoint', 'load_checkpoint_strict', 'load_distill_state',
           'load_state_strict', 'StaleRunError', 'last_ckpt', 'run_state']
