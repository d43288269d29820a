#!/usr/bin/env bash
# One-shot check on a machine with an NVIDIA GPU: build ctxengine with CUDA, run every GPU test
# (tests/test_cuda.py, tests/test_attn_cuda.py) against the CPU twins, then the benchmarks with
# GPU rows (sparse attention at 128K keys; dense top-k, quick size). Run from a source checkout:
#   scripts/gpu_check.sh [OUT_DIR]
# Needs nvcc (CUDA 13), Python 3.11+ with the packages of `pip install '.[test]'`, and CuPy (or
# network access to PyPI to install cupy-cuda13x). Output: build log tail, pytest summary, the
# benchmark tables (bench/results/, and OUT_DIR when given).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}
out=${1:-}
pypath="python${PYTHONPATH:+:$PYTHONPATH}"
t0=$(date +%s)
lap() { echo "gpu_check: $1 at $(( $(date +%s) - t0 )) s"; }

nvidia-smi -L || { echo "gpu_check: no NVIDIA GPU visible (nvidia-smi -L failed)"; exit 1; }
"$py" -c "import cupy" 2>/dev/null || "$py" -m pip install -q cupy-cuda13x

# Build the CPU core and the CUDA module into build/dev (copied into python/ctxengine).
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
CTXENGINE_CMAKE_ARGS="-DCTXENGINE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=${arch:-90}" \
  PYTHON="$py" scripts/dev_build.sh 2>&1 | tail -3
lap built
PYTHONPATH=$pypath "$py" -c \
  "import ctxengine; assert ctxengine.cuda_available(), 'the CUDA module is built but sees no GPU'"

status=0
PYTHONPATH=$pypath "$py" -m pytest -q -rs -p no:cacheprovider tests/test_cuda.py \
  tests/test_attn_cuda.py || status=$?
lap tested
PYTHONPATH=$pypath timeout 300 "$py" bench/run.py --only attn || status=$?
PYTHONPATH=$pypath timeout 120 "$py" bench/run.py --only topk --quick || status=$?
lap benched
if [ -n "$out" ]; then
  for f in bench/results/results-*.md; do [ -e "$f" ] && cp "$f" "$out/"; done
fi
exit $status
