"""Export a (ReKo) student: plain MMagic checkpoint, ONNX, TorchScript, OpenVINO IR, int8
ONNX, or the fastest of them on this machine; each checked against PyTorch.

    python tools/deployment/export_student.py CONFIG CHECKPOINT --out-dir DIR
        [--formats pth onnx torchscript openvino onnx-int8 | pth fastest [--allow-int8]]
        [--split-narrow] [--threads 1] [--opset 17] [--num-images 4] [--calib-images 16]
        [--cfg-options k=v ...]

``fastest`` makes every fp32 form (and int8 with --allow-int8), times each in the runtimes that
run it (ONNX Runtime default and tuned, OpenVINO, TorchScript) at the test images' size with
--threads, and writes the fastest, with ``<config>_deploy.json`` naming the runtime and the
timings; where a generator ends in a narrow convolution (CycleGAN's and Pix2PixHD's 7x7 to 3
channels) it times both the plain graph and the exact rewrite of that convolution, which
--split-narrow also writes in the other formats (reko_mm/deployment/rewrite.py). int8 exports
are calibrated on --calib-images training images; their difference to PyTorch is reported,
not bounded: check the metric with ``tools/test.py --exported``.

Each export is run on the first --num-images real test images of the config's test set
(ONNX through onnxruntime on CPU) and the max abs difference to PyTorch is printed. The
generators take (N, 3, H, W) in [-1, 1], BGR for MMagic's CycleGAN / Pix2Pix configs (the
order they were trained on), and return the same; see docs/deployment.md.
"""
import argparse
import sys


import reko_mm  # noqa: F401  (registers components, applies compatibility fixes)
from mmengine.config import DictAction

from reko_mm.deployment import TOLERANCE, export_student


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--formats', nargs='+', default=['pth', 'onnx', 'torchscript'],
                        choices=['pth', 'onnx', 'torchscript', 'openvino', 'onnx-int8',
                                 'fastest'])
    parser.add_argument('--allow-int8', action='store_true',
                        help='let --formats fastest pick the int8 form')
    parser.add_argument('--split-narrow', action='store_true',
                        help='export the exact rewrite of the narrow (RGB output) convolution, '
                        'faster on CPUs (fastest tries it anyway)')
    parser.add_argument('--threads', type=int, default=0,
                        help='CPU threads the fastest form is measured with (0: default)')
    parser.add_argument('--calib-images', type=int, default=16,
                        help='training images the int8 ranges are calibrated on')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--num-images', type=int, default=4,
                        help='real test images the exports are checked on')
    parser.add_argument('--tolerance', type=float, default=TOLERANCE,
                        help='fail when an fp32 export differs from PyTorch by more than this '
                        '(default: half an 8-bit grey level of the [-1, 1] output, 1/255)')
    parser.add_argument('--overwrite', action='store_true', help='replace existing files')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='e.g. test_dataloader.dataset.data_root=data/facades')
    args = parser.parse_args()
    if args.allow_int8 and 'fastest' not in args.formats:
        sys.exit('--allow-int8 applies to --formats fastest; to write an int8 export, '
                 'use --formats onnx-int8')
    if args.split_narrow and 'fastest' in args.formats:
        sys.exit('--split-narrow applies to explicit formats: --formats fastest already times '
                 'the plain and the rewritten graph and writes the faster')
    report = export_student(args.config, args.checkpoint, args.out_dir, args.formats,
                            args.opset, args.num_images, args.cfg_options, args.overwrite,
                            calib_images=args.calib_images, allow_int8=args.allow_int8,
                            threads=args.threads, split_narrow=args.split_narrow)
    worst = {path: r['max_abs_diff'] for path, r in report.items()
             if r['max_abs_diff'] > args.tolerance and not r.get('int8')}
    if worst:
        sys.exit(f'exports differ from PyTorch by more than {args.tolerance:.3g}: {worst}. fp32 '
                 'runtimes differ from PyTorch only in the order of their sums (about 1e-5); '
                 'a difference this large is a real one: please report it with the config')
    n_int8 = sum(bool(r.get('int8')) for r in report.values())
    print(f'all {len(report) - n_int8} fp32 exports match PyTorch within {args.tolerance:.3g}' +
          (f'; {n_int8} int8 export(s): check the metric with tools/test.py --exported'
           if n_int8 else ''))


if __name__ == '__main__':
    main()
