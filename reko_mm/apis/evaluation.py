"""What ``tools/test.py`` checks and swaps before it scores a checkpoint."""
import os.path as osp

from mmagic.utils import print_colored_log

from .configs import evaluation_config


def prepare_test_cfg(cfg, checkpoint: str):
    """Check what ``tools/test.py`` was given and turn a ReKo config into the config that
    evaluation builds (the plain student; a teacher-target student with its teacher).

    Args:
        cfg (Config): the whole config, ``--cfg-options`` applied.
        checkpoint (str): the checkpoint to score.

    Returns:
        Config: a copy to build the Runner from (``load_from`` off: the caller loads the
        checkpoint strictly).

    Raises:
        FileNotFoundError: the checkpoint is not there.
        ValueError: the config defines no test set, loop or metrics.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {osp.abspath(checkpoint)}')
    missing = [k for k in ('test_dataloader', 'test_cfg', 'test_evaluator') if not cfg.get(k)]
    if missing:
        raise ValueError(
            f'the config has no {", ".join(missing)}: it defines nothing to evaluate. Use a '
            'config with a test set and metrics (e.g. the configs/reko real-data configs), or '
            'add them with --cfg-options.')
    cfg = evaluation_config(cfg)
    cfg.load_from = None  # loaded strictly by main(), not by mmengine's lenient loader
    cfg.resume = False
    return cfg


def swap_exported_generators(model, exported, runtime=None):
    """Put exported generators in place of the model's own.

    Args:
        model: the built MMagic model.
        exported (list[str]): ``DOMAIN=FILE`` items (ONNX, OpenVINO IR, TorchScript).
        runtime (str, optional): the runtime to run them by (default: the file's own).
    """
    from ..deployment import ExportedGenerator
    domains = list(getattr(model, '_reachable_domains', []))
    for item in exported:
        domain, sep, path = item.partition('=')
        if not sep or domain not in domains:
            raise ValueError(f'--exported {item!r}: expected DOMAIN=FILE with DOMAIN one of '
                             f'the target domains of this model: {domains}')
        generator = ExportedGenerator(path, runtime)
        model.generators[domain] = generator
        print_colored_log(f'generator of {domain!r}: {path} run by {generator.runtime} '
                          '(exported; the checkpoint\'s generator is not used)')
    if runtime and not exported:
        raise ValueError('--runtime applies to --exported files; none were given')
