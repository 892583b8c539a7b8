"""Distillation benchmarks: arms built from the shipped configs (:mod:`.arms`), one runner that
reuses, resumes and refuses (:mod:`.runner`), one report (:mod:`.report`), and the benchmarks
themselves: :mod:`.ground_truth` (the generated 'bands' set, every method) and
:mod:`.real_data` (FID/KID on real datasets)."""
from .arms import (ABLATIONS, ARMS, INIT, BenchmarkError, arm_config, config_text,
                   distillation, fragments, run_name, split_arm, write_config)
from .report import arm_table, mean_std, welch_p
from .runner import REUSED, RunQueue, val_curve

__all__ = ['ABLATIONS', 'ARMS', 'INIT', 'BenchmarkError', 'arm_config', 'config_text',
           'distillation', 'fragments', 'run_name', 'split_arm', 'write_config', 'arm_table',
           'mean_std', 'welch_p', 'REUSED', 'RunQueue', 'val_curve']
