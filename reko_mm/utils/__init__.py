from .data_check import check_data_roots
from .dist_utils import close_process_group

__all__ = ['check_data_roots', 'close_process_group']
