#!/usr/bin/env bash
# The Fashion-MNIST recipe from scratch, in jimm and then in PyTorch, in one run on this machine.
#
#   scripts/fashion-mnist-recipe.sh [DATA_DIR] [EPOCHS] [LR]
#
# DATA_DIR holds the four idx .gz files (default ../shared/datasets/fashion-mnist, or Debian's
# dataset-fashion-mnist package path). jimm runs `jimm train fashion-mnist --model resnet10t` with
# label smoothing 0.1 and flip TTA for the final score; LR is a number (default 1e-2, what lr_find's
# minimum/10 gives on this data) or an lr_find suggestion (minimum, valley). PyTorch (Debian's
# python3-torch, scripts/fashion_mnist_pytorch.py) then trains the same network and head with the same
# schedule, loss, TTA and the lr jimm used. Both use every core. Prints both accuracies (last epoch
# and with TTA), both times, and a ratio of the training times.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${1:-$here/../shared/datasets/fashion-mnist}"
epochs="${2:-10}"
lr_arg="${3:-1e-2}"
if [ ! -f "$data/train-images-idx3-ubyte.gz" ] && [ -d /usr/share/dataset-fashion-mnist ]; then
  data=/usr/share/dataset-fashion-mnist
fi
out="${OUT:-/tmp/jimm-fashion-mnist-recipe}"
rm -rf "$out"
cd "$here"
./jimm --version >/dev/null   # builds the CLI first, so the build is not timed
start=$(date +%s.%N)
./jimm train fashion-mnist --data-root "$data" --model resnet10t --epochs "$epochs" --batch-size 128 \
  --lr "$lr_arg" --label-smoothing 0.1 --tta flip --out "$out" | tee "$out.jimm.log"
jimm_seconds=$(echo "$(date +%s.%N) - $start" | bc)
# the lr lr_find chose, the last epoch's accuracy and the summed epoch times, from the run folder
read -r lr jimm_acc jimm_epochs_s < <(python3 - "$out" "$lr_arg" <<'PY'
import csv, json, os, sys
run, lr_arg = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(run + "/metrics.csv")))
try:
    lr = float(lr_arg)
except ValueError:
    lr = json.load(open(run + "/lr_find.json"))[lr_arg]
print(lr, rows[-1]["accuracy"], round(sum(float(r["time"]) for r in rows), 1))
PY
)
jimm_tta=$(grep -o 'accuracy [0-9.]*' "$out.jimm.log" | tail -1 | cut -d' ' -f2)
echo
/usr/bin/python3 scripts/fashion_mnist_pytorch.py "$data" --epochs "$epochs" --batch-size 128 --lr "$lr" \
  --label-smoothing 0.1 --tta | tee "$out/pytorch.log"
read -r py_acc py_epochs_s < <(python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read().splitlines()[-1]); print(d['accuracy'], d['train_seconds'])" "$out/pytorch.log")
py_last=$(grep -E '^[0-9]+ ' "$out/pytorch.log" | tail -1 | awk '{print $4}')
echo
echo "jimm    resnet10t, $epochs epochs, lr $lr: test accuracy $jimm_tta with flip TTA ($jimm_acc last epoch), epochs ${jimm_epochs_s} s (whole job ${jimm_seconds%.*} s)"
echo "pytorch resnet10t, $epochs epochs, lr $lr: test accuracy $py_acc with flip TTA ($py_last last epoch), training ${py_epochs_s} s"
python3 -c "import sys; print('epoch-time ratio pytorch/jimm %.2f' % (float(sys.argv[2]) / float(sys.argv[1])))" "$jimm_epochs_s" "$py_epochs_s"
