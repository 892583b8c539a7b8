"""Log the teacher attention map and the distilled regions during training."""
from typing import Optional

import cv2
import numpy as np
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmagic.registry import HOOKS


@HOOKS.register_module()
class AttentionVisHook(Hook):
    """Every ``interval`` training iterations, draw Fig. 1 of the paper (image | teacher
    attention | the K regions ReKo distils) for one training image and send it to the
    visualizer's backends (local files, TensorBoard, W&B, ...) as ``<name>_<domain>``.

    Args:
        interval (int): Iterations between two figures. Defaults to 1000.
        domain (str, optional): Target domain of the translation; default: the model's.
        layer (str, optional): Distilled teacher layer; default: the last one.
        fixed_input (bool): Keep the first image seen, so the figures show the same image over
            training. Defaults to True.
        name (str): Image name in the backends. Defaults to 'reko_attention'.
    """
    priority = 'LOW'

    def __init__(self, interval: int = 1000, domain: Optional[str] = None,
                 layer: Optional[str] = None, fixed_input: bool = True,
                 name: str = 'reko_attention'):
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.interval = interval
        self.domain = domain
        self.layer = layer
        self.fixed_input = fixed_input
        self.name = name
        self._image = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None):
        if not self.every_n_train_iters(runner, self.interval) or not is_main_process():
            return
        from ...visualization import attention_figure
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'teacher'):
            raise TypeError('AttentionVisHook needs a TeacherStudentGAN model (a ReKo config)')
        domain = self.domain or model._default_domain
        source = model.get_other_domains(domain)[0]
        if self._image is None or not self.fixed_input:
            img = data_batch['inputs'][f'img_{source}'][0]
            self._image = np.ascontiguousarray(img.permute(1, 2, 0).cpu().numpy()
                                               ).astype(np.uint8)  # BGR, as loaded
        was_training = model.training
        model.eval()  # no batch-norm statistics updated by this forward
        try:
            fig, _ = attention_figure(model, self._image, domain=domain, layer=self.layer)
        finally:
            model.train(was_training)
        runner.visualizer.add_image(f'{self.name}_{domain}',
                                    cv2.cvtColor(fig, cv2.COLOR_BGR2RGB),
                                    step=runner.iter + 1)
