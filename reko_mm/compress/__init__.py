"""One command from a trained generator file to a shipped student (``tools/compress.py``)."""
from .data import CompressDataError, prepare_data
from .pipeline import compress
from .plan import CompressError, student_width

__all__ = ['compress', 'CompressError', 'CompressDataError', 'prepare_data', 'student_width']
