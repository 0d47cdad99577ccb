#!/usr/bin/env bash
# The data side against corpus size: WebDataset corpora of 10^4, 10^5 and 10^6 small samples
# (bench_streaming generate, kept in SCRATCH between runs), each opened in random-access mode and
# streamed from local files, pipe:cat and a loopback HTTP server (python's http.server), one after
# the other in the same run: resident memory the data side added, time to the first batch,
# samples/s (decode + the CLIP view's crop at 32 px, 2 workers, batch 256). Writes
# bench/results/streaming.json and prints the table.
#   bench/streaming/run.sh [BUILD_DIR] [SCRATCH] [SIZES]      (defaults: build /tmp/slipstream_streaming "10000 100000 1000000")
# STEPS (default 1000) batches are read per run; each row is the median of REPEATS (default 3) runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
scratch="${2:-/tmp/slipstream_streaming}"
read -r -a sizes <<< "${3:-10000 100000 1000000}"
steps="${STEPS:-1000}"
repeats="${REPEATS:-3}"
python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
bench="$build/bench/bench_streaming"
mkdir -p "$scratch"
port=$((18000 + $$ % 1000))
"$python" -m http.server "$port" --bind 127.0.0.1 --directory "$scratch" > /dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 1

results=()
for n in "${sizes[@]}"; do
  corpus="$scratch/corpus_$n"
  [[ -f "$corpus/sizes.json" ]] || "$bench" generate --out "$corpus" --samples "$n"
  last=$(printf %06d $(( (n + 999) / 1000 - 1 )))
  pattern="{000000..$last}.tar"
  cat "$corpus"/*.tar > /dev/null  # the page cache holds every corpus alike
  for source in random local pipe http; do
    case $source in
      random) args=(--mode random --root "$corpus/$pattern") ;;
      local) args=(--mode streaming --root "$corpus/$pattern") ;;
      pipe) args=(--mode streaming --root "pipe:cat $corpus/$pattern" --train-num-samples "$n") ;;
      http) args=(--mode streaming --root "http://127.0.0.1:$port/corpus_$n/$pattern") ;;
    esac
    for ((r = 0; r < repeats; ++r)); do
      line=$("$bench" read --steps "$steps" "${args[@]}")
      echo "[$n samples, $source] $line"
      results+=("{\"samples\": $n, \"source\": \"$source\", \"result\": $line}")
    done
  done
done
"$python" - "$root/bench/results/streaming.json" "${results[@]}" <<'PY'
import datetime, json, os, statistics, sys
runs = [json.loads(r) for r in sys.argv[2:]]
keys = ["data_rss_at_first_batch_mib", "data_rss_after_mib", "time_to_first_batch_s", "samples_per_second"]
rows = []
for run in runs:
    if not rows or (rows[-1]["samples"], rows[-1]["source"]) != (run["samples"], run["source"]):
        rows.append({"samples": run["samples"], "source": run["source"], "runs": []})
    rows[-1]["runs"].append(run["result"])
for row in rows:
    row["median"] = {k: statistics.median(r[k] for r in row["runs"]) for k in keys}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
json.dump({"benchmark": "the data side against corpus size: random access vs streaming (local, pipe:cat, HTTP on loopback)",
           "command": "bench/streaming/run.sh", "machine": cpu, "cpus": os.cpu_count(),
           "date": datetime.date.today().isoformat(), "rows": rows}, open(sys.argv[1], "w"), indent=2)
print(f"{'samples':>9} {'mode / source':<22} {'RSS at 1st batch':>17} {'RSS at end':>11} {'first batch s':>14} {'samples/s':>10}")
for row in rows:
    x = row["median"]
    name = "random access" if row["source"] == "random" else f"streaming, {row['source']}"
    print(f"{row['samples']:>9} {name:<22} {x['data_rss_at_first_batch_mib']:>17.1f} {x['data_rss_after_mib']:>11.1f} "
          f"{x['time_to_first_batch_s']:>14.3f} {x['samples_per_second']:>10.0f}")
PY
