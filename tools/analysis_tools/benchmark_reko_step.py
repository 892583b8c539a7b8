"""Cost of ReKo in a CycleGAN-7x training step, measured in one run (prints numbers).

    python tools/analysis_tools/benchmark_reko_step.py [--sizes 256 64] [--repeats 5]

For each input size it times, with the same data and models:
  student   a plain CycleGAN step of the ngf-24 student (MMagic's train_step)
  teacher   a forward of both ngf-64 teacher generators on the real images, without gradients
  reko      the TeacherStudentGAN step (student step + teacher forward + ReKo loss)
  loss      the ReKo loss alone (forward, on recorded features; its backward is in 'reko')
and prints reko / student, reko / (student + teacher) and loss / reko. Target: the second
<= 1.10 and the last < 3 %. Teacher weights are random (speed does not depend on them).
"""
import argparse
import copy
import os.path as osp
import statistics
import sys
import tempfile
import time

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import torch  # noqa: E402

import reko_mm  # noqa: E402,F401
from mmengine import MessageHub  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.optim import OptimWrapper, OptimWrapperDict  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import save_checkpoint  # noqa: E402
from mmagic.registry import MODELS  # noqa: E402
from mmagic.structures import DataSample  # noqa: E402

from reko_mm.models import student_model_cfg  # noqa: E402

CONFIG = 'configs/reko/cyclegan_horse2zebra_7x.py'


def optims(model):
    def wrap(m):
        return OptimWrapper(torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)))
    return OptimWrapperDict(generators=wrap(model.generators),
                            discriminators=wrap(model.discriminators))


def timed(fns, repeats, warmup=1):
    """Median seconds of each function, measured round-robin so drift hits all alike."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) for ts in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[256, 64])
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=5)
    args = parser.parse_args()
    root = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
    cfg = Config.fromfile(osp.join(root, CONFIG))
    init_default_scope('mmagic')
    student_cfg = student_model_cfg(cfg.model)
    teacher_cfg = copy.deepcopy(student_cfg)
    teacher_cfg['generator']['base_channels'] = 64
    tmp = tempfile.mkdtemp()
    ckpt = osp.join(tmp, 'teacher.pth')
    save_checkpoint({'state_dict': MODELS.build(teacher_cfg).state_dict()}, ckpt)
    reko_cfg = copy.deepcopy(cfg.model)
    reko_cfg['teacher']['ckpt'] = ckpt

    torch.manual_seed(0)
    student = MODELS.build(student_cfg).train()
    reko = MODELS.build(reko_cfg).train()
    reko.load_state_dict(student.state_dict(), strict=False)
    domains = student._reachable_domains
    MessageHub.get_current_instance().update_info('iter', 0)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, batch '
          f'{args.batch_size}, median of {args.repeats}; layers {reko.distill_layers}, '
          f'K={reko.distill_losses[f"{domains[0]}_0"].num_regions}')
    print(f'{"size":>5} {"student s":>10} {"teacher s":>10} {"reko s":>8} {"loss ms":>8} '
          f'{"reko/student":>13} {"reko/(s+t)":>11} {"loss share":>11}')
    for size in args.sizes:
        data = dict(inputs={f'img_{d}': [torch.rand(3, size, size) * 255
                                         for _ in range(args.batch_size)] for d in domains},
                    data_samples=[DataSample() for _ in range(args.batch_size)])
        s_opt, r_opt = optims(student), optims(reko)
        real = reko.data_preprocessor(data, True)['inputs']

        def teacher_forward():
            with torch.no_grad():
                for target in domains:
                    source = reko.get_other_domains(target)[0]
                    reko.teacher[target](real[f'img_{source}'])
        t_student, t_teacher, t_reko = timed(
            [lambda: student.train_step(data, s_opt), teacher_forward,
             lambda: reko.train_step(data, r_opt)], args.repeats)

        # the loss alone, on features recorded from one real forward
        feats = {}
        for target in domains:
            source = reko.get_other_domains(target)[0]
            reko._real_inputs = [real[f'img_{source}']]
            with torch.no_grad():
                reko.forward_train(real[f'img_{source}'], target_domain=target)
            feats[target] = reko._distill_feats[target]
        reko._real_inputs = []

        def loss_only():
            reko._distill_feats = feats
            reko.distill_loss()
        t_loss, = timed([loss_only], args.repeats)
        reko._distill_feats = {}
        print(f'{size:>5} {t_student:>10.3f} {t_teacher:>10.3f} {t_reko:>8.3f} '
              f'{1000 * t_loss:>8.2f} {t_reko / t_student:>13.2f} '
              f'{t_reko / (t_student + t_teacher):>11.3f} {t_loss / t_reko:>10.2%}')


if __name__ == '__main__':
    main()
