"""Checkpoint converters: generators trained elsewhere into MMagic's layout."""
from .generator_import import (CHANNEL_ORDERS, KNOWN_LAYOUTS, Detected, GeneratorImportError,
                               detect, find_generator, import_generator, load_source,
                               reverse_colour_channels, to_mmagic)
from .source_nets import JunyanzResnetGenerator, JunyanzUnetGenerator

__all__ = ['CHANNEL_ORDERS', 'KNOWN_LAYOUTS', 'Detected', 'GeneratorImportError', 'detect',
           'find_generator', 'import_generator', 'load_source', 'reverse_colour_channels',
           'to_mmagic', 'JunyanzResnetGenerator', 'JunyanzUnetGenerator']
