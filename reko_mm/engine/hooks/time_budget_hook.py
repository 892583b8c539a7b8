"""End training after a wall-time budget, as if ``max_iters`` had been reached."""
import time

from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmagic.registry import HOOKS


@HOOKS.register_module()
class TimeBudgetHook(Hook):
    """Stops an iteration-based training run once ``minutes`` of training have passed.

    The iteration that starts after the budget is spent becomes the last one: the loop's
    ``max_iters`` is lowered to it, so everything that happens at the end of a run happens as
    usual (the checkpoint hook saves it, the final validation runs, the logger's ETA is right).
    The budget counts from the start of this process's training loop: a resumed run gets it
    again. ``train_cfg.max_iters`` stays the upper bound.

    Args:
        minutes (float): training wall time, validation included.
    """
    priority = 'VERY_LOW'

    def __init__(self, minutes: float):
        if not minutes > 0:
            raise ValueError(f'TimeBudgetHook: minutes must be > 0, got {minutes!r}')
        self.minutes = float(minutes)
        self.t0 = None

    def before_train(self, runner) -> None:
        from mmengine.runner import IterBasedTrainLoop
        if not isinstance(runner.train_loop, IterBasedTrainLoop):
            raise TypeError(f'TimeBudgetHook needs an iteration-based training loop '
                            f'(train_cfg.by_epoch=False), got {type(runner.train_loop).__name__}')
        self.t0 = time.time()

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        loop = runner.train_loop
        if time.time() - self.t0 < 60 * self.minutes or runner.iter + 1 >= loop.max_iters:
            return
        loop._max_iters = runner.iter + 1  # IterBasedTrainLoop reads it for its end
        print_log(f'TimeBudgetHook: {self.minutes:g} min of training spent; iteration '
                  f'{runner.iter + 1} is the last', logger='current')
