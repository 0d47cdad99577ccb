#!/usr/bin/env bash
# Runs the patch-dropout benchmark: slipstream's ViT-S/16 and timm's, one after the other in the
# same run, with the same batch, threads and time per setting, at patch dropout 0, 0.5 and 0.75.
# Writes bench/results/patch_dropout.json.
#   bench/patch_dropout/run.sh [BUILD_DIR] [SECONDS] [BATCH]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
seconds="${2:-10}"
batch="${3:-16}"
threads="$(nproc)"
python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
ours=$("$build/bench/bench_patch_dropout" --batch "$batch" --seconds "$seconds" --threads "$threads")
reference=$("$python" "$root/bench/patch_dropout/timm_patch_dropout.py" --batch "$batch" --seconds "$seconds" --threads "$threads")
"$python" - "$root/bench/results/patch_dropout.json" "$ours" "$reference" <<'PY'
import datetime, json, os, platform, sys
ours, reference = json.loads(sys.argv[2]), json.loads(sys.argv[3])
rows = []
for a, b in zip(ours["results"], reference["results"]):
    rows.append({"patch_dropout": a["patch_dropout"], "slipstream_images_per_second": a["images_per_second"],
                 "timm_images_per_second": b["images_per_second"]})
base_ours, base_timm = rows[0]["slipstream_images_per_second"], rows[0]["timm_images_per_second"]
for row in rows:
    row["slipstream_speedup_over_no_dropout"] = row["slipstream_images_per_second"] / base_ours
    row["timm_speedup_over_no_dropout"] = row["timm_images_per_second"] / base_timm
    row["slipstream_over_timm"] = row["slipstream_images_per_second"] / row["timm_images_per_second"]
out = {"benchmark": "ViT-S/16 training step (forward + backward), 224 px, patch dropout 0 / 0.5 / 0.75",
       "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "batch": ours["batch"],
       "threads": ours["threads"], "date": datetime.date.today().isoformat(), "results": rows,
       "raw": {"slipstream": ours, "timm": reference}}
json.dump(out, open(sys.argv[1], "w"), indent=2)
for row in rows:
    print(f"patch dropout {row['patch_dropout']:.2f}: slipstream {row['slipstream_images_per_second']:.1f} img/s "
          f"({row['slipstream_speedup_over_no_dropout']:.2f}x), timm {row['timm_images_per_second']:.1f} img/s "
          f"({row['timm_speedup_over_no_dropout']:.2f}x)")
PY
