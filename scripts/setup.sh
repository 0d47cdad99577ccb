#!/usr/bin/env bash
# Installs what slipstream needs to build and test, and says what it installed and what it found.
# Idempotent: a second run changes nothing and takes seconds.
#   - Debian packages: compiler tools (clang and its libFuzzer runtime for the fuzz targets), the
#     header-only libraries (CLI11, nlohmann_json; people-facing logs are plain lines, no spdlog),
#     GoogleTest, ccache, the data component's ICU, zlib, libjpeg, OpenCV and sentencepiece, and
#     WordNet's database (wordnet-base: DeCLIP's synonym replacement).
#   - A Python virtual environment (default ~/.cache/slipstream/venv, outside the checkout so CI
#     runs reuse it) with the pinned torch wheel (LibTorch) and the parity-test packages.
# Environment: SLIPSTREAM_VENV (venv path), SLIPSTREAM_SKIP_APT=1 (do not touch system packages).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}"
requirements="$root/scripts/requirements-parity.txt"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$HOME/.cache/pip}"

say() { echo "[setup] $*"; }
fail() { echo "[setup] error: $*" >&2; exit 1; }

# ------------------------------------------------------------------ system packages
packages=(g++ clang libclang-rt-14-dev cmake ninja-build ccache pkg-config git python3 python3-venv
          libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
          libicu-dev zlib1g-dev libjpeg-dev libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
          libsentencepiece-dev libgloo-dev libcurl4-openssl-dev wordnet-base)
missing=()
for package in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    continue
  fi
  # python3/python3-venv may come from elsewhere (pyenv, a distribution build): accept a working venv module.
  if [[ "$package" == python3 || "$package" == python3-venv ]] && python3 -c "import venv, ensurepip" 2>/dev/null; then
    continue
  fi
  missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  say "system packages: all ${#packages[@]} present"
elif [[ "${SLIPSTREAM_SKIP_APT:-0}" == 1 ]]; then
  fail "missing system packages (SLIPSTREAM_SKIP_APT=1 set): ${missing[*]}"
else
  command -v apt-get >/dev/null || fail "missing ${missing[*]} and no apt-get: install them with your package manager"
  sudo=""
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || fail "missing ${missing[*]}: run as root or install sudo"
    sudo="sudo"
  fi
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq || fail "apt-get update failed"
  if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/slipstream-apt.log 2>&1; then
    tail -5 /tmp/slipstream-apt.log >&2
    fail "apt-get could not install: ${missing[*]} (log: /tmp/slipstream-apt.log)"
  fi
  say "installed: ${missing[*]}"
fi

# ------------------------------------------------------------------ Python environment
python="${SLIPSTREAM_BOOTSTRAP_PYTHON:-python3}"
if [[ ! -x "$venv/bin/python" ]]; then
  say "creating Python environment $venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv" || fail "could not create a virtual environment with $python (install python3-venv)"
else
  say "Python environment: found $venv ($("$venv/bin/python" --version 2>&1))"
fi
stamp="$venv/.slipstream-requirements"
wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]] && "$venv/bin/python" -c "import torch, timm, open_clip, safetensors" 2>/dev/null; then
  say "Python packages: already installed ($("$venv/bin/python" -c 'import torch, timm, open_clip; print(f"torch {torch.__version__}, timm {timm.__version__}, open_clip {open_clip.__version__}")' 2>/dev/null))"
else
  say "installing Python packages from scripts/requirements-parity.txt (torch is large: the first time takes minutes)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" \
    || fail "pip could not install the packages in $requirements"
  echo "$wanted" > "$stamp"
  say "installed: $(grep -v '^#' "$requirements" | tr '\n' ' ')"
fi
say "LibTorch: $("$venv/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')"
say "done"
