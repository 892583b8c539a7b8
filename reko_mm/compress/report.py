"""``report.html`` (one self-contained file: its pictures are embedded) and ``report.json`` (the
same figures) of a ``tools/compress.py`` run."""
import base64
import html
import json
import os.path as osp
import tempfile
from typing import Tuple

CURVE_KEY = 'teacher/psnr'


def _embed(path: str, mime: str) -> str:
    with open(path, 'rb') as f:
        return f'data:{mime};base64,' + base64.b64encode(f.read()).decode()


def _curve_png(figures: dict, out_png: str) -> str:
    from ..benchmarks.report import curve_plot
    points = [(it, m[CURVE_KEY]) for it, m in figures['curve'] if CURVE_KEY in m]
    unchanged = figures['scores']['identity_psnr']
    lines = {'student (validation)': points}
    if points:
        lines['the unchanged image (held-out test)'] = [(0, unchanged), (points[-1][0], unchanged)]
    return curve_plot([('PSNR to the teacher, held-out images', lines)], 'PSNR (dB)', out_png,
                      styles={'the unchanged image (held-out test)': dict(linestyle='--')})


def _rows(pairs) -> str:
    return '\n'.join(f'<tr><th>{html.escape(str(k))}</th>' +
                     ''.join(f'<td>{html.escape(str(c))}</td>' for c in cells) + '</tr>'
                     for k, *cells in pairs)


def verdict(figures: dict) -> str:
    s = figures['scores']
    if figures['beats_unchanged']:
        return (f"The student is closer to the teacher than the unchanged image is "
                f"({s['psnr']:.2f} against {s['identity_psnr']:.2f} dB PSNR, {s['ssim']:.3f} "
                f"against {s['identity_ssim']:.3f} SSIM). Look at the pictures before you ship it.")
    return (f"The student does NOT beat returning the image unchanged ({s['psnr']:.2f} against "
            f"{s['identity_psnr']:.2f} dB PSNR, {s['ssim']:.3f} against "
            f"{s['identity_ssim']:.3f} SSIM): train longer (--iters or --minutes; the released "
            'students saw 24,000 images) or on more images before using it.')


def html_text(figures: dict, curve_png: str) -> str:
    f, s, z = figures, figures['scores'], figures['sizes']
    t, st = z['teacher'], z['student']
    lat, ex = f['latency'], f['export']
    size = f['image_size']
    table = _rows([
        ('', 'teacher', 'student', 'ratio'),
        ('width (base channels)', t['width'], st['width'], ''),
        ('parameters (M)', f"{t['params_m']:.3f}", f"{st['params_m']:.3f}",
         f"{z['param_ratio']:.2f}x"),
        (f'GFLOPs at {size}x{size}', f"{t['gflops']:.2f}", f"{st['gflops']:.2f}",
         f"{z['flop_ratio']:.2f}x"),
        (f"latency, {lat['runtime']} (ms, {size}x{size}, 2 threads)",
         f"{lat['teacher_ms']:.1f}", f"{lat['student_ms']:.1f}", f"{lat['speedup']:.2f}x"),
        (f"exported student: {ex['runtime']}, {ex['graph']} graph (ms, {f['threads']} "
         'threads)', '',
         f"{ex['median_ms']:.1f}", '')])
    def detail(key):  # scored before the detail was measured: '-'
        return f'{s[key]:.2f}' if key in s else '-'
    scores = _rows([
        ('', 'PSNR (dB)', 'SSIM', 'KID', "detail (the teacher's: 1)"),
        ('student', f"{s['psnr']:.2f}", f"{s['ssim']:.3f}", f"{s['kid']:.4f}", detail('detail')),
        ('the unchanged image', f"{s['identity_psnr']:.2f}", f"{s['identity_ssim']:.3f}",
         f"{s['identity_kid']:.4f}", detail('identity_detail'))])
    d = f['data']
    run = _rows([
        ('generator', f"{f['generator']} ({f['teacher']['description']})"),
        ('data', f"{d['source']}: {d['layout']} layout, {d['train']} training and {d['test']} "
                 f"held-out images ({d['held_out']})"),
        ('training', f"{f['iterations']} iterations of {f['batch']} images at {size}x{size} "
                     f"({f['images_seen']} images), {f['precision']}, method {f['method']}, "
                     f"seed {f['seed']}"),
        ('config', f['config']), ('checkpoint', f['checkpoint']),
        ('exported student', ex['path']), ('plain MMagic checkpoint', ex['plain_checkpoint']),
        ('machine', f"{f['cpu']}, {f['threads']} threads, torch {f['torch']}"),
        ('wall time of this command', f"{f['minutes']:.1f} min" +
         (' (resumed or reused: earlier commands not counted)' if f['resumed'] else ''))])
    c = f['commands']
    commands = '\n'.join(['# all of it, resumed where it stopped', c['compress'],
                          '# its steps: train and test, score, export', *c['train'], c['score'],
                          c['export']])
    grid_width = max(3 * size, 768)  # small images are shown enlarged
    return f'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>reko-mm compression report: {html.escape(osp.basename(f['generator']))}</title>
<style>
body {{ font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: left; }}
img {{ max-width: 100%; border: 1px solid #ccc; }}
pre {{ background: #f4f4f4; padding: 1em; white-space: pre-wrap; word-break: break-all; }}
.verdict {{ font-weight: bold; }}
</style></head><body>
<h1>Compression report: {html.escape(osp.basename(f['generator']))}</h1>
<p class="verdict">{html.escape(verdict(f))}</p>
<h2>Held-out images: photo | teacher | student</h2>
<img id="grid" width="{grid_width}" alt="side by side: photo, teacher, student"
 src="{_embed(f['grid'], 'image/jpeg')}">
<h2>Scores against the teacher ({s['images']} held-out images, {size}x{size})</h2>
<table id="scores">{scores}</table>
<p>Detail: the fine detail of any kind (edges, texture, grain, artefacts; mean absolute
Laplacian) of the images over the teacher's. Under 1 the student is smoother than the teacher,
over 1 more detailed; look at the picture for which kind.</p>
<h2>Size and speed</h2>
<table id="sizes">{table}</table>
<h2>Validation during training</h2>
<img id="curve" alt="validation curve" src="{_embed(curve_png, 'image/png')}">
<h2>The run</h2>
<table id="run">{run}</table>
<h2>Reproduce</h2>
<pre>{html.escape(commands)}</pre>
</body></html>
'''


def write_report(figures: dict, work_dir: str) -> Tuple[str, str]:
    """Write ``report.html`` and ``report.json`` into ``work_dir``; returns their paths."""
    with tempfile.TemporaryDirectory() as tmp:
        text = html_text(figures, _curve_png(figures, osp.join(tmp, 'curve.png')))
    out_html, out_json = osp.join(work_dir, 'report.html'), osp.join(work_dir, 'report.json')
    with open(out_html, 'w') as f:
        f.write(text)
    with open(out_json, 'w') as f:
        json.dump(dict(figures, verdict=verdict(figures)), f, indent=1, default=str)
    return out_html, out_json
