from .region_aware_distill_loss import (PROJECTORS, REGION_SELECTORS, RegionAwareDistillLoss,
                                        attention_map, build_projector)

__all__ = ['RegionAwareDistillLoss', 'attention_map', 'build_projector', 'REGION_SELECTORS',
           'PROJECTORS']
