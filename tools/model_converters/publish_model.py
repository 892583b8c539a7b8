"""Publish a trained student: its generators only, in float16 by default, with the file's sha256.

    python tools/model_converters/publish_model.py SRC OUT [--fp32] [--config CONFIG]
        [--teacher-ckpt FILE]

SRC: a training checkpoint (``iter_5000.pth``). OUT gets ``generators.*`` (no discriminators, no
optimizer, no saved config text) and ``meta['reko_mm_release']`` (the config it pairs with, the
teacher file's sha256, the iteration). Like MMagic's ``publish_model.py``, the first 8 hex digits
of the sha256 are added to the name (``OUT-1a2b3c4d.pth``); refused when that file exists.
``tools/test.py``, ``tools/deployment/export_student.py`` and
``tools/analysis_tools/benchmark_latency.py`` take OUT with the student's config.
"""
import argparse
import os
import os.path as osp
import sys

from reko_mm.utils import publish_student
from reko_mm.utils.checkpoint import file_sha256


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='training checkpoint (.pth)')
    parser.add_argument('out', help='release file to write (.pth; the sha256 prefix is added)')
    parser.add_argument('--fp32', action='store_true', help='keep float32 weights')
    parser.add_argument('--config', help='the config the student pairs with (recorded)')
    parser.add_argument('--teacher-ckpt', help="the teacher file (its sha256 is recorded)")
    return parser.parse_args()


def main():
    args = parse_args()
    info = {}
    if args.config:
        info['config'] = args.config
    if args.teacher_ckpt:
        info['teacher_sha256'] = file_sha256(args.teacher_ckpt)
    stem = args.out[:-4] if args.out.endswith('.pth') else args.out
    tmp = stem + '.partial.pth'
    if osp.exists(tmp):
        os.remove(tmp)  # what an interrupted run of this tool left
    try:
        out = publish_student(args.src, tmp, fp16=not args.fp32, **info)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    final = f"{stem}-{out['sha256'][:8]}.pth"
    if osp.exists(final):
        os.remove(tmp)
        sys.exit(f'error: {final} exists (nothing was written)')
    os.rename(tmp, final)
    print(f"wrote {final}: {out['bytes'] / 2**20:.2f} MiB, sha256 {out['sha256']}"
          + (f", float16 changed a weight by at most {out['fp16_max_change']:.2e}"
             if not args.fp32 else ''))


if __name__ == '__main__':
    main()
