"""Import a trained generator into an MMagic checkpoint a reko-mm teacher (or student) loads.

    python tools/model_converters/import_generator.py SRC OUT --domain DOMAIN
        [--key NAME] [--channel-order bgr|rgb] [--source-channel-order rgb|bgr]

SRC: a junyanz/pytorch-CycleGAN-and-pix2pix generator (``latest_net_G_A.pth``), a GAN Compression
teacher, vintagify's generator, or MMagic generator keys. The layout is detected from keys and
shapes; the conversion is verified against the source layout rebuilt in PyTorch before OUT is
written (``generators.DOMAIN.*`` plus ``meta['generator_cfg']``). Use OUT as
``model.teacher.ckpt``. See docs/distill_your_model.md.
"""
import argparse
import sys

from reko_mm.converters import CHANNEL_ORDERS, GeneratorImportError, import_generator


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='generator state dict (.pth)')
    parser.add_argument('out', help='MMagic checkpoint to write (refused if it exists)')
    parser.add_argument('--domain', required=True,
                        help="the domain the generator translates to, as named in the config "
                        "you will train (CycleGAN's G_A, A -> B, is domain B)")
    parser.add_argument('--key', help='which state dict of a file that holds several')
    parser.add_argument('--channel-order', choices=CHANNEL_ORDERS, default='bgr',
                        help="channel order of the images it will be fed (MMagic's loaders: "
                        'bgr, the default)')
    parser.add_argument('--source-channel-order', choices=CHANNEL_ORDERS,
                        help='channel order the weights were trained on (default: rgb for '
                        "junyanz-style files, bgr for MMagic's)")
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        import_generator(args.src, args.out, args.domain, key=args.key,
                         channel_order=args.channel_order,
                         source_channel_order=args.source_channel_order)
    except (GeneratorImportError, FileNotFoundError, FileExistsError) as err:
        sys.exit(f'import_generator: {err}')


if __name__ == '__main__':
    main()
