"""Clean shutdown of a distributed run."""
import torch.distributed as dist


def close_process_group() -> None:
    """Wait for every rank, then destroy the default process group (no-op when not distributed).

    mmengine's runner leaves the group alive until the interpreter exits. With the gloo backend
    its worker threads can then be torn down during interpreter finalisation, which aborts a
    rank that had finished its work ("terminate called without an active exception", exit code
    -6), and ``torch.distributed.run`` reports the whole job as failed.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
