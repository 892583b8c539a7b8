"""Helpers imported by the distributed tests' subprocesses (kept out of the package)."""
import os
import os.path as osp

import torch
import torch.distributed as dist
from mmagic.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class DumpRankParamsHook(Hook):
    """After training, every rank saves its model parameters to ``out_dir/rank<r>.pth``."""

    def __init__(self, out_dir):
        self.out_dir = out_dir

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = {}
        for k, v in model.state_dict(keep_vars=False).items():
            state[k.replace('.module.', '.')] = v.detach().cpu().clone()
        if hasattr(model, 'distill'):  # kept out of the student's state_dict
            for k, v in model.distill.state_dict().items():
                state[f'distill.{k}'] = v.detach().cpu().clone()
        rank = dist.get_rank() if dist.is_initialized() else 0
        os.makedirs(self.out_dir, exist_ok=True)
        torch.save(state, osp.join(self.out_dir, f'rank{rank}.pth'))


def one_step_worker(rank, world, port, batch, out):
    """One CycleGAN step on ``world`` gloo ranks, rank r taking its slice of ``batch``."""
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), OMP_NUM_THREADS='1')
    dist.init_process_group('gloo', rank=rank, world_size=world)
    try:
        import reko_mm  # noqa: F401
        from equivalence import build_model, data_slice, optims, step  # noqa: E402
        from reko_mm.models import SeparateGradSyncDataParallel
        model = SeparateGradSyncDataParallel(build_model())
        n = len(batch['inputs']['img_a'])
        per = n // world
        step(model, data_slice(batch, rank * per, (rank + 1) * per), optims(model.module))
        if rank == 0:
            torch.save({k: v.detach().clone() for k, v in model.module.state_dict().items()}, out)
    finally:
        dist.destroy_process_group()


@HOOKS.register_module()
class RecordLossesHook(Hook):
    """Append every training iteration's raw outputs (losses) to ``<work_dir>/losses.jsonl``."""

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        import json
        with open(osp.join(runner.work_dir, 'losses.jsonl'), 'a') as f:
            f.write(json.dumps(dict(iter=runner.iter + 1,
                                    **{k: float(v) for k, v in outputs.items()})) + '\n')
