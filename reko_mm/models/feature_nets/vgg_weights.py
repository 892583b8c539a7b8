"""torchvision VGG ``features`` with ImageNet weights from a local file, frozen."""
import os.path as osp

import torch.nn as nn

from ...utils.state_dict import diff_state


def load_vgg_features(arch: str, depth: int, weights: str, owner: str) -> nn.Sequential:
    """torchvision's VGG ``features`` with ImageNet weights from a local file.

    Nothing is downloaded. The network is frozen, in eval mode, with out-of-place ReLUs (gradients
    flow to the input through it).

    Args:
        arch (str): ``'vgg16'`` or ``'vgg19'``.
        depth (int): how many ``features`` layers to keep.
        weights (str): a torchvision state dict of that network (e.g. ``vgg19-dcbb9e9d.pth``) or
            just its ``features``.
        owner (str): names the caller in the messages.

    Returns:
        nn.Sequential

    Raises:
        FileNotFoundError: ``weights`` does not exist.
        ValueError: it is not that network's state dict (the first missing or mismatched keys).
    """
    if not osp.isfile(weights):
        raise FileNotFoundError(f'{owner} weights file not found: {osp.abspath(weights)}')
    import torchvision
    features = getattr(torchvision.models, arch)(weights=None).features[:depth]
    for m in features:
        if isinstance(m, nn.ReLU):
            m.inplace = False
    from ...utils.safe_load import safe_torch_load
    state = safe_torch_load(weights, what=f'{owner} weights file')
    state = state.get('state_dict', state)
    if any(k.startswith('features.') for k in state):
        state = {k[len('features.'):]: v for k, v in state.items() if k.startswith('features.')}
    own = features.state_dict()
    missing, _, wrong = diff_state(own, state)  # other entries (classifier) are not read
    if missing or wrong:
        raise ValueError(
            f'{weights} is not a torchvision {arch.upper()} state dict: missing {missing[:4]}, '
            f'shape mismatch {[(k, tuple(state[k].shape)) for k in wrong[:4]]}')
    features.load_state_dict({k: state[k] for k in own}, strict=True)
    return features.requires_grad_(False).eval()
