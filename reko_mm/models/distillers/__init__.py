from .distill_config import DISTILL_KEYS, TermSpec, normalise, parse_layers
from .translation_distiller import DistillTerm, TranslationDistiller

__all__ = ['TranslationDistiller', 'DistillTerm', 'TermSpec', 'normalise', 'parse_layers',
           'DISTILL_KEYS']
