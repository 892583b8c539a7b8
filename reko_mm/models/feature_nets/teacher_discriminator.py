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

    ``teacher`` (the :class:`~reko_mm.models.FrozenTeacher`) and ``domains`` are filled in by the
    distiller.
    """

    def __init__(self, layers: Sequence[str] = ('model.1', 'model.3'), *, teacher,
                 domains: Sequence[str] = ()):
        super().__init__()
        self.layers = list(layers)
        self.conditional = teacher.conditional_discriminator
        self.nets = teacher.discriminators(domains, reader='GCC')
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
