#!/usr/bin/env bash
# Fetches the assets slipstream needs at run time into assets/ (or --to DIR), checking each
# against its SHA-256: CLIP's BPE merges (MIT licence, OpenAI) and SLIP's zero-shot catalog,
# labels and templates (MIT licence, Meta Platforms). With --from DIR the files are copied from a
# local folder instead (an offline mirror); the checksums are verified either way.
#   scripts/download_assets.sh [--to DIR] [--from DIR]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
to="$root/assets"
from=""
while (($#)); do
  case "$1" in
    --to) to="$2"; shift 2 ;;
    --from) from="$2"; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "download_assets: unknown argument '$1' (expected --to DIR or --from DIR)" >&2; exit 2 ;;
  esac
done

# name  sha256  url
assets=(
  "bpe_simple_vocab_16e6.txt.gz 924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a https://github.com/openai/CLIP/raw/main/clip/bpe_simple_vocab_16e6.txt.gz"
  "dataset_catalog.json 7ca99758ccc749d5a5bdd47e0ceee114899d40b77472f2a46376f970e607ff47 https://raw.githubusercontent.com/facebookresearch/SLIP/main/dataset_catalog.json"
  "labels.json c168feecd3d2af59c3905b717eb0e7015b2d286b929b56a7f44a51438a4d0eeb https://raw.githubusercontent.com/facebookresearch/SLIP/main/labels.json"
  "templates.json ccc78041c37274f8cb89849bba7dfce42df4627a08c5d1d449bb427afcf24bb1 https://raw.githubusercontent.com/facebookresearch/SLIP/main/templates.json"
)

mkdir -p "$to"
for entry in "${assets[@]}"; do
  read -r name sha url <<<"$entry"
  target="$to/$name"
  if [[ -f "$target" ]] && echo "$sha  $target" | sha256sum --check --status; then
    echo "[assets] $name: already present"
    continue
  fi
  if [[ -n "$from" ]]; then
    [[ -f "$from/$name" ]] || { echo "download_assets: $from/$name: no such file" >&2; exit 1; }
    cp "$from/$name" "$target.part"
  elif command -v curl >/dev/null; then
    curl -fsSL --retry 3 -o "$target.part" "$url" || { echo "download_assets: could not download $url" >&2; exit 1; }
  elif command -v wget >/dev/null; then
    wget -q -O "$target.part" "$url" || { echo "download_assets: could not download $url" >&2; exit 1; }
  else
    echo "download_assets: need curl or wget to fetch $url" >&2
    exit 1
  fi
  if ! echo "$sha  $target.part" | sha256sum --check --status; then
    rm -f "$target.part"
    echo "download_assets: $name does not have the expected SHA-256 $sha" >&2
    exit 1
  fi
  mv "$target.part" "$target"
  echo "[assets] $name: fetched into $to"
done
