"""A cheap replay of the batches a resumed run has already trained.

On ``--resume`` mmengine's ``IterBasedTrainLoop`` draws every batch trained before the checkpoint
again and throws it away, so that the sampler and the data workers' random generators stand
where the uninterrupted run's stood. For a dataset whose samples are costly to load (the
teacher's cached features: 6 MiB an image at 256x256) that replay reads the whole run's data
again: tens of minutes at a few thousand steps.

A dataset with :class:`CheapReplayMixin` replays without the costly part and stays exact: each
replayed sample still runs its whole pipeline (every random crop and flip is drawn, in the same
worker, in the same order), but with ``results['replay'] = True``, which tells a loader that only
the shapes of what it loads are needed (:class:`~reko_mm.datasets.LoadTeacherFeatures` then reads
the arrays' headers, not their data), and the sample is handed on as a small marker instead of
its tensors. :class:`~reko_mm.engine.ExactResumeHook` switches this on for the number of batches
to replay, checks that exactly those come back as markers, and restores the main process's
random generators after them.
"""
from typing import Optional

from torch.utils.data import get_worker_info

REPLAYED = 'reko_replayed'  # the key of a replayed sample's marker


def is_replayed(batch) -> bool:
    """Whether a collated batch is made of :class:`CheapReplayMixin`'s markers."""
    return isinstance(batch, dict) and REPLAYED in batch


class CheapReplayMixin:
    """For a ``BaseDataset`` read by a ``DataLoader`` whose workers take batches in turn (the
    PyTorch loader does with ``in_order=True``, its default, while no worker runs out of
    samples, as with an infinite sampler).

    ``set_replay(batches, batch_size)`` before the data loader's iterator is made: the first
    ``batches`` batches it hands out are markers made cheaply; later ones are the samples.
    A worker knows which batch a sample belongs to from how many it has made: worker ``w`` of
    ``W`` makes batches ``w, w + W, w + 2W, ...``, ``batch_size`` samples each.
    """
    _replay: Optional[tuple] = None
    _made = 0
    _replaying = False

    def set_replay(self, batches: Optional[int], batch_size: int = 1) -> None:
        """Replay ``batches`` batches of ``batch_size`` cheaply (None: stop replaying)."""
        self._replay = None if not batches else (int(batches), int(batch_size))
        self._made = 0

    def __getitem__(self, idx: int):
        replay = self._replay
        if replay is None:
            return super().__getitem__(idx)
        batches, batch_size = replay
        worker = get_worker_info()
        w, num_workers = (worker.id, worker.num_workers) if worker is not None else (0, 1)
        batch = w + num_workers * (self._made // batch_size)
        self._made += 1  # a sample, not a pipeline call: a retried sample counts once
        self._replaying = batch < batches
        try:
            return super().__getitem__(idx)
        finally:
            self._replaying = False

    def prepare_data(self, idx: int):
        if not self._replaying:
            return super().prepare_data(idx)
        data_info = self.get_data_info(idx)
        data_info['replay'] = True
        # None still means "draw another sample", as in the run being replayed
        return None if self.pipeline(data_info) is None else {REPLAYED: True}
