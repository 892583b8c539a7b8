"""What mmengine's checkpoints leave out: the distillation's state, and what an exact resume
needs (random number generators, CycleGAN's image pools)."""
import logging
import random
from typing import Callable, Optional

import numpy as np
import torch
from mmengine.dataset import InfiniteSampler
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import weights_to_cpu
from mmengine.runner.loops import _InfiniteDataloaderIterator

from mmagic.registry import HOOKS

from ...datasets.replay import CheapReplayMixin, is_replayed


def _unwrap(runner):
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


@HOOKS.register_module()
class DistillCheckpointHook(Hook):
    """Saves a ``TeacherStudentGAN``'s distillation state in the checkpoint's own ``'distill'``
    entry and restores it on ``--resume``.

    The model's ``state_dict`` is the plain student's (it strict-loads into the no-KD config), so
    the frozen projection heads, trained connectors and loss parameters travel here instead,
    with the run's distillation label (its terms, and any switched off). A checkpoint of a
    different distillation config is refused on resume. ``tools/train.py`` adds this hook to
    every ``TeacherStudentGAN`` config; the model refuses to train without it.
    """
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        model = _unwrap(runner)
        if hasattr(model, 'register_distill_state_saver'):
            model.register_distill_state_saver(type(self).__name__)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = _unwrap(runner)
        if not hasattr(model, 'distill'):
            return
        checkpoint['distill'] = dict(
            state_dict=weights_to_cpu(model.distill.state_dict()), label=model.distill.label,
            terms=list(model.distill.terms), disabled_terms=dict(model.distill.disabled_terms))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        model = _unwrap(runner)
        entry = checkpoint.get('distill')
        if not hasattr(model, 'distill') or entry is None:
            return
        try:
            model.load_distill_state_dict(entry['state_dict'], source='the checkpoint')
        except ValueError:
            if getattr(runner, '_resume', True):
                raise
            print_log("load_from: the checkpoint's distillation state belongs to another "
                      'distillation config; only the student weights are loaded',
                      logger='current', level=30)


class _RestoreBeforeItem:
    """Wraps the train loop's data iterator: after ``skip`` items (mmengine's resume replays
    the batches already trained), call ``restore`` once, then hand out the next item.

    With ``cheap`` (the dataset replays cheaply, :mod:`reko_mm.datasets.replay`) the skipped
    items must be replay markers and no later one may be: anything else means the workers did
    not take the batches in turn, which is refused rather than trained on. That check cannot see
    another sample order or other worker seeds; :func:`_replay_cheaply` rules those out before
    it switches the cheap replay on."""

    def __init__(self, iterator, skip: int, restore: Callable[[], None], cheap=None):
        self._iterator = iterator
        self._left = skip
        self._restore: Optional[Callable[[], None]] = restore
        self._cheap = cheap  # the dataset replaying cheaply, or None

    def __iter__(self):
        return self

    def __next__(self):
        if self._restore is not None and self._left <= 0:
            if self._cheap is not None:
                self._cheap.set_replay(None)
            self._restore()
            self._restore = None
        replaying = self._left > 0
        self._left -= 1
        item = next(self._iterator)
        if self._cheap is not None and is_replayed(item) != replaying:
            raise RuntimeError(
                'ExactResumeHook: the cheap replay of the trained batches went out of step with '
                f'the data loader ({"a replayed" if replaying else "a new"} batch came back '
                f'{"with its data" if replaying else "as a replay marker"}); nothing was trained '
                'on it. Resume with the data loader\'s default sampler and batch sampler, or '
                'report this with the config.')
        return item

    def __getattr__(self, name):
        return getattr(self._iterator, name)


def data_seed_problem(loader, seed: int) -> Optional[str]:
    """What makes a resumed run's data workers draw other numbers than the run's: mmengine
    builds the data loader (and seeds its workers' ``worker_init_fn``) before it restores the
    checkpoint's seed, which differ where ``randomness.seed`` is not set. None if they agree."""
    data_seed = getattr(getattr(loader, 'worker_init_fn', None), 'keywords', {}).get('seed')
    if not loader.num_workers or data_seed is None or data_seed == seed:
        return None
    return (f"the data workers were seeded with {data_seed} before mmengine restored the "
            f"checkpoint's seed {seed} (randomness.seed is not set), so this run draws other "
            'crops and flips than the run it continues. Set randomness.seed='
            f'{seed} for an exact resume.')


