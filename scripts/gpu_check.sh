#!/usr/bin/env bash
# One-shot check on a machine with an NVIDIA GPU: build ctxengine with CUDA, run every GPU test
# (tests/test_cuda.py, tests/test_attn_cuda.py) against the CPU twins, then the sparse-attention
# benchmark (CPU and GPU rows). Run from a source checkout:  scripts/gpu_check.sh
# Needs nvcc (CUDA 13), Python 3.11+ with the packages of `pip install '.[test]'`, and network
# access to PyPI for CuPy unless it is installed. Output: build log tail, pytest summary, the
# benchmark table (also written to bench/results/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}

nvidia-smi -L || { echo "gpu_check: no NVIDIA GPU visible (nvidia-smi -L failed)"; exit 1; }
"$py" -c "import cupy" 2>/dev/null || "$py" -m pip install -q cupy-cuda13x

# Build the CPU core and the CUDA module into build/dev (copied into python/ctxengine).
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)
CTXENGINE_CMAKE_ARGS="-DCTXENGINE_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=${arch:-90}" \
  PYTHON="$py" scripts/dev_build.sh 2>&1 | tail -3
PYTHONPATH=python "$py" -c \
  "import ctxengine; assert ctxengine.cuda_available(), 'the CUDA module is built but sees no GPU'"

PYTHONPATH=python "$py" -m pytest -q -rs tests/test_cuda.py tests/test_attn_cuda.py
PYTHONPATH=python "$py" bench/run.py --only attn --quick
