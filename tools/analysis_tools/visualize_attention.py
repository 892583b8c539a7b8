"""Fig. 1 of the paper: an image, the teacher's attention map and the K regions ReKo distils.

    python tools/analysis_tools/visualize_attention.py CONFIG CKPT IMAGE OUT.png \
        [--domain striped] [--layer model.11] [--mask MASK.png] [--pair-half B]

CONFIG / CKPT are a ReKo config and a checkpoint of it (or of its teacher config); the teacher
generator of ``--domain`` (default: the model's default domain) translates IMAGE, its feature
at ``--layer`` gives the attention, and the loss's region selector picks the K regions.
With ``--mask`` (the synthetic set writes them) it also prints the share of selected regions on
the objects. For a pix2pix pair file (A and B side by side), ``--pair-half`` names the half that
is the input.
"""
import argparse


import cv2

import reko_mm  # noqa: F401
from mmengine.config import DictAction
from reko_mm.apis import build_model_from_config
from reko_mm.visualization import attention_figure


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='ReKo student checkpoint or teacher checkpoint')
    parser.add_argument('image')
    parser.add_argument('out', help='output PNG')
    parser.add_argument('--domain', help='target domain of the translation')
    parser.add_argument('--layer', help='distilled layer (default: the last one)')
    parser.add_argument('--mask', help='object mask of IMAGE, to score the selection')
    parser.add_argument('--pair-half', choices=['A', 'B'],
                        help='IMAGE is a pix2pix pair (A | B side by side): translate this half')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value')
    args = parser.parse_args(argv)
    img = cv2.imread(args.image, cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f'cannot read image {args.image}')
    if args.pair_half:
        h, w = img.shape[:2]
        if w != 2 * h:
            raise ValueError(f'--pair-half: {args.image} is {w}x{h}, not a pair of two square '
                             'halves side by side; leave --pair-half out for a single image')
        img = img[:, :h] if args.pair_half == 'A' else img[:, h:]
    mask = None
    if args.mask:
        mask = cv2.imread(args.mask, cv2.IMREAD_GRAYSCALE)
        if mask is None:
            raise FileNotFoundError(f'cannot read --mask {args.mask}')
        mask = mask > 127
    model = build_model_from_config(args.config, args.checkpoint, args.cfg_options)
    fig, stats = attention_figure(model, img, domain=args.domain, layer=args.layer, mask=mask)
    cv2.imwrite(args.out, fig)
    print(f'wrote {args.out}: K={stats["k"]} regions of a {stats["h"]}x{stats["w"]} map at '
          f'{stats["layer"]}' + (f'; {stats["on_object"]:.0%} of them on the objects, which '
                                 f'cover {stats["object_share"]:.0%} of the image'
                                 if mask is not None else ''))


if __name__ == '__main__':
    main()
