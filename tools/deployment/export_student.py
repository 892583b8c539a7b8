"""Export a (ReKo) student: plain MMagic checkpoint, ONNX and TorchScript, each checked.

    python tools/deployment/export_student.py CONFIG CHECKPOINT --out-dir DIR
        [--formats pth onnx torchscript] [--opset 17] [--num-images 4] [--cfg-options k=v ...]

Each export is run on the first --num-images real test images of the config's test set
(ONNX through onnxruntime on CPU) and the max abs difference to PyTorch is printed. The
generators take (N, 3, H, W) in [-1, 1], BGR for MMagic's CycleGAN / Pix2Pix configs (the
order they were trained on), and return the same; see docs/deployment.md.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

import reko_mm  # noqa: E402,F401  (registers components, applies compatibility fixes)
from mmengine.config import DictAction  # noqa: E402

from reko_mm.deployment import export_student  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--formats', nargs='+', default=['pth', 'onnx', 'torchscript'],
                        choices=['pth', 'onnx', 'torchscript'])
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--num-images', type=int, default=4,
                        help='real test images the exports are checked on')
    parser.add_argument('--tolerance', type=float, default=1e-3,
                        help='fail when an export differs from PyTorch by more than this')
    parser.add_argument('--overwrite', action='store_true', help='replace existing files')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='e.g. test_dataloader.dataset.data_root=data/facades')
    args = parser.parse_args()
    report = export_student(args.config, args.checkpoint, args.out_dir, args.formats,
                            args.opset, args.num_images, args.cfg_options, args.overwrite)
    worst = {path: r['max_abs_diff'] for path, r in report.items()
             if r['max_abs_diff'] > args.tolerance}
    if worst:
        sys.exit(f'exports differ from PyTorch by more than {args.tolerance}: {worst}')
    print(f'all {len(report)} exports match PyTorch within {args.tolerance}')


if __name__ == '__main__':
    main()
