#!/usr/bin/env bash
# The Fashion-MNIST recipe from scratch, in jimm and then in PyTorch, in one run on this machine.
#
#   scripts/fashion-mnist-recipe.sh [DATA_DIR] [SEEDS]
#
# DATA_DIR holds the four idx .gz files (default ../shared/datasets/fashion-mnist, or Debian's
# dataset-fashion-mnist package path). SEEDS (default "42 43 44") are the jimm runs, one after the
# other, each:
#   jimm train fashion-mnist --model airbench_w --head linear --epochs 10 --batch-size 256 --lr 2e-2
#        --label-smoothing 0.1 --crop-pad 1 --lookahead --validate-every 10 --tta shift --seed S
# Then PyTorch (Debian's python3-torch, scripts/fashion_mnist_pytorch.py) trains the same network, head,
# start (dirac and whitening), augmentation (and progressive resizing with RESIZE), schedule, loss, lookahead and TTA,
# for the seeds in
# PYTORCH_SEEDS (default: the first seed; "all" for every seed; "none" to skip). Every run uses every core and is timed from its start to its end
# (data loading, the validations on the test split and the final TTA pass included).
# EPOCHS, LR, BS (batch size), MODEL (default airbench_w), CROP_PAD (default 1), LS (label smoothing, default 0.1), REPROB (random erasing,
# default 0), WD (weight decay, default 0.01), ALTFLIP (1: alternating flips, 0: random ones) and VALIDATE_EVERY
# (score the test split after every N-th epoch and the last; default 10, so only after the last) override the recipe's;
# RESIZE=MIN:EPOCHS adds --progressive-resize to both sides (default none); OUT is the folder of the runs (default
# /tmp/jimm-fashion-mnist-recipe). Prints each run's test accuracy and time, then the mean and
# standard deviation over the seeds and the ratio of the mean times.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${1:-$here/../shared/datasets/fashion-mnist}"
seeds="${2:-42 43 44}"
epochs="${EPOCHS:-10}"
lr="${LR:-2e-2}"
bs="${BS:-256}"
altflip="${ALTFLIP:-0}"
model="${MODEL:-airbench_w}"
pad="${CROP_PAD:-1}"
ls="${LS:-0.1}"
resize="${RESIZE:-none}"
shared_args=()
[ "$resize" != none ] && shared_args=(--progressive-resize "$resize")
reprob="${REPROB:-0}"
wd="${WD:-0.01}"
# both sides take the same options
shared_args+=(--reprob "$reprob" --wd "$wd")
[ "$altflip" = 1 ] && shared_args+=(--alternating-flip)
validate_every="${VALIDATE_EVERY:-10}"
shared_args+=(--validate-every "$validate_every")
pytorch_seeds="${PYTORCH_SEEDS:-first}"
if [ ! -f "$data/train-images-idx3-ubyte.gz" ] && [ -d /usr/share/dataset-fashion-mnist ]; then
  data=/usr/share/dataset-fashion-mnist
fi
out="${OUT:-/tmp/jimm-fashion-mnist-recipe}"
rm -rf "$out"
mkdir -p "$out"
cd "$here"
./jimm --version >/dev/null   # builds the CLI first, so the build is not timed
summary="$out/summary.tsv"
printf 'framework\tseed\taccuracy\tlast_epoch\tseconds\n' > "$summary"
for seed in $seeds; do
  run="$out/jimm-$seed"
  start=$(date +%s.%N)
  ./jimm train fashion-mnist --data-root "$data" --model "$model" --head linear --epochs "$epochs" \
    --batch-size "$bs" --lr "$lr" --label-smoothing "$ls" --crop-pad "$pad" --lookahead "${shared_args[@]}" --tta shift --seed "$seed" --out "$run" \
    | tee "$run.log"
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  acc=$(grep -o 'accuracy [0-9.]*' "$run.log" | tail -1 | cut -d' ' -f2)
  last=$(python3 -c "import csv,sys; print(list(csv.DictReader(open(sys.argv[1])))[-1]['accuracy'])" "$run/metrics.csv")
  printf 'jimm\t%s\t%s\t%s\t%.1f\n' "$seed" "$acc" "$last" "$seconds" >> "$summary"
  echo
done
case "$pytorch_seeds" in
  first) pt_seeds="${seeds%% *}" ;;
  all) pt_seeds="$seeds" ;;
  none) pt_seeds="" ;;
  *) pt_seeds="$pytorch_seeds" ;;
esac
for seed in $pt_seeds; do
  log="$out/pytorch-$seed.log"
  start=$(date +%s.%N)
  /usr/bin/python3 scripts/fashion_mnist_pytorch.py "$data" --model "$model" --head linear --epochs "$epochs" \
    --batch-size "$bs" --lr "$lr" --label-smoothing "$ls" --crop-pad "$pad" --lookahead "${shared_args[@]}" --tta shift \
    --seed "$seed" | tee "$log"
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  acc=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])['accuracy'])" "$log")
  last=$(grep -E '^[0-9]+ ' "$log" | tail -1 | awk '{print $4}')
  printf 'pytorch\t%s\t%s\t%s\t%.1f\n' "$seed" "$acc" "$last" "$seconds" >> "$summary"
  echo
done
echo "$model, $epochs epochs, batch $bs, lr $lr, wd $wd, alternating flips $altflip, validated every $validate_every epochs, label smoothing $ls, crop pad $pad, random erasing $reprob, lookahead, progressive resize $resize, shift TTA;"
echo "test accuracy, whole run in seconds:"
python3 - "$summary" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
for r in rows:
    print(f"  {r['framework']:<8} seed {r['seed']}: {float(r['accuracy']) * 100:.2f}% "
          f"({float(r['last_epoch']) * 100:.2f}% last epoch without TTA), {float(r['seconds']):.0f} s")
means = {}
for fw in ("jimm", "pytorch"):
    acc = [float(r["accuracy"]) * 100 for r in rows if r["framework"] == fw]
    sec = [float(r["seconds"]) for r in rows if r["framework"] == fw]
    if acc:
        sd = f" (sd {statistics.stdev(acc):.2f}, min {min(acc):.2f}, max {max(acc):.2f})" if len(acc) > 1 else ""
        print(f"  {fw:<8} mean of {len(acc)}: {statistics.mean(acc):.2f}%{sd}, {statistics.mean(sec):.0f} s "
              f"(max {max(sec):.0f} s)")
        means[fw] = statistics.mean(sec)
if len(means) == 2:
    print(f"  time ratio pytorch/jimm {means['pytorch'] / means['jimm']:.2f}")
PY
