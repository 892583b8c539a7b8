"""torchvision VGG ``features`` with ImageNet weights from a local file, frozen."""
import os.path as osp

import torch
import torch.nn as nn

from ...utils.state_dict import diff_state


def load_vgg_features(arch: str, depth: int, weights: str, owner: str) -> nn.Sequential:
    """``torchvision.models.<arch>().features[:depth]`` loaded from ``weights``, frozen, in eval
    mode, with out-of-place ReLUs (so gradients can flow to the input through it).

    ``weights`` is a torchvision ``vgg16`` / ``vgg19`` state dict (e.g. ``vgg19-dcbb9e9d.pth``)
    or just its ``features``; nothing is downloaded. A missing file or a state dict of another
    network is refused with its path and the first missing or mismatched keys. ``owner`` names
    the caller in the messages.
    """
    if not osp.isfile(weights):
        raise FileNotFoundError(f'{owner} weights file not found: {osp.abspath(weights)}')
    import torchvision
    features = getattr(torchvision.models, arch)(weights=None).features[:depth]
    for m in features:
        if isinstance(m, nn.ReLU):
            m.inplace = False
    state = torch.load(weights, map_location='cpu', weights_only=True)
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