def _replay_cheaply(loop, batches: int):
    """Make the train loop's data iterator again, with the dataset replaying the first
    ``batches`` batches cheaply; returns the dataset, or None where that cannot be exact (then
    mmengine's full replay stays as it is).

    Exact where the new iterator draws what the first one drew: mmengine's infinite sampler
    started again from its seed, batches of ``batch_size`` handed to the workers in turn
    (``in_order``, not persistent), each worker seeded by mmengine's ``worker_init_fn`` from the
    run's seed alone. (Private names of mmengine 0.10 and torch 2.x: ``_indices_of_rank``,
    ``_InfiniteDataloaderIterator``, ``_shutdown_workers``; a rename fails here, loudly.)"""
    loader = loop.dataloader
    dataset = loader.dataset
    iterator = loop.dataloader_iterator
    seeded = loader.num_workers == 0 or getattr(loader.worker_init_fn, 'func', None) is \
        mmengine_worker_init_fn
    if not (isinstance(dataset, CheapReplayMixin) and isinstance(loader.sampler, InfiniteSampler)
            and type(iterator) is _InfiniteDataloaderIterator and loader.batch_size and seeded
            and getattr(loader, 'in_order', True)
            and not (loader.num_workers and loader.persistent_workers)):
        return None
    old = iterator._iterator  # its workers have drawn ahead: stop them, start the stream again
    if hasattr(old, '_shutdown_workers'):
        old._shutdown_workers()
    loader.sampler.indices = loader.sampler._indices_of_rank()
    dataset.set_replay(batches, loader.batch_size)
    loop.dataloader_iterator = _InfiniteDataloaderIterator(loader)
    return dataset


def rng_state() -> dict:
    state = dict(python=random.getstate(), numpy=np.random.get_state(),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state['python'])
    np.random.set_state(state['numpy'])
    torch.set_rng_state(state['torch'])
    if state.get('cuda') is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Makes ``--resume`` continue exactly as the uninterrupted run would have.

    mmengine restores weights, optimizers, schedulers and the iteration, then replays the data
    loader up to that iteration; it does not restore the random number generators (Python,
    NumPy, torch), nor CycleGAN's pools of past fakes (``image_buffers``), so a resumed run
    draws other augmentations, other pool images and other random regions than the run it
    continues. This hook saves both in the checkpoint's ``'resume_state'`` entry and restores
    them: the pools when training starts, the generators just after the data loader's replay
    (where the uninterrupted run was when it saved). Exact for one process; with several, the
    states saved are rank 0's. ``tools/train.py`` adds it to every config.

    A dataset that can replay cheaply (:mod:`reko_mm.datasets.replay`, as the teacher's cached
    translations and features do) is replayed without loading its costly data: the same random
    crops and flips are drawn in the same workers, so the run stays exact, and resuming at step
    N no longer reads N batches of features again. This needs the default infinite sampler;
    with another sampler, or persistent workers, the full replay stays.
    """
    priority = 'VERY_LOW'

    def __init__(self):
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = _unwrap(runner)
        pools = {}
        for domain, pool in getattr(model, 'image_buffers', {}).items():
            if getattr(pool, 'buffer_size', 0) > 0:
                pools[domain] = dict(img_num=pool.img_num,
                                     images=[t.detach().cpu() for t in pool.image_buffer])
        checkpoint['resume_state'] = dict(iter=checkpoint['meta']['iter'], rng=rng_state(),
                                          image_buffers=pools)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('resume_state')

    def before_train(self, runner) -> None:
        state, self._pending = self._pending, None
        if not state or runner.iter == 0 or runner.iter != state['iter']:
            return  # a fresh run, or load_from: nothing to continue
        model = _unwrap(runner)
        device = next(model.parameters()).device
        for domain, saved in state['image_buffers'].items():
            pool = model.image_buffers[domain]
            pool.img_num = saved['img_num']
            pool.image_buffer = [t.to(device) for t in saved['images']]
        loop = runner.train_loop
        problem = data_seed_problem(loop.dataloader, runner.seed)
        if problem:
            print_log(f'ExactResumeHook: {problem}', logger='current', level=logging.WARNING)
        cheap = _replay_cheaply(loop, runner.iter)
        loop.dataloader_iterator = _RestoreBeforeItem(
            loop.dataloader_iterator, runner.iter, lambda: set_rng_state(state['rng']), cheap)
        how = ('cheaply: their random crops and flips drawn, their costly data not loaded'
               if cheap is not None else 'with all their data')
        print_log(f'ExactResumeHook: restored {len(state["image_buffers"])} image pools; the '
                  f'random generators are restored after the data loader replays {runner.iter} '
                  f'batches, {how}', logger='current')
