#!/usr/bin/env bash
# The test command: set-up (when needed), configure, build (Release, all cores, ccache) and ctest.
# Its exit code is the verdict. The parity tests run first and their comparisons are printed; then
# bounded libFuzzer runs (a clang build in <build>-fuzz), then the unit tests.
# Environment: SLIPSTREAM_BUILD_DIR (default build), SLIPSTREAM_VENV, CTEST_ARGS (extra ctest args).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${SLIPSTREAM_BUILD_DIR:-build}"
venv="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}"

bash scripts/setup.sh

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_BASEDIR="$root"
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
command -v ccache >/dev/null && ccache --zero-stats >/dev/null

echo "[test] configuring $build"
mkdir -p "$build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLIPSTREAM_PYTHON="$venv/bin/python" >"$build/configure.log" 2>&1 \
  || { cat "$build/configure.log"; exit 1; }
sed -n '/slipstream .* configuration/,/^-- $/p' "$build/configure.log"
echo "[test] building with $(nproc) jobs"
start=$(date +%s)
cmake --build "$build" -j "$(nproc)"
echo "[test] build took $(( $(date +%s) - start ))s"
command -v ccache >/dev/null && ccache --show-stats 2>/dev/null | grep -E "Hits|Misses" | head -3 || true

status=0
echo "[test] parity against timm, open_clip and SLIP's formulas"
(cd "$build" && ctest -L parity --output-on-failure --timeout 900 ${CTEST_ARGS:-}) || status=1
grep -h '^\[parity\]' "$build/Testing/Temporary/LastTest.log" || true
echo "[test] fuzzing the parsers (libFuzzer, bounded runs)"
fuzz="$build-fuzz"
mkdir -p "$fuzz"
if cmake -S . -B "$fuzz" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DSLIPSTREAM_BUILD_FUZZERS=ON \
     -DSLIPSTREAM_PYTHON="$venv/bin/python" >"$fuzz/configure.log" 2>&1 && cmake --build "$fuzz" -j "$(nproc)"; then
  (cd "$fuzz" && ctest --output-on-failure ${CTEST_ARGS:-}) || status=1
else
  cat "$fuzz/configure.log"; echo "[test] the fuzz targets did not build"; status=1
fi
echo "[test] unit tests"
(cd "$build" && ctest -LE parity --output-on-failure --timeout 600 ${CTEST_ARGS:-}) || status=1
# The core alone, as a bare GPU host builds it: LibTorch, and the header-only libraries and
# GoogleTest's sources from scripts/pack_gpu_build.sh instead of any package; then the GPU script
# rehearsed on the CPU (bench/gpu/run.sh --cpu-rehearsal: the GPU tests report skipped here).
echo "[test] the core as a bare GPU host builds it, and the GPU script's CPU rehearsal"
core="$build-core"
start=$(date +%s)
mkdir -p "$core"
if bash scripts/pack_gpu_build.sh "$core-pack" --no-wheels > /dev/null &&
   cmake -S . -B "$core" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLIPSTREAM_CORE_ONLY=ON -DSLIPSTREAM_PYTHON="$venv/bin/python" \
     -DSLIPSTREAM_HEADERS_DIR="$core-pack/headers" -DSLIPSTREAM_GTEST_SOURCE_DIR="$core-pack/googletest" \
     -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON \
     -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON > "$core/configure.log" 2>&1 &&
   cmake --build "$core" -j "$(nproc)" --target slip_bench test_gpu slip_run > "$core/build.log" 2>&1; then
  echo "[test] core build took $(( $(date +%s) - start ))s"
  start=$(date +%s)
  bash bench/gpu/run.sh --cpu-rehearsal --build "$core" --out "$core/gpu_rehearsal" || status=1
  echo "[test] the rehearsal took $(( $(date +%s) - start ))s"
else
  tail -30 "$core/configure.log" "$core/build.log" 2>/dev/null; echo "[test] the core-only build failed"; status=1
fi
exit $status
