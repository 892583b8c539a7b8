"""Fig. 5 of the paper: similarity of one student region to all teacher regions.

    python tools/analysis_tools/visualize_similarity.py CONFIG CKPT IMAGE OUT.png \
        [--domain flat] [--layer model.11] [--region ROW COL]

CONFIG / CKPT are a ReKo config and a checkpoint of it. The student and the teacher generator of
``--domain`` translate IMAGE; the student feature at the chosen region (default: the one the
teacher attends most) is compared, by cosine similarity, with the projected teacher feature at
every position. After distillation the peak sits at the same position (the positive). It also
prints the InfoNCE probability of the positive among the K selected regions.
"""
import argparse


import cv2

import reko_mm  # noqa: F401
from mmengine.config import DictAction
from reko_mm.apis import build_model_from_config
from reko_mm.visualization import similarity_figure


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a ReKo config')
    parser.add_argument('checkpoint', help='ReKo student checkpoint')
    parser.add_argument('image')
    parser.add_argument('out', help='output PNG')
    parser.add_argument('--domain', help='target domain of the translation')
    parser.add_argument('--layer', help='distilled teacher layer (default: the last one)')
    parser.add_argument('--region', type=int, nargs=2, metavar=('ROW', 'COL'),
                        help='query cell of the feature map (default: most attended)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    model = build_model_from_config(args.config, args.checkpoint, args.cfg_options,
                                    require_distill=True)
    img = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'cannot read image {args.image}')
    fig, stats = similarity_figure(model, img, args.domain, args.layer,
                                   tuple(args.region) if args.region else None)
    cv2.imwrite(args.out, fig)
    row, col = divmod(stats['pos'], stats['w'])
    print(f'wrote {args.out}: query ({row}, {col}) of the {stats["h"]}x{stats["w"]} map at '
          f'{stats["layer"]}; its own teacher position ranks {stats["rank"]} of '
          f'{stats["h"] * stats["w"]} by similarity; InfoNCE p(positive) = '
          f'{stats["p_positive"]:.3f} (chance {stats["chance"]:.3f})')


if __name__ == '__main__':
    main()
