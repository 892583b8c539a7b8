"""The teacher's discriminators as frozen feature networks (GCC's discriminator terms)."""
from contextlib import ExitStack
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmagic.registry import MODELS

from ...recorders import ModuleOutputRecorder


@MODELS.register_module()
class TeacherDiscriminatorFeatures(nn.Module):
    """Features of the teacher's discriminator, one per domain, read from the teacher checkpoint.

    GCC (Li et al., NeurIPS 2021) compares the teacher discriminator's features of the student's
    image with those of the teacher's image. The discriminators are built from the student
    model's discriminator config updated with ``model.teacher.discriminator`` and loaded from the
    ``discriminators.<domain>.*`` keys of ``model.teacher.ckpt`` (a clear error if it has none);
    they are frozen and in eval mode. Gradients flow through them into the student's image (GCC's
    Pix2Pix behaviour; its CycleGAN code detaches, which makes these terms inert). For Pix2Pix the
    discriminator sees ``cat(source, image)``, as in training.

    Default layers: ``model.1`` and ``model.3`` of MMagic's ``PatchDiscriminator`` (after its
    second and fourth convolution, as GCC's ``model.3`` / ``model.9``).

    The remaining arguments are filled in by :class:`TeacherStudentGAN`.
    """

    def __init__(self, layers: Sequence[str] = ('model.1', 'model.3'), *,
                 discriminator_cfg: Optional[dict] = None,
                 teacher_state: Optional[Dict[str, torch.Tensor]] = None,
                 teacher_ckpt: str = '', domains: Sequence[str] = (),
                 conditional_discriminator: bool = False):
        super().__init__()
        if not discriminator_cfg:
            raise ValueError('TeacherDiscriminatorFeatures needs a discriminator config: the '
                             'student model has no discriminator.')
        self.layers = list(layers)
        self.conditional = conditional_discriminator
        self.nets = nn.ModuleDict()
        for domain in domains:
            prefix = f'discriminators.{domain}.'
            sub = {k[len(prefix):]: v for k, v in (teacher_state or {}).items()
                   if k.startswith(prefix)}
            if not sub:
                found = sorted({k.split('.')[1] for k in (teacher_state or {})
                                if k.startswith('discriminators.')})
                raise KeyError(
                    f'the teacher checkpoint {teacher_ckpt} has no discriminator for domain '
                    f'{domain!r} (no keys {prefix}*; it has discriminators for {found}). GCC reads '
                    "the teacher's discriminator: use a full MMagic checkpoint of the teacher "
                    '(tools/train.py saves one), not an exported generator.')
            net = MODELS.build(discriminator_cfg)
            own = net.state_dict()
            wrong = sorted(k for k in own if k in sub and sub[k].shape != own[k].shape)
            missing = sorted(set(own) - set(sub))
            if wrong or missing:
                raise ValueError(
                    f"the teacher checkpoint's discriminator {domain!r} does not match "
                    f'{discriminator_cfg}: missing {missing[:4]}, shapes '
                    f'{[(k, tuple(sub[k].shape), tuple(own[k].shape)) for k in wrong[:4]]}. Set '
                    'model.teacher.discriminator to the architecture the teacher was trained with.')
            net.load_state_dict({k: sub[k] for k in own}, strict=True)
            self.nets[domain] = net.requires_grad_(False).eval()
        self._recorders = {
            d: [ModuleOutputRecorder(net, name, owner=f'teacher discriminator {d!r}')
                for name in self.layers] for d, net in self.nets.items()}

    available = True

    def train(self, mode: bool = True):
        super().train(mode)
        self.nets.eval()
        return self

    def forward(self, images: torch.Tensor, domain: str,
                source: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """``{layer: feature}`` of the domain's teacher discriminator on ``images``."""
        x = torch.cat([source, images], 1) if self.conditional else images
        recorders = self._recorders[domain]
        with ExitStack() as stack:
            for rec in recorders:
                stack.enter_context(rec.recording())
            self.nets[domain](x)
        out = {name: rec.get() for name, rec in zip(self.layers, recorders)}
        for rec in recorders:
            rec.clear()
        return out
