#!/usr/bin/env bash
# Packs what a bare GPU host lacks to build and run slipstream's GPU checks (bench/gpu/run.sh) into
# one folder that the device tool carries with the working tree (ignored by git):
#   headers/    nlohmann/json.hpp and CLI/CLI.hpp, copied from this machine's packages
#   googletest/ GoogleTest's sources (Debian's libgtest-dev ships them), built there for the GPU tests
#   wheels/     open_clip_torch and the pure-Python packages it needs that the GPU image lacks
#               (ftfy, wcwidth), for the reference step (bench/step/open_clip_step.py)
#   prebuilt/   with --prebuilt BUILD: slip_bench and test_gpu from a core build made here
#               (cmake -DSLIPSTREAM_CORE_ONLY=ON), tried first there (same LibTorch: 2.11.0+cu130)
#   scripts/pack_gpu_build.sh [DIR] [--prebuilt BUILD] [--no-wheels]     (default DIR: .gpu-build)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.gpu-build" prebuilt="" wheels=1
while (($#)); do
  case "$1" in
    --prebuilt) prebuilt="$2"; shift 2 ;;
    --no-wheels) wheels=0; shift ;;
    *) dir="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; shift ;;
  esac
done
python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
fail() { echo "[pack] error: $*" >&2; exit 1; }
for path in /usr/include/nlohmann/json.hpp /usr/include/CLI/CLI.hpp /usr/src/googletest/CMakeLists.txt; do
  [[ -f "$path" ]] || fail "$path is missing (scripts/setup.sh installs nlohmann-json3-dev, libcli11-dev and libgtest-dev)"
done
rm -rf "$dir"
mkdir -p "$dir/headers" "$dir/wheels"
cp -r /usr/include/nlohmann /usr/include/CLI "$dir/headers/"
cp -r /usr/src/googletest "$dir/googletest"
# The GPU image's python3 is 3.12; these wheels are pure Python (py3-none-any).
if ((wheels)); then
  "$python" -m pip download -q --no-deps --only-binary=:all: -d "$dir/wheels" \
    open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth==0.9.4 || fail "pip could not download the reference's wheels"
fi
if [[ -n "$prebuilt" ]]; then
  mkdir -p "$dir/prebuilt"
  cp "$prebuilt/slip_bench" "$prebuilt/tests/test_gpu" "$dir/prebuilt/"
fi
grep -qx "/$(basename "$dir")/" "$root/.gitignore" 2>/dev/null || echo "[pack] note: add /$(basename "$dir")/ to .gitignore"
echo "[pack] $dir: $(du -sh "$dir" | cut -f1) ($(ls "$dir" | tr '\n' ' '))"
