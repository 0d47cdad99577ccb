#!/usr/bin/env bash
# The quickstart's goal over seeds and CPU instruction sets: scripts/quickstart.sh (DEMO_CLIP and
# DEMO_SLIP on the rendered corpus, zero-shot on the held-out shape-colour combinations) for each
# seed, once with the CPU kernels LibTorch and oneDNN pick on this machine and once forced to
# AVX2 (ATEN_CPU_CAPABILITY=avx2, ONEDNN_MAX_CPU_ISA=AVX2), one run at a time. The goal: at least
# 80% by shape and 90% by colour, each model's pre-training within 10 minutes. Writes
# bench/results/quickstart.json (every run, the minimum and median per model) and prints the table.
#   bench/quickstart/run.sh [SEEDS] [OUT] [MODELS]   (defaults: "0 1 2" runs/quickstart_runs clip,slip)
# A run whose results.json is there is kept; MODELS (quickstart.sh --models) re-trains only those
# models in a run folder that holds the others already.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
read -r -a seeds <<< "${1:-0 1 2}"
out="${2:-runs/quickstart_runs}"
models="${3:-clip,slip}"
python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
mkdir -p "$out"
runs=()
for seed in "${seeds[@]}"; do
  for isa in native avx2; do
    run="$out/seed${seed}_$isa"
    if [[ ! -f "$run/results.json" ]]; then
      if [[ $isa == avx2 ]]; then
        ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 bash scripts/quickstart.sh --out "$run" --data "$out/data" --seed "$seed" --models "$models"
      else
        bash scripts/quickstart.sh --out "$run" --data "$out/data" --seed "$seed" --models "$models"
      fi
    fi
    runs+=("$seed" "$isa" "$run/results.json")
  done
done
"$python" - "$root/bench/results/quickstart.json" "${runs[@]}" <<'PY'
import datetime, json, os, platform, statistics, subprocess, sys
out_path, items = sys.argv[1], sys.argv[2:]
rows = []
for seed, isa, path in zip(items[::3], items[1::3], items[2::3]):
    result = json.load(open(path))
    for model, r in result.items():
        rows.append({"seed": int(seed), "isa": isa, "model": "DEMO_" + model.upper(), "shape_top1": r["shape_top1"],
                     "colour_top1": r["colour_top1"], "train_seconds": r["train_seconds"]})
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
summary = {}
for model in sorted({r["model"] for r in rows}):
    mine = [r for r in rows if r["model"] == model]
    summary[model] = {key: {"min": min(r[key] for r in mine), "median": statistics.median(r[key] for r in mine),
                            "max": max(r[key] for r in mine)} for key in ("shape_top1", "colour_top1", "train_seconds")}
    summary[model]["goal_met_every_run"] = all(r["shape_top1"] >= 80 and r["colour_top1"] >= 90 and r["train_seconds"] <= 600
                                               for r in mine)
json.dump({"benchmark": "scripts/quickstart.sh over seeds and CPU instruction sets", "command": "bench/quickstart/run.sh",
           "machine": cpu, "cpus": os.cpu_count(), "date": datetime.date.today().isoformat(), "runs": rows,
           "summary": summary}, open(out_path, "w"), indent=2)
print(f"{'model':<10} {'seed':>4} {'kernels':<8} {'shape':>7} {'colour':>7} {'pre-training':>13}")
for r in rows:
    t = int(r["train_seconds"])
    print(f"{r['model']:<10} {r['seed']:>4} {r['isa']:<8} {r['shape_top1']:>6.1f}% {r['colour_top1']:>6.1f}% {t // 60:>6d} min {t % 60:02d} s")
for model, s in summary.items():
    print(f"{model}: shape min {s['shape_top1']['min']:.1f}% median {s['shape_top1']['median']:.1f}%, colour min "
          f"{s['colour_top1']['min']:.1f}%, pre-training max {s['train_seconds']['max']:.0f} s; goal met in every run: "
          f"{s['goal_met_every_run']}")
PY
