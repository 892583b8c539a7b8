"""Params and FLOPs of a config's generator(s), and the teacher/student ratios.

    python tools/analysis_tools/get_flops.py configs/reko/cyclegan_horse2zebra_7x.py \
        [--shape 256 256]

For a ReKo config it measures the student and the teacher generator; for any other MMagic
translation config, its generator. FLOPs are mmengine's count (one multiply-add = one FLOP,
the convention of the paper's tables), for one image.
"""
import argparse
import os.path as osp


import reko_mm  # noqa: F401
from mmengine.config import DictAction
from mmengine.registry import init_default_scope

from reko_mm.apis import generator_complexity, load_config, teacher_and_student_generators


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'))
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmagic'))
    rows = teacher_and_student_generators(cfg).items()
    print(f'{osp.basename(args.config)}, input {args.shape[0]}x{args.shape[1]}, per generator')
    print(f'{"network":<10} {"type":<16} {"ngf":>4} {"params (M)":>11} {"FLOPs (G)":>10}')
    results = {}
    for name, gen_cfg in rows:
        params, flops = generator_complexity(gen_cfg, args.shape)
        results[name] = (params, flops)
        print(f'{name:<10} {gen_cfg["type"]:<16} {gen_cfg.get("base_channels", ""):>4} '
              f'{params:>11.3f} {flops:>10.2f}')
    if 'teacher' in results:
        (sp, sf), (tp, tf) = results['student'], results['teacher']
        print(f'compression {tp / sp:.2f}x (params), acceleration {tf / sf:.2f}x (FLOPs)')


if __name__ == '__main__':
    main()
