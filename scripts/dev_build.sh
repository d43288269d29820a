#!/usr/bin/env bash
# Developer build: compiles the native modules into build/dev and copies them into
# python/ctxengine, so that `PYTHONPATH=python pytest` runs against the working tree.
# PYTHON picks the interpreter (default: python3); extra CMake flags go in CTXENGINE_CMAKE_ARGS,
# e.g. CTXENGINE_CMAKE_ARGS="-DCTXENGINE_CUDA=OFF -DCTXENGINE_BENCH=ON".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S "$root" -B "$root/build/dev" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$(command -v "$py")" -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" \
  ${CTXENGINE_CMAKE_ARGS:-} >/dev/null
cmake --build "$root/build/dev" -j "$(nproc 2>/dev/null || echo 2)"
for so in "$root"/build/dev/_core*.so "$root"/build/dev/_cuda*.so; do
  [ -e "$so" ] && cp -f "$so" "$root/python/ctxengine/"
done
echo "built: $(ls "$root"/python/ctxengine/*.so | xargs -n1 basename | tr '\n' ' ')"
