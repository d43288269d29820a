#!/usr/bin/env bash
# Regenerates the checked-in type stubs of the native modules from the built binaries
# (python/ctxengine/_core/*.pyi and _cuda.pyi). Run after changing a binding; tests/test_lint.py
# checks that the stubs name exactly what the modules export.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
cd "$root"
for mod in ctxengine._core ctxengine._cuda; do
  if PYTHONPATH=python "$py" -c "import $mod" 2>/dev/null; then
    PYTHONPATH=python "$py" -m pybind11_stubgen "$mod" -o python --numpy-array-use-type-var
  fi
done
"$py" -m ruff format -q python/ctxengine/_core python/ctxengine/_cuda.pyi >/dev/null 2>&1 || true
"$py" -m ruff check -q --fix python/ctxengine/_core python/ctxengine/_cuda.pyi >/dev/null 2>&1 || true
