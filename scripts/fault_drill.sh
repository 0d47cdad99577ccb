#!/usr/bin/env bash
# The fault drill: a short two-process pre-training run under `slip_run --max-restarts`, hit by
# every fault a long run meets, must finish by itself with the same final weights, bit for bit,
# as the same run without faults. The faults (SLIPSTREAM_FAULT_PLAN, at steps the seed picks):
#   kill            a random worker SIGKILLed after a random step
#   kill_in_save    rank 0 SIGKILLed while it writes a checkpoint
#   hang            a random worker stops making progress (the hang watchdog must end it)
#   truncate_newest the newest checkpoint's weights halved (resume must skip it for the one before)
#   bitflip_newest  one bit of the newest checkpoint's training state flipped (likewise)
#   fill_disk       the output folder's file system filled before a save (a size-limited tmpfs
#                   when this user may mount one; else an injected ENOSPC during the save)
# Prints a report (faults injected and survived, restarts, steps recomputed, weights equal) and
# writes it as JSON to WORK/report.json. Exit code 0 when the weights are equal.
#   scripts/fault_drill.sh [--seed N] [--build DIR] [--work DIR] [--bpe FILE] [--nproc N] [--no-mount]
# On a cluster: run it on one node with --build pointing at that node's build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seed=0 build="$root/build" work="" bpe="" nproc=2 may_mount=1
while (($#)); do
  case "$1" in
    --seed) seed="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --bpe) bpe="$2"; shift 2 ;;
    --nproc) nproc="$2"; shift 2 ;;
    --no-mount) may_mount=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "fault_drill: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for tool in slip_pretrain slip_run; do
  [[ -x "$build/$tool" ]] || { echo "fault_drill: $build/$tool not found (build it, or pass --build DIR)" >&2; exit 2; }
done
if [[ -z "$bpe" ]]; then
  for candidate in "$root/assets/bpe_simple_vocab_16e6.txt.gz" "$root/../shared/data/bpe_simple_vocab_16e6.txt.gz"; do
    [[ -f "$candidate" ]] && bpe="$candidate" && break
  done
  if [[ -z "$bpe" ]]; then
    python="${SLIPSTREAM_VENV:-$HOME/.cache/slipstream/venv}/bin/python"
    bpe=$("$python" -c "import open_clip.tokenizer as t; print(t.default_bpe())" 2>/dev/null || true)
  fi
fi
[[ -f "$bpe" ]] || { echo "fault_drill: CLIP's BPE merges not found (pass --bpe FILE)" >&2; exit 2; }
owned_work=0
if [[ -z "$work" ]]; then work="$(mktemp -d)"; owned_work=1; fi
mkdir -p "$work"
mounted=0
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  if ((mounted)); then umount "$work/fs" 2>/dev/null || true; fi
  if ((owned_work)); then rm -rf "$work"; fi
  return 0
}
trap cleanup EXIT
say() { echo "[fault drill] $*"; }

