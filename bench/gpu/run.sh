#!/usr/bin/env bash
# The GPU checks in one call, under 10 minutes with the build included: build the core (or use the
# prebuilt one carried in the pack when it runs there), run the GPU tests (tests/gpu/test_gpu.cpp),
# then slip_bench beside open_clip's own step (bench/step/open_clip_step.py), one after the other,
# for CLIP ViT-B/16 at batch 256 and SLIP ViT-B/16 at batch 128 in bf16, each plain, with
# --grad-checkpointing and (slip_bench) with --cuda-graphs. Writes under OUT: results.json (every
# row, both trainers, their ratio), gpu_tests.json (gtest's), log.txt and build.log.
#   bench/gpu/run.sh [--cpu-rehearsal] [--pack DIR] [--build DIR] [--out DIR]
# --cpu-rehearsal: the same sequence on the CPU (ViT-S/16 for ViT-B/16, batch 2, fp32, one measured
# step, no warm-up): CI runs it, so the first GPU run is not this script's first run. --build: an existing core build (its
# slip_bench and tests/test_gpu) instead of building. --pack: scripts/pack_gpu_build.sh's folder
# (default .gpu-build). OUT defaults to $OUT, else runs/gpu.
# On the device tool:  scripts/pack_gpu_build.sh, then run with carry [".gpu-build"] and the
# command "bash bench/gpu/run.sh --out $OUT".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pack="$root/.gpu-build" build="" out="${OUT:-$root/runs/gpu}" rehearsal=0
while (($#)); do
  case "$1" in
    --cpu-rehearsal) rehearsal=1; shift ;;
    --pack) pack="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "bench/gpu/run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
: > "$out/log.txt"
log() { echo "[gpu] $*" | tee -a "$out/log.txt"; }
python="${SLIPSTREAM_PYTHON:-}"  # with torch: the set-up's environment here, the image's python3 on a GPU host
if [[ -z "$python" ]]; then
  python=python3
  [[ -x "${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python" ]] && python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
fi
started=$(date +%s)

if ((rehearsal)); then  # ViT-S/16 stands in for ViT-B/16 so that CI runs it in well under a minute
  device=cpu precision=fp32 clip_batch=2 slip_batch=2 steps=1 warmup=0
  clip_model=CLIP_VITS16 slip_model=SLIP_VITS16 reference_model=ViT-S-16
else
  device=cuda precision=bf16 clip_batch=256 slip_batch=128 steps=20 warmup=5
  clip_model=CLIP_VITB16 slip_model=SLIP_VITB16 reference_model=ViT-B-16
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | sed 's/^/[gpu] /' | tee -a "$out/log.txt" || true
fi
log "device $device, precision $precision, batches CLIP $clip_batch SLIP $slip_batch, $steps measured steps after $warmup"

# 1. The binaries: --build's, the pack's prebuilt ones when they start here, else a core build now.
torch_lib="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
bench="" tests=""
if [[ -n "$build" ]]; then
  bench="$build/slip_bench" tests="$build/tests/test_gpu"
elif [[ -x "$pack/prebuilt/slip_bench" ]] && "$pack/prebuilt/slip_bench" --help > /dev/null 2>> "$out/build.log"; then
  bench="$pack/prebuilt/slip_bench" tests="$pack/prebuilt/test_gpu"
  log "prebuilt binaries from $pack/prebuilt start here"
else
  build="$root/build-gpu"
  log "building the core in $build (the pack's headers and GoogleTest)"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLIPSTREAM_CORE_ONLY=ON \
    -DSLIPSTREAM_PYTHON="$(command -v "$python")" -DSLIPSTREAM_HEADERS_DIR="$pack/headers" \
    -DSLIPSTREAM_GTEST_SOURCE_DIR="$pack/googletest" >> "$out/build.log" 2>&1 \
    || { tail -30 "$out/build.log"; exit 1; }
  cmake --build "$build" -j "$(nproc)" --target slip_bench test_gpu >> "$out/build.log" 2>&1 \
    || { tail -30 "$out/build.log"; exit 1; }
  bench="$build/slip_bench" tests="$build/tests/test_gpu"
  log "built in $(( $(date +%s) - started )) s"
fi

# 2. The GPU tests (each reports itself skipped without a GPU).
status=0
"$tests" --gtest_output="json:$out/gpu_tests.json" >> "$out/log.txt" 2>&1 || status=1
"$python" - "$out/gpu_tests.json" <<'PY' | tee -a "$out/log.txt"
import json, sys
report = json.load(open(sys.argv[1]))
outcomes = {"passed": 0, "failed": 0, "skipped": 0}
for suite in report["testsuites"]:
    for test in suite["testsuite"]:
        outcome = "failed" if test.get("failures") else ("skipped" if test.get("result") == "SKIPPED" else "passed")
        outcomes[outcome] += 1
        if outcome == "failed":
            print(f"[gpu] FAILED {suite['name']}.{test['name']}: {test['failures'][0]['failure'][:300]}")
