#!/usr/bin/env bash
# Create (or check) the reko-mm environment: torch + torchvision, mmcv 2.1.0, mmengine,
# mmagic 1.2.0 and reko_mm itself, in a virtual environment.
#
#   bash tools/setup_env.sh            # venv at ./.venv, mmcv-lite (no compiling)
#   REKO_MMCV=full bash tools/setup_env.sh
#       # mmcv 2.1.0 full, its compiled ops built from source (about 20 minutes on 2 cores,
#       # then cached)
#   REKO_VENV=/path/to/venv bash tools/setup_env.sh
#   REKO_TORCH=keep REKO_SYSTEM_SITE_PACKAGES=1 bash tools/setup_env.sh
#       # reuse the torch + torchvision the base Python already has (e.g. a CUDA build in a
#       # GPU container) instead of installing requirements/torch.txt
#
# mmcv: CycleGAN, Pix2Pix and Pix2PixHD use mmcv's Python modules (mmcv.cnn), not its compiled
# ops, so the default is OpenMMLab's pure-Python mmcv-lite 2.1.0 (a wheel, seconds to install).
# `import mmagic.models` imports mmcv.ops for models reko-mm never builds; reko_mm.compat
# registers a stand-in for the missing mmcv._ext whose ops raise, naming the op, when called.
# REKO_MMCV=full builds mmcv 2.1.0 with its ops instead (no wheel for torch >= 2.2 on PyPI): with
# CUDA kernels when torch is a CUDA build that sees a GPU (or FORCE_CUDA=1) and nvcc is found,
# otherwise CPU kernels only; the wheel is cached in $REKO_CACHE (default
# ~/.cache/reko-mm/wheels), the two kinds under different names.
#
# Idempotent: when the stamp of the requirements matches and the stack imports, it does nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${REKO_VENV:-$ROOT/.venv}"
PYTHON="${REKO_PYTHON:-python3}"
CACHE="${REKO_CACHE:-$HOME/.cache/reko-mm/wheels}"
MMCV_VERSION=2.1.0
MMCV="${REKO_MMCV:-lite}"
REQ="$ROOT/requirements"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# ---- platform -------------------------------------------------------------------------------
[ "$(uname -s)" = Linux ] || die "unsupported OS '$(uname -s)': reko-mm's setup supports Linux x86_64 with Python 3.10 or 3.11."
[ "$(uname -m)" = x86_64 ] || die "unsupported CPU '$(uname -m)': reko-mm's setup supports Linux x86_64 (torch 2.14.1 / mmcv build tested there)."
case "$MMCV" in
  lite|full) ;;
  *) die "REKO_MMCV=$MMCV: use 'lite' (the default: mmcv-lite, no compiled ops) or 'full' (mmcv with its ops, built from source)." ;;
esac
command -v "$PYTHON" >/dev/null || die "'$PYTHON' not found: install Python 3.10 or 3.11, or set REKO_PYTHON=/path/to/python3.11."
pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "$pyver" in
  3.10|3.11) ;;
  *) die "unsupported Python $pyver: MMagic 1.2.0 + mmcv 2.1.0 need Python 3.10 or 3.11. Set REKO_PYTHON=/path/to/python3.11." ;;
esac

