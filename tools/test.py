"""Evaluate a teacher, a student or a ReKo checkpoint with the config's test metrics.

    python tools/test.py CONFIG CHECKPOINT [--out metrics.json] [--work-dir DIR]
                         [--exported DOMAIN=FILE ...] [--runtime openvino-int8]
                         [--cfg-options k=v ...] [--launcher pytorch]

Same interface as MMagic's tools/test.py. For a ReKo config (``TeacherStudentGAN``) the student
alone is evaluated: the model is built as the plain MMagic CycleGAN/Pix2Pix it is, so the teacher
checkpoint is not needed. A teacher-target config (``model.teacher.as_target``) is scored against
the teacher's translations, so its teacher is built too (``model.teacher.ckpt``). The
checkpoint is the last one you trained, not the best of a run (see docs/evaluation.md).

The checkpoint is loaded strictly: every key and shape must match the config's model, or the
tool stops (exit code 1) with the first mismatching keys and what the checkpoint seems to be
(e.g. a teacher checkpoint given with a student config). Nothing is scored then.

``--exported photo=student_mask2photo_int8.onnx`` scores an exported generator (ONNX, OpenVINO
IR ``.xml``, TorchScript ``.pt``; see tools/deployment/export_student.py) in place of the
checkpoint's generator of that target domain, run by ``--runtime`` (default: the file's own):
the check that an export, int8 above all, keeps the metric. The exported graph is the generator
in eval mode (no dropout, running BatchNorm statistics), so compare it with another export
(e.g. the fp32 ONNX), not with MMagic's train-mode Pix2Pix evaluation.
"""
import argparse
import os
import os.path as osp


import reko_mm  # noqa: F401  (registers components, applies compatibility fixes)
import mmengine
from mmengine.config import DictAction
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmagic.utils import print_colored_log

from reko_mm.apis import prepare_test_cfg, swap_exported_generators
from reko_mm.utils import (check_data_roots, close_process_group, load_config,
                           load_state_strict)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='write the metrics to this file (json/yaml/pkl)')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value pairs, e.g. '
        'test_dataloader.dataset.data_root=data/facades')
    parser.add_argument('--exported', nargs='+', default=[], metavar='DOMAIN=FILE',
                        help='score these exported generators instead of the checkpoint\'s')
    parser.add_argument('--runtime', help='runtime of the exported files (default: by format; '
                        'onnxruntime-int8 / openvino-int8 / openvino-bf16 / '
                        'onnxruntime-tuned / openvino)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg = prepare_test_cfg(cfg, args.checkpoint)
    check_data_roots(cfg, keys=('test_dataloader',))

    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    load_state_strict(model, args.checkpoint, config_name=args.config)
    print_colored_log(f'Loaded {args.checkpoint} strictly into the model of {args.config}')
    swap_exported_generators(model, args.exported, args.runtime)
    print_colored_log(f'Working directory: {cfg.work_dir}')
    print_colored_log(f'Log directory: {runner._log_dir}')
    if args.out:
        out = osp.abspath(args.out)

        class SaveMetricHook(Hook):

            def after_test_epoch(self, _, metrics=None):
                if metrics is not None and is_main_process():
                    mmengine.dump(metrics, out)

        runner.register_hook(SaveMetricHook(), 'LOWEST')
    runner.test()
    close_process_group()


if __name__ == '__main__':
    main()
