"""reko-mm: Region-aware Knowledge Distillation for MMagic image-to-image translation GANs."""
from setuptools import find_packages, setup

setup(
    name='reko_mm',
    version='0.1.0',
    description='Region-aware knowledge distillation (ReKo) for MMagic CycleGAN / Pix2Pix',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['reko_mm', 'reko_mm.*']),
    python_requires='>=3.10,<3.12',
    # The stack (torch, mmcv full, mmengine, mmagic) is installed by tools/setup_env.sh with the
    # pins in requirements/; mmcv full has to be compiled for the local torch, which pip's resolver
    # cannot do from here.
    install_requires=['numpy<2', 'opencv-python<4.11', 'mmengine>=0.10,<0.11'],
    # tools/compress.py's command; it reads the shipped configs, so it runs from an editable
    # install of a checkout (tools/setup_env.sh installs reko-mm so)
    entry_points={'console_scripts': ['reko-compress = reko_mm.compress.cli:main']},
    license='Apache-2.0',
)
