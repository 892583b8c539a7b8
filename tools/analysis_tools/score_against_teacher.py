"""Score a teacher-target student against its teacher on held-out photos, at several sizes.

    python tools/analysis_tools/score_against_teacher.py \
        configs/reko/vintagify/vintagify_7x_nokd_fast.py work_dirs/x/iter_5000.pth \
        --teacher-ckpt checkpoints/vintagify_vintage.pth --photos data/photos/test \
        [--sizes 256 512] [--num 200] [--json scores.json] [--grid side_by_side.jpg [--zoom 4]]
        [--teacher-cache work_dirs/teacher_translations] [--cfg-options ...]

Per size: PSNR / SSIM / KID of the student's images to the teacher's, and of the unchanged photo
(the bar to pass); the fine detail of each over the teacher's (mean absolute Laplacian: under 1
smoother than the teacher, over 1 more detailed); and the teacher against itself across the sizes.
What it does: reko_mm/benchmarks/teacher_scores.py.
"""
import argparse
import json

from mmengine.config import DictAction

from reko_mm.benchmarks.teacher_scores import scores_against_teacher


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--teacher-ckpt', required=True)
    parser.add_argument('--photos', required=True, help='a folder of held-out photos')
    parser.add_argument('--sizes', type=int, nargs='+', default=[256, 512])
    parser.add_argument('--num', type=int, default=200,
                        help='how many photos, spread evenly over the sorted folder')
    parser.add_argument('--json', help='also write the scores to this JSON file')
    parser.add_argument('--grid', help='also write photo | teacher | student of 6 of the photos, '
                        'at the smallest size, to this image file')
    parser.add_argument('--zoom', type=int, default=1,
                        help="the grid shows each image's centre, 1/ZOOM of its side, enlarged "
                        'ZOOM times (nearest neighbour): texture, grain and checkerboards show')
    parser.add_argument('--teacher-cache', help="a folder that keeps the teacher's translations "
                        'for the next student scored against the same teacher and photos')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    if args.zoom < 1:
        parser.error(f'--zoom is a whole number from 1 (1: no zoom), got {args.zoom}')
    if args.zoom != 1 and not args.grid:
        parser.error('--zoom enlarges the side-by-side picture: give --grid FILE too')
    out = scores_against_teacher(args.config, args.checkpoint, args.teacher_ckpt, args.photos,
                                 args.sizes, args.num, args.cfg_options,
                                 log=lambda line: print(line, flush=True), grid=args.grid,
                                 teacher_cache=args.teacher_cache, grid_zoom=args.zoom)
    print('| size | images | student PSNR | SSIM | KID | detail | unchanged photo PSNR | SSIM | '
          'KID | detail |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for size in args.sizes:
        r = out[str(size)]
        print(f"| {size} | {r['images']} | {r['psnr']:.2f} | {r['ssim']:.3f} | {r['kid']:.4f} | "
              f"{r['detail']:.2f} | {r['identity_psnr']:.2f} | {r['identity_ssim']:.3f} | "
              f"{r['identity_kid']:.4f} | {r['identity_detail']:.2f} |")
    if 'teacher_across_sizes' in out:
        a = out['teacher_across_sizes']
        print(f"teacher at {a['sizes'][0]} against its {a['sizes'][1]} output downscaled: "
              f"PSNR {a['psnr']:.2f} dB, SSIM {a['ssim']:.3f}")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
