from .checkpoint import (CheckpointMismatchError, describe_checkpoint, is_generators_only,
                         load_checkpoint_strict, load_distill_state, load_state_strict,
                         publish_student)
from .config import load_config
from .config_text import parse_config_text, read_config_text
from .data_check import DataCheckError, check_data_roots, check_images, check_input_sizes
from .dist_utils import close_process_group
from .runs import StaleRunError, last_ckpt, run_state
from .safe_load import UnsafeCheckpointError, safe_pickle_load, safe_torch_load
from .work_dir import check_work_dir

__all__ = ['load_config', 'parse_config_text', 'read_config_text', 'UnsafeCheckpointError',
           'safe_torch_load', 'safe_pickle_load', 'check_data_roots', 'check_input_sizes',
           'check_images', 'DataCheckError',
           'close_process_group', 'check_work_dir', 'CheckpointMismatchError',
           'describe_checkpoint', 'load_checkpoint_strict', 'load_distill_state',
           'load_state_strict', 'is_generators_only', 'publish_student', 'StaleRunError',
           'last_ckpt', 'run_state']