# The run: a small CLIP on synthetic data, 3 epochs of 6 optimizer steps on 2 ranks, a checkpoint
# every 2 steps, the two newest kept.
cat > "$work/small_clip.json" <<'JSON'
{"name": "DRILL_CLIP", "family": "clip", "embed_dim": 16,
 "vision": {"type": "vit", "image_size": 32, "patch_size": 8, "width": 32, "depth": 1, "heads": 2},
 "text": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
JSON
epochs=3 steps_per_epoch=6
samples=$((steps_per_epoch * 4 * nproc))
run=(--dataset synthetic --synthetic-samples "$samples" --model "$work/small_clip.json" --bpe "$bpe" --batch-size 4
     --epochs "$epochs" --workers 1 --device cpu --print-freq 1 --save-every-steps 2 --keep-checkpoints 2
     --hang-timeout 3 --dist-timeout 30)
printf '%s\n' "${run[@]}" > "$work/run_args"  # for other launchers' drills (tests/apps/test_fault_drill.sh)
port=$((30000 + (seed * 7 + $$) % 2700))  # below the ephemeral ports (32768-60999)
total=$((epochs * steps_per_epoch))

say "seed $seed: the run without faults ($total optimizer steps on $nproc ranks)"
"$build/slip_run" --nproc-per-node "$nproc" --master-port "$port" "$build/slip_pretrain" "${run[@]}" \
  --output-dir "$work/reference" > "$work/reference.log" 2>&1 \
  || { tail -5 "$work/reference.log"; echo "fault_drill: the run without faults failed" >&2; exit 1; }

# Where the faulty run writes: a 96 MiB tmpfs when mounting is allowed (the disk can really fill).
mkdir -p "$work/fs"
fill_kind=enospc
if ((may_mount)) && mount -t tmpfs -o size=96m tmpfs "$work/fs" 2>/dev/null; then
  mounted=1
  fill_kind=fill_disk
fi

# The plan: one fault of each kind at distinct steps the seed picks, in 2 .. total-1 (from step 2
# on there is a checkpoint to corrupt).
RANDOM=$seed
kinds=(kill kill_in_save hang truncate_newest bitflip_newest "$fill_kind")
steps=()
while ((${#steps[@]} < ${#kinds[@]})); do
  step=$((2 + RANDOM % (total - 2)))
  [[ " ${steps[*]} " == *" $step "* ]] || steps+=("$step")
done
plan="$work/plan.json"
{
  echo "["
  for i in "${!kinds[@]}"; do
    echo "  {\"kind\": \"${kinds[$i]}\", \"rank\": $((RANDOM % nproc)), \"step\": ${steps[$i]}}$([[ $i -lt $((${#kinds[@]} - 1)) ]] && echo ,)"
  done
  echo "]"
} > "$plan"
say "faults: $(tr -d '\n ' < "$plan")"

say "the run with faults, under slip_run --max-restarts 10"
set +e
SLIPSTREAM_FAULT_PLAN="$plan" "$build/slip_run" --max-restarts 10 --nproc-per-node "$nproc" --master-port $((port + 1)) \
  "$build/slip_pretrain" "${run[@]}" --output-dir "$work/fs/run" > "$work/drill.log" 2>&1
code=$?
set -e
fired=$(ls "$plan".fired.* 2>/dev/null | wc -l)
restarts=$(grep -c "^slip_run: restarting the workers" "$work/drill.log" || true)
skipped=$(grep -c "fails its check" "$work/drill.log" || true)
hangs=$(grep -c "made no progress for" "$work/drill.log" || true)
reference_steps=$(grep -c "^\[rank 0\] Epoch: " "$work/reference.log" || true)
drill_steps=$(grep -c "^\[rank 0\] Epoch: " "$work/drill.log" || true)
equal=false
if ((code == 0)) && cmp -s "$work/reference/checkpoint_last/model.safetensors" "$work/fs/run/checkpoint_last/model.safetensors"; then
  equal=true
fi
cat > "$work/report.json" <<JSON
{"seed": $seed, "ranks": $nproc, "optimizer_steps": $total, "faults_planned": ${#kinds[@]}, "faults_fired": $fired,
 "fault_kinds": "$(IFS=,; echo "${kinds[*]}")", "disk": "$([[ $fill_kind == fill_disk ]] && echo "tmpfs 96 MiB, filled" || echo "injected ENOSPC")",
 "restarts": $restarts, "hang_ended_by_watchdog": $hangs, "checkpoints_skipped_on_resume": $skipped,
 "steps_run": $drill_steps, "steps_recomputed": $((drill_steps - reference_steps)), "exit_code": $code,
 "final_weights_equal": $equal}
JSON
say "faults injected $fired of ${#kinds[@]} (${kinds[*]}), restarts $restarts, hangs ended by the watchdog $hangs,"
say "checkpoints skipped on resume $skipped, steps run $drill_steps for $reference_steps (recomputed $((drill_steps - reference_steps))),"
say "exit code $code, final weights equal to the run without faults: $equal"
cp "$work/report.json" "$work/report.last.json" 2>/dev/null || true
if [[ "$equal" != true ]]; then
  echo "fault_drill: FAILED; the last lines of the run with faults:" >&2
  tail -25 "$work/drill.log" >&2
  exit 1
fi
