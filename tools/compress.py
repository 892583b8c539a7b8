"""Compress a trained image-to-image generator into a student, in one command: import it,
choose the student, read the data, write the run's config, train, score against the teacher
beside the unchanged image, export in the fastest runtime here, and write report.html
(reko_mm/compress/).

    python tools/compress.py GENERATOR --data DIR [--ratio 7x|16x|4x | --width N] \\
        [--method none|reko|...] [--iters N | --minutes M] [--work-dir DIR]
"""
from reko_mm.compress.cli import main

if __name__ == '__main__':
    main()
