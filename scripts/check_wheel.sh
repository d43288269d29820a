#!/usr/bin/env bash
# Build a wheel the way a user's `pip wheel .` does, check it with auditwheel, install it in a
# fresh virtual environment whose PATH has no compiler, and run the smoke test there.
#
#   scripts/check_wheel.sh [OUT_DIR]          (default: dist/)
#
# The wheel is built from the committed files only (`git archive HEAD`), so a file that is
# needed but not committed, or a stale development build lying in python/ctxengine, shows up
# here rather than in a user's install. CUDA is off (CTXENGINE_CUDA=OFF), as in the wheels
# cibuildwheel makes. Needs: git, a C++17 compiler, network access to PyPI (or a pip cache).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/dist}" && cd "${1:-$root/dist}" && pwd)
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

step "source: git archive HEAD ($(git -C "$root" rev-parse --short HEAD))"
git -C "$root" archive HEAD | tar -x -C "$work" && mkdir -p "$work/src" && \
  (cd "$work" && find . -mindepth 1 -maxdepth 1 ! -name src -exec mv {} src/ \;)

step "pip wheel ."
start=$(date +%s)
CTXENGINE_CUDA=OFF "$py" -m pip wheel --no-deps --wheel-dir "$work/wheel" "$work/src"
wheel=$(ls "$work"/wheel/ctxengine-*.whl)
echo "built $(basename "$wheel") ($(du -h "$wheel" | cut -f1)) in $(( $(date +%s) - start )) s"
"$py" -m zipfile -l "$wheel" | awk '{print $1}' | grep -E '\.so$|py.typed$|__init__.py$' | head -20

step "auditwheel show"
"$py" -m auditwheel --version >/dev/null 2>&1 || "$py" -m pip install -q auditwheel
"$py" -m auditwheel show "$wheel" | tee "$work/audit.txt"
# The verdict is wrapped over lines: join them before looking for it.
tag=$(tr '\n' ' ' < "$work/audit.txt" | grep -o 'consistent with the following platform tag: *"[^"]*"' \
  | sed 's/.*"\(.*\)"/\1/') || true
case "$tag" in
  manylinux_*) echo "auditwheel: consistent with $tag" ;;
  *) echo "check_wheel: auditwheel does not accept the wheel" >&2; exit 1 ;;
esac

step "a fresh virtual environment, no compiler on PATH"
"$py" -m venv "$work/venv"
# Every program on PATH except compilers (and the virtual environment this runs in), linked
# into one folder; the fresh environment's programs come first.
mkdir "$work/bin"
IFS=: read -ra dirs <<< "$PATH"
for d in "${dirs[@]}"; do
  [ -d "$d" ] && [ "$d" != "${VIRTUAL_ENV:-/nonexistent}/bin" ] || continue
  for f in "$d"/*; do
    name=${f##*/}
    case "$name" in
      cc|c++|cpp|gcc*|g++*|clang*|*-gcc*|*-g++*|*-cc|*-c++|nvcc|icc|icx|tcc) continue ;;
    esac
    [ -x "$f" ] && [ ! -e "$work/bin/$name" ] && ln -s "$f" "$work/bin/$name"
  done
done
export PATH="$work/venv/bin:$work/bin"
for cc in cc gcc g++ c++ clang nvcc; do
  if command -v "$cc" >/dev/null; then echo "check_wheel: $cc is still on PATH" >&2; exit 1; fi
done
start=$(date +%s)
"$work/venv/bin/python" -m pip install -q --upgrade pip
"$work/venv/bin/python" -m pip install -q --only-binary=:all: "$wheel"
echo "installed with its dependencies (wheels only) in $(( $(date +%s) - start )) s"

step "smoke test"
(cd "$work" && "$work/venv/bin/python" "$work/src/scripts/wheel_smoke.py")
cp "$wheel" "$out/"
echo
echo "check_wheel: OK: $out/$(basename "$wheel")"
