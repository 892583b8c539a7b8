"""Figures of where ReKo looks and what it compares."""
from .attention import (attention_figure, object_hit_rate, record_layer, region_hit_rate,
                        region_similarity, reko_term, similarity_figure, teacher_regions,
                        to_input)

__all__ = ['attention_figure', 'object_hit_rate', 'record_layer', 'region_hit_rate',
           'region_similarity', 'reko_term', 'similarity_figure', 'teacher_regions', 'to_input']
