"""Train a model (teacher, student or ReKo student) with MMagic's runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume] [--cfg-options k=v ...]

Same interface as MMagic's tools/train.py; it also imports reko_mm (registering the ReKo
components and applying reko_mm.compat), checks the config's dataset folders and refuses to
overwrite checkpoints already in the work_dir (use --resume, or a new --work-dir), and adds the
checkpoint hooks: ExactResumeHook (random states and image pools, so --resume continues exactly)
and, for a TeacherStudentGAN, DistillCheckpointHook (the distillation's state).

--amp switches every optimizer of the config to mixed precision (AutocastOptimWrapper: float16
on a GPU by default, bfloat16 on a CPU); --amp-dtype picks the type.
"""
import argparse
import os
import os.path as osp


import reko_mm  # noqa: F401  (registers components, applies compatibility fixes)
from mmengine.config import DictAction
from mmengine.runner import Runner
from mmagic.utils import print_colored_log

from reko_mm.apis import generators_of
from reko_mm.engine import AMP_DTYPES, add_checkpoint_hooks, enable_amp
from reko_mm.utils import (check_data_roots, check_images, check_input_sizes, check_work_dir,
                           load_config,
                           close_process_group)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--resume', action='store_true',
                        help='resume from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='mixed-precision training for every optimizer of the config')
    parser.add_argument('--amp-dtype', choices=AMP_DTYPES, default=None,
                        help='autocast type with --amp (default: float16 on a GPU, bfloat16 on a '
                        'CPU, the only CPU type)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='enable automatically scaling LR')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value pairs, e.g. '
        'model.teacher.ckpt=work_dirs/teacher/iter_100.pth train_cfg.max_iters=200')
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
    # work_dir priority: CLI > config > config file name
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp_dtype and not args.amp:
        raise ValueError('--amp-dtype has no effect without --amp')
    if args.amp:
        n = enable_amp(cfg, args.amp_dtype)
        print_colored_log(f'--amp: {n} optimizer wrapper(s) switched to AutocastOptimWrapper '
                          f'({args.amp_dtype or "float16 on a GPU, bfloat16 on a CPU"})')
    if args.auto_scale_lr:
        cfg.auto_scale_lr = dict(cfg.get('auto_scale_lr', {}), enable=True)
    if args.resume:
        cfg.resume = True
    check_data_roots(cfg, keys=('train_dataloader', 'val_dataloader'))
    check_input_sizes(cfg, generators_of(cfg), keys=('train_dataloader', 'val_dataloader'))
    check_images(cfg, keys=('train_dataloader', 'val_dataloader'), log=print_colored_log)
    check_work_dir(cfg, resume=args.resume)
    add_checkpoint_hooks(cfg)

    runner = Runner.from_cfg(cfg)
    print_colored_log(f'Working directory: {cfg.work_dir}')
    print_colored_log(f'Log directory: {runner._log_dir}')
    runner.train()
    close_process_group()
    print_colored_log(f'Log saved under {runner._log_dir}')
    print_colored_log(f'Checkpoint saved under {cfg.work_dir}')


if __name__ == '__main__':
    main()