print(f"[gpu] tests: {outcomes['passed']} passed, {outcomes['failed']} failed, {outcomes['skipped']} skipped")
PY

# 3. The reference's packages: open_clip from the pack's wheels when the image lacks it.
if ! "$python" -c "import open_clip" 2> /dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/slipstream_site \
    "$pack"/wheels/*.whl >> "$out/log.txt" 2>&1
  export PYTHONPATH="/tmp/slipstream_site${PYTHONPATH:+:$PYTHONPATH}"
fi

# 4. slip_bench beside open_clip's step, row by row.
rows=()
run_row() {  # run_row MODEL BATCH VARIANT REFERENCE_ARGS
  local model="$1" batch="$2" variant="$3" reference_args="$4" flags=() ours theirs="null"
  case "$variant" in
    grad_checkpointing) flags=(--grad-checkpointing) ;;
    cuda_graphs) flags=(--cuda-graphs) ;;
  esac
  if ours=$("$bench" --model "$model" --batch "$batch" --precision "$precision" --device "$device" --steps "$steps" \
              --warmup "$warmup" "${flags[@]}" 2>> "$out/log.txt"); then
    log "$model batch $batch $variant: slipstream $("$python" -c 'import json,sys; print(round(json.loads(sys.argv[1])["samples_per_second"], 1))' "$ours") samples/s"
  else
    log "$model batch $batch $variant: slip_bench FAILED (see log.txt)"; status=1; ours="null"
  fi
  if [[ "$variant" != cuda_graphs && "$ours" != null ]]; then
    local flops
    flops=$("$python" -c 'import json,sys; print(json.loads(sys.argv[1])["flops_per_step"])' "$ours")
    # shellcheck disable=SC2086
    if theirs=$("$python" "$root/bench/step/open_clip_step.py" --open-clip-model "$reference_model" $reference_args --batch "$batch" \
                  --precision "$precision" --device "$device" --steps "$steps" --warmup "$warmup" --flops-per-step "$flops" \
                  ${flags[@]+"${flags[@]}"} 2>> "$out/log.txt"); then
      log "$model batch $batch $variant: open_clip $("$python" -c 'import json,sys; print(round(json.loads(sys.argv[1])["samples_per_second"], 1))' "$theirs") samples/s"
    else
      log "$model batch $batch $variant: the open_clip reference FAILED (see log.txt)"; status=1; theirs="null"
    fi
  fi
  rows+=("{\"model\": \"$model\", \"batch\": $batch, \"variant\": \"$variant\", \"slipstream\": $ours, \"open_clip\": $theirs}")
}
for variant in plain grad_checkpointing cuda_graphs; do
  run_row "$clip_model" "$clip_batch" "$variant" ""
  run_row "$slip_model" "$slip_batch" "$variant" "--slip"
done

"$python" - "$out/results.json" "$device" "$rehearsal" "$(( $(date +%s) - started ))" "${rows[@]}" <<'PY' | tee -a "$out/log.txt"
import datetime, json, sys
out_path, device, rehearsal, seconds = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])
rows = [json.loads(r) for r in sys.argv[5:]]
for row in rows:
    ours, theirs = row["slipstream"], row["open_clip"]
    row["speed_ratio"] = ours["samples_per_second"] / theirs["samples_per_second"] if ours and theirs else None
json.dump({"benchmark": "slip_bench beside open_clip's step on one device", "command": "bench/gpu/run.sh",
           "device": device, "cpu_rehearsal": rehearsal, "date": datetime.date.today().isoformat(),
           "seconds": seconds, "rows": rows}, open(out_path, "w"), indent=2)
print(f"{'model':<12} {'batch':>5} {'variant':<19} {'slipstream/s':>12} {'open_clip/s':>11} {'ratio':>6} {'MFU':>6} {'peak MiB':>9}")
for r in rows:
    ours, theirs = r["slipstream"] or {}, r["open_clip"] or {}
    mfu = ours.get("mfu")
    print(f"{r['model']:<12} {r['batch']:>5} {r['variant']:<19} {ours.get('samples_per_second', float('nan')):>12.1f} "
          f"{theirs.get('samples_per_second', float('nan')):>11.1f} "
          f"{r['speed_ratio'] if r['speed_ratio'] else float('nan'):>6.2f} {mfu if mfu else float('nan'):>6.3f} "
          f"{ours.get('peak_memory_mib', float('nan')):>9.0f}")
PY
log "done in $(( $(date +%s) - started )) s"
exit $status
