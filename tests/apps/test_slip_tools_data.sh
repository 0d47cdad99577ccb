#!/usr/bin/env bash
# slip_tools index and preview from the command line, on the test corpora: a pickle-free index
# for a numpy corpus, YFCC100M's raw metadata cleaned, a preview PNG, and one-line errors.
#   test_slip_tools_data.sh SLIP_TOOLS CORPORA PYTHON
set -euo pipefail
tools="$1" corpora="$2" python="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$("$tools" index --dataset cc12m --metadata "$corpora/cc12m.npy" --python "$python" --output "$work/cc12m.idx")
[[ "$out" == "wrote $work/cc12m.idx: 4 cc12m entries"* ]] || fail "index: $out"
out=$("$tools" index --dataset yfcc15m --metadata "$corpora/yfcc100m_dataset.txt" --subset "$corpora/yfcc100m_subset_data.tsv" \
        --output "$work/yfcc.idx")
[[ "$out" == *"4 yfcc15m entries"* ]] || fail "yfcc100m index: $out"

out=$("$tools" preview --dataset cc12m --root "$corpora/cc12m" --metadata "$work/cc12m.idx" --count 3 --output "$work/p.png")
[[ "$out" == "wrote $work/p.png: 3 samples of cc12m"* ]] || fail "preview: $out"
[[ "$(head -c 8 "$work/p.png" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] || fail "preview is not a PNG"
"$tools" preview --dataset csv --root "$corpora" --metadata "$corpora/train.csv" --views eval-zeroshot --output "$work/c.png" \
  | grep -q "2 unreadable left out" || fail "preview did not report the unreadable csv rows"

# Bad input: exit 1 and one line naming the flag or file.
set +e
err=$("$tools" preview --dataset cc12m --root "$corpora/cc12m" --metadata "$corpora/cc12m.npy" --output "$work/x.png" 2>&1)
status=$?
set -e
[[ $status == 1 && $(wc -l <<< "$err") == 1 && "$err" == *"slip_tools index --dataset cc12m"* ]] || fail "pickle error: $err"
set +e
err=$("$tools" index --dataset laion --metadata "$corpora/train.csv" --output "$work/y.idx" 2>&1)
status=$?
set -e
[[ $status == 1 && "$err" == *"--dataset: 'laion'"* ]] || fail "unknown dataset: $err"
[[ ! -e "$work/y.idx" ]] || fail "a failed index left a file"
echo "slip_tools index/preview: all checks passed"
