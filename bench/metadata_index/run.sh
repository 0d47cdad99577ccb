#!/usr/bin/env bash
# YFCC15M-scale metadata: SLIP's pickle (ENTRIES tuples of photo index, title, description, default
# 14,689,580 as in SLIP's yfcc15m.pkl) against slipstream's index of the same entries, in one run:
#   - SLIP opens the corpus with pickle.load: wall time and resident memory it adds;
#   - slipstream converts the pickle once (slip_tools index), then every run maps the index:
#     conversion time, open time and resident memory, and random-entry reads.
# The captions are generated (YFCC's own are not redistributable) with YFCC-like lengths.
# Writes bench/results/metadata_index.json.   bench/metadata_index/run.sh [BUILD_DIR] [ENTRIES]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$root/build}"
entries="${2:-14689580}"
python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$python" - "$work/yfcc15m.pkl" "$entries" <<'PY'
import pickle, random, sys
random.seed(0)
words = ["sunset", "beach", "city", "night", "family", "dog", "mountain", "snow", "wedding", "party", "street",
         "flower", "garden", "river", "bridge", "church", "museum", "train", "car", "portrait", "sky", "lake"]
def text(n):
    return " ".join(random.choice(words) for _ in range(n))
samples = [(i * 7 + 3, text(random.randint(1, 6)), text(random.randint(0, 25))) for i in range(int(sys.argv[2]))]
with open(sys.argv[1], "wb") as f:
    pickle.dump(samples, f, protocol=4)
PY

slip=$("$python" - "$work/yfcc15m.pkl" <<'PY'
import json, pickle, resource, sys, time
def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
before = rss_mib()
start = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    samples = pickle.load(f)
seconds = time.perf_counter() - start
print(json.dumps({"entries": len(samples), "open_seconds": seconds, "rss_added_mib": rss_mib() - before}))
PY
)
echo "SLIP (pickle.load): $slip"

start=$(date +%s.%N)
"$build/slip_tools" index --dataset yfcc15m --metadata "$work/yfcc15m.pkl" --python "$python" --output "$work/yfcc15m.idx"
convert=$(echo "$(date +%s.%N) - $start" | bc)
index_bytes=$(stat -c %s "$work/yfcc15m.idx")
ours=$("$build/bench/bench_metadata_index" "$work/yfcc15m.idx")
echo "slipstream (index): $ours"

"$python" - "$root/bench/results/metadata_index.json" "$slip" "$ours" "$convert" "$index_bytes" "$(stat -c %s "$work/yfcc15m.pkl")" <<'PY'
import datetime, json, os, platform, sys
slip, ours = json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {"benchmark": "open YFCC15M-scale caption metadata (generated captions)",
       "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
       "date": datetime.date.today().isoformat(),
       "slip_pickle": dict(slip, file_bytes=int(sys.argv[6])),
       "slipstream_index": dict(ours, convert_seconds=float(sys.argv[4]), file_bytes=int(sys.argv[5]))}
json.dump(out, open(sys.argv[1], "w"), indent=2)
b, o, r = ours["resident_before"], ours["resident_after_open"], ours["resident_after_reads"]
print(f"pickle.load: {slip['open_seconds']:.1f} s, +{slip['rss_added_mib']:.0f} MiB resident; "
      f"index: open {ours['open_ms']:.2f} ms, +{o['rss_mib'] - b['rss_mib']:.1f} MiB resident; after "
      f"{ours['random_reads']} random reads +{r['anon_mib'] - b['anon_mib']:.1f} MiB own memory and "
      f"{r['file_mib'] - b['file_mib']:.0f} MiB of mapped file pages (page cache); one-time conversion {float(sys.argv[4]):.0f} s")
PY