# ---- fast path ------------------------------------------------------------------------------
stamp_of() { { cat "$REQ"/*.txt "$ROOT/setup.py" "$0"; echo "mmcv=$MMCV"; } | sha256sum | cut -c1-16; }
STAMP_FILE="$VENV/.reko-mm-stamp"
STAMP="$(stamp_of)"
VPY="$VENV/bin/python"
check_stack() {
  REKO_CHECK_MMCV="$MMCV" "$VPY" - <<'EOF'
import os
import pkg_resources, reko_mm, mmcv, mmcv.ops, mmengine, mmagic, onnxruntime, openvino  # noqa: F401
import mmagic.models  # noqa: F401
from reko_mm.evaluation import default_inception_path
assert mmcv.__version__ == '2.1.0', mmcv.__version__
full = not getattr(mmcv._ext, '__reko_stand_in__', False)
assert full == (os.environ['REKO_CHECK_MMCV'] == 'full'), f'mmcv full: {full}'
default_inception_path()  # offline FID/KID weights present
EOF
}
if [ -f "$STAMP_FILE" ] && [ "$(cat "$STAMP_FILE")" = "$STAMP" ] && check_stack 2>/dev/null; then
  log "environment at $VENV is up to date"
  exit 0
fi

t0=$(date +%s)
# ---- venv -----------------------------------------------------------------------------------
if [ ! -x "$VPY" ]; then
  log "creating virtual environment at $VENV"
  if [ "${REKO_SYSTEM_SITE_PACKAGES:-0}" = 1 ]; then
    "$PYTHON" -m venv --system-site-packages "$VENV"
  else
    "$PYTHON" -m venv "$VENV"
  fi
fi
PIP=("$VPY" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade "pip>=23.2" >/dev/null

TORCH_REQ="$REQ/torch.txt"
if [ "${REKO_TORCH:-install}" = keep ]; then
  "$VPY" -c 'import torch, torchvision' 2>/dev/null || die "REKO_TORCH=keep: torch and torchvision do not import in $VENV (create it with REKO_SYSTEM_SITE_PACKAGES=1 to see the base Python's packages, or install them into it first)."
  TORCH_REQ="$VENV/.reko-torch-kept.txt"
  "$VPY" -c 'import torch, torchvision; print(f"torch=={torch.__version__}\ntorchvision=={torchvision.__version__}")' > "$TORCH_REQ"
  log "keeping the installed $(tr '\n' ' ' < "$TORCH_REQ")(REKO_TORCH=keep)"
else
  log "installing torch + torchvision ($(grep -E '^torch' "$REQ/torch.txt" | tr '\n' ' '))"
  if ! "$VPY" -c 'import torch, torchvision' 2>/dev/null; then
    "${PIP[@]}" install -q -r "$REQ/torch.txt"
  fi
fi
"${PIP[@]}" install -q -r "$REQ/runtime.txt" -c "$REQ/constraints.txt"

# ---- mmcv: lite (default) or full, with ops ---------------------------------------------------
installed() { "$VPY" -c "import importlib.metadata as m, sys; m.version(sys.argv[1])" "$1" 2>/dev/null; }

install_mmcv_lite() {
  if installed mmcv; then
    log "REKO_MMCV=lite: replacing the installed mmcv (full) with mmcv-lite $MMCV_VERSION"
    "${PIP[@]}" uninstall -q -y mmcv
  fi
  log "installing mmcv-lite $MMCV_VERSION (mmcv without compiled ops; REKO_MMCV=full builds them)"
  "${PIP[@]}" install -q --no-deps "mmcv-lite==$MMCV_VERSION"
}

install_mmcv_full() {
  if installed mmcv-lite; then
    log "REKO_MMCV=full: replacing mmcv-lite with mmcv $MMCV_VERSION full"
    "${PIP[@]}" uninstall -q -y mmcv-lite
  fi
  TORCH_TAG="$("$VPY" -c 'import torch; v=torch.__version__.split("+"); print(v[0] + ("-" + v[1] if len(v) > 1 else "") + ("-cuda" + torch.version.cuda if torch.version.cuda else ""))')"
  # CUDA kernels only where they can be built and used; the GPU is hidden from a CPU-kernel build
  # (mmcv's setup.py switches to CUDA whenever torch sees a GPU, and fails without nvcc).
  MMCV_OPS=cpu
  if "$VPY" -c 'import os, sys, torch; sys.exit(0 if torch.version.cuda and (torch.cuda.is_available() or os.environ.get("FORCE_CUDA") == "1") else 1)' 2>/dev/null \
     && { command -v nvcc >/dev/null || [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]; }; then
    MMCV_OPS=cuda
  fi
  WHEEL_DIR="$CACHE/mmcv-$MMCV_VERSION/torch-$TORCH_TAG-py$pyver$([ "$MMCV_OPS" = cuda ] && echo -cudaops || true)"
  if "$VPY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
    log "mmcv $MMCV_VERSION with ops already installed"
  else
    wheel="$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -z "$wheel" ]; then
      log "no cached mmcv wheel in $WHEEL_DIR: building mmcv $MMCV_VERSION with $MMCV_OPS ops from source"
      log "(about 20 minutes on 2 CPU cores; done once per machine, then cached)"
      log "installing build requirements (pip may warn that torch wants setuptools>=77: the"
      log "older setuptools is only for this build; the final step restores a newer one)"
      "${PIP[@]}" install -q -r "$REQ/build.txt"
      build="$(mktemp -d)"
      "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$build"
      tar -xzf "$build"/mmcv-"$MMCV_VERSION".tar.gz -C "$build"
      src="$build/mmcv-$MMCV_VERSION"
      # torch >= 2.5 headers require C++20; mmcv 2.1.0 hard-codes -std=c++14/c++17.
      if "$VPY" -c 'import sys, torch; sys.exit(0 if tuple(map(int, torch.__version__.split("+")[0].split(".")[:2])) >= (2, 5) else 1)'; then
        sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$src/setup.py"
      fi
      mkdir -p "$WHEEL_DIR"
      if [ "$MMCV_OPS" = cuda ]; then
        build_env=(FORCE_CUDA=1)
      else
        build_env=(FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=)
      fi
      (cd "$src" && env "${build_env[@]}" MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
          "${PIP[@]}" wheel -q --no-build-isolation --no-deps . -w "$build/dist")
      mv "$build"/dist/mmcv-*.whl "$WHEEL_DIR/"
      rm -rf "$build"
      wheel="$(ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)"
      log "cached $wheel"
    else
      log "using cached mmcv wheel $wheel"
    fi
    "${PIP[@]}" install -q --no-deps --force-reinstall "$wheel"
  fi
}

"install_mmcv_$MMCV"

# ---- mmagic and what it imports ---------------------------------------------------------------
log "installing mmagic and its import-time dependencies"
"${PIP[@]}" install -q --no-deps -r "$REQ/nodeps.txt"
# Resolved together so nothing upgrades numpy, opencv or torch past the pins.
"${PIP[@]}" install -q -r "$TORCH_REQ" -r "$REQ/runtime.txt" -r "$REQ/mmagic.txt" \
  -r "$REQ/evaluation.txt" \
  -r "$REQ/tests.txt" -c "$REQ/constraints.txt"
"${PIP[@]}" install -q --no-deps -e "$ROOT"

check_stack || die "the environment at $VENV does not import the stack; see the messages above."
echo "$STAMP" > "$STAMP_FILE"
log "environment ready at $VENV in $(( $(date +%s) - t0 )) s"
