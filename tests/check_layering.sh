#!/usr/bin/env bash
# The library's layers depend only downwards (docs/architecture.md):
#   core -> data, models -> losses -> dist -> eval -> train;  tools sits on data, models and eval.
# Every #include "slipstream/X/..." in include/slipstream/L and src/L must name a layer that L may
# use. Prints each include that breaks the order and exits 1 if there is one.
#   check_layering.sh SOURCE_DIR
set -euo pipefail
shopt -s nullglob
root="${1:?usage: check_layering.sh SOURCE_DIR}"
declare -A allowed=(
  [core]="core"
  [data]="core data"
  [models]="core models"
  [losses]="core models losses"
  [dist]="core models losses dist"
  [eval]="core data models losses dist eval"
  [train]="core data models losses dist eval train"
  [tools]="core data models eval tools"
)
broken=0 checked=0
for layer in "${!allowed[@]}"; do
  for folder in "$root/include/slipstream/$layer" "$root/src/$layer"; do
    [[ -d "$folder" ]] || continue
    while IFS=: read -r file line text; do
      used=$(sed -E 's#.*"slipstream/([a-z_]+)/.*#\1#' <<< "$text")
      checked=$((checked + 1))
      if [[ " ${allowed[$layer]} " != *" $used "* ]]; then
        echo "layering: ${file#$root/}:$line: $layer/ includes slipstream/$used/ (allowed: ${allowed[$layer]})"
        broken=1
      fi
    done < <(grep -rnE '#include "slipstream/[a-z_]+/' "$folder" || true)
  done
done
for folder in "$root"/include/slipstream/*/ "$root"/src/*/; do
  layer=$(basename "$folder")
  [[ -n "${allowed[$layer]:-}" ]] || { echo "layering: $folder is no known layer (add it to tests/check_layering.sh)"; broken=1; }
done
echo "layering: $checked includes checked"
exit $broken
