#!/usr/bin/env bash
# The test suite's C++-facing tests against an AddressSanitizer + UndefinedBehaviorSanitizer
# build of the core and ctxengine._core (docs/reliability.md).
#
#   scripts/sanitize.sh                 # build, then run the test suite (SANITIZE_ARGS)
#   scripts/sanitize.sh tests/test_x.py # build, then run these pytest arguments instead
#
# Builds into build/sanitize-<compiler> (never the developer build), stages a copy of the package
# with the instrumented module in its pkg/ folder and runs pytest with the sanitizer runtime
# preloaded into the interpreter. Any sanitizer report aborts the run with a non-zero status.
# CXX picks the compiler (default clang++, else g++); CTXENGINE_SANITIZE the sanitizers
# (default address,undefined); PYTHON the interpreter (default python3).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
sanitizers=${CTXENGINE_SANITIZE:-address,undefined}
if [ -z "${CXX:-}" ]; then
  if command -v clang++ >/dev/null 2>&1; then CXX=clang++; else CXX=g++; fi
fi
build="$root/build/sanitize-$(basename "$CXX")"
start=$(date +%s)

# The whole suite except what never reaches the C++ core (lint, the CI skip rule, the CUDA
# module, which this build leaves out) and the Ray tests: the preloaded runtime would also load
# into Ray's own C++ daemons (raylet, GCS), which then miss their start-up deadline; the sharded
# index's code runs under the sanitizers in tests/test_distributed.py (in-process shards).
# Under the sanitizers it takes about 6.5 CPU-minutes (docs/reliability.md).
SANITIZE_ARGS=(tests --ignore=tests/test_lint.py --ignore=tests/test_ci_skips.py
               --ignore=tests/test_cuda.py --ignore=tests/test_distributed_ray.py)

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="$CXX" -DCTXENGINE_CUDA=OFF -DCTXENGINE_SANITIZE="$sanitizers" \
  -DPython_EXECUTABLE="$(command -v "$py")" -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" \
  >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target _core
built=$(( $(date +%s) - start ))

# A copy of the package whose only native module is the instrumented one.
rm -rf "$build/pkg"
mkdir -p "$build/pkg"
cp -r "$root/python/ctxengine" "$build/pkg/"
find "$build/pkg/ctxengine" \( -name '*.so' -o -name __pycache__ \) -prune -exec rm -rf {} +
cp "$build"/_core*.so "$build/pkg/ctxengine/"

# The runtime the interpreter must load first: clang keeps it out of shared objects; gcc's
# libasan must still come before anything else.
case "$CXX" in
  *clang*)
    if [[ "$sanitizers" == *address* ]]; then lib=libclang_rt.asan-x86_64.so
    else lib=libclang_rt.ubsan_standalone-x86_64.so; fi ;;
  *)
    if [[ "$sanitizers" == *address* ]]; then lib=libasan.so; else lib=libubsan.so; fi ;;
esac
runtime=$("$CXX" -print-file-name="$lib")
[ -f "$runtime" ] || { echo "sanitize: no $lib for $CXX (install its sanitizer runtime)" >&2; exit 1; }
# gcc's runtime resolves its __cxa_throw interceptor when it starts; the interpreter has not
# loaded libstdc++ by then, so the first C++ exception would abort. Load it up front.
case "$CXX" in *clang*) ;; *) runtime="$runtime $("$CXX" -print-file-name=libstdc++.so)" ;; esac

# detect_leaks=0: CPython and NumPy keep allocations until exit by design, which LeakSanitizer
# would report; the core's own ownership is checked by the C++ fuzzers, which run with leak
# detection on. PYTHONMALLOC=malloc puts Python objects on ASan's heap, so reads past a str's or
# an array's buffer from C++ are caught too.
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:halt_on_error=1:abort_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export PYTHONMALLOC=malloc

args=("$@")
[ ${#args[@]} -eq 0 ] && args=("${SANITIZE_ARGS[@]}")
cd "$root"
echo "sanitize: $sanitizers via $CXX; built in ${built} s; running ${#args[@]} pytest argument(s)"
set +e
LD_PRELOAD="$runtime" PYTHONPATH="$build/pkg${PYTHONPATH:+:$PYTHONPATH}" \
  "$py" -m pytest -q -p no:cacheprovider "${args[@]}"
status=$?
set -e
echo "sanitize: done in $(( $(date +%s) - start )) s (exit $status)"
exit $status
