"""On a CUDA GPU (``pytest -m cuda``; skipped elsewhere): a distillation step gives the CPU's
losses, the teacher moves with the student, mixed precision keeps fp32 master weights, and the
ReKo loss selects the same regions on both devices. tools/misc/gpu_check.sh runs these."""
import copy

import pytest
import torch

import reko_mm  # noqa: F401
from mmengine.optim import OptimWrapper, OptimWrapperDict

from reko_mm.engine import AutocastOptimWrapper
from reko_mm.losses import RegionAwareDistillLoss
from test_teacher_student import batch, build, cyclegan_cfg, reko_cfg, step, teacher_ckpt

pytestmark = pytest.mark.cuda


@pytest.fixture
def exact_cuda():
    """fp32 convolutions and matrix products on the GPU (no TF32), as on the CPU."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def sgd(model, wrapper=OptimWrapper, **kwargs):
    def wrap(params):
        return wrapper(optimizer=torch.optim.SGD(list(params), lr=0.01), **kwargs)
    return OptimWrapperDict(generators=wrap(model.generators.parameters()),
                            discriminators=wrap(model.discriminators.parameters()))


def test_reko_step_on_cuda_gives_the_cpu_losses_and_update(tmp_path, exact_cuda):
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    cpu = build(reko_cfg(cyclegan_cfg(8), ckpt, 16))
    gpu = copy.deepcopy(cpu).cuda()
    assert all(p.is_cuda for p in gpu.teacher.parameters())
    assert all(p.is_cuda for p in gpu.distill.parameters())
    data = batch(size=64)
    logs = [step(m, copy.deepcopy(data), sgd(m)) for m in (cpu, gpu)]
    assert set(logs[0]) == set(logs[1]) and any(k.startswith('loss_reko') for k in logs[0])
    for key, value in logs[0].items():
        assert float(logs[1][key]) == pytest.approx(float(value), rel=1e-4, abs=1e-5), key
    for (name, a), b in zip(cpu.generators.state_dict().items(),
                            gpu.generators.state_dict().values()):
        assert torch.allclose(a, b.cpu(), rtol=1e-4, atol=1e-5), name


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_amp_step_on_cuda_keeps_fp32_weights(tmp_path, dtype):
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    model = build(reko_cfg(cyclegan_cfg(8), ckpt, 16)).cuda()
    seen = []
    first_conv = next(m for m in model.generators['a'].modules()
                      if isinstance(m, torch.nn.Conv2d))
    first_conv.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    # a fixed loss scale: the first step of a dynamic one (2**16) may be skipped as overflowed
    opt = sgd(model, AutocastOptimWrapper, dtype=dtype, loss_scale=256.0)
    before = [p.detach().clone() for p in model.generators.parameters()]
    log = step(model, batch(size=64), opt)
    assert dtype in seen
    assert all(torch.isfinite(torch.as_tensor(float(v))) for v in log.values())
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.generators.parameters()))


def test_region_aware_loss_selects_the_same_regions_on_cuda(exact_cuda):
    torch.manual_seed(0)
    loss = RegionAwareDistillLoss(student_channels=8, teacher_channels=16, num_regions=32)
    s, t = torch.randn(2, 8, 16, 16), torch.randn(2, 16, 16, 16)
    gpu = copy.deepcopy(loss).cuda()
    assert torch.equal(loss.select_regions(s, t, None),
                       gpu.select_regions(s.cuda(), t.cuda(), None).cpu())
    assert float(gpu(s.cuda(), t.cuda())) == pytest.approx(float(loss(s, t)), rel=1e-5)


def test_teacher_translation_on_cuda_matches_the_cpu(tmp_path, exact_cuda):
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    model = build(reko_cfg(cyclegan_cfg(8), ckpt, 16))
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        cpu = model.teacher.translate('b', x, exact=True)
        gpu = model.cuda().teacher.translate('b', x.cuda(), exact=True).cpu()
    assert torch.allclose(cpu, gpu, atol=1e-5)


def test_student_init_reapplied_on_the_gpu(tmp_path):
    """mmengine's Runner moves the model to the GPU, then calls init_weights, which slices the
    student from its teacher again: the same student as on the CPU."""
    ckpt, _ = teacher_ckpt(tmp_path, cyclegan_cfg(16))
    cfg = dict(reko_cfg(cyclegan_cfg(8), ckpt, 16), student_init=dict(rule='norm_scale'))
    cpu = build(cfg)
    gpu = build(cfg).cuda()
    gpu.init_weights()
    for (name, a), b in zip(cpu.generators.state_dict().items(),
                            gpu.generators.state_dict().values()):
        assert torch.equal(a, b.cpu()), name
