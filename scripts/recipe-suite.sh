#!/usr/bin/env bash
# `jimm train`'s defaults against fastai's defaults (rebuilt in plain PyTorch) on small image folders,
# in one run on this machine.
#
#   scripts/recipe-suite.sh [OUT_DIR] [SEEDS]          (defaults: /tmp/jimm-suite and "1 2 3")
#
# The folders: font-letters (../shared/datasets/font-letters beside the repository, or
# $JIMM_SHARED/datasets/font-letters), and fmnist-2000, fmnist-sample and photo-patches, which
# scripts/make_suite_folders.py builds into OUT_DIR/folders when they are missing. Images are 32 px for
# the three 28x28 gray folders and 64 px for photo-patches. For each folder and seed:
#   ./jimm train FOLDER --model resnet18 --epochs 5 --img-size S --valid-pct 0.2 --seed SEED --json \
#       --out OUT_DIR/runs/jimm-FOLDER-sSEED $JIMM_ARGS
#   OMP_NUM_THREADS=2 /usr/bin/python3 scripts/fastai_defaults_pytorch.py FOLDER --size S --seed SEED --split jimm \
#       --json $TORCH_ARGS
# (the second is what ImageDataLoaders.from_folder(valid_pct=0.2, seed=SEED, item_tfms=Resize(S)),
# vision_learner(resnet18, pretrained=False) and fit_one_cycle(5) do, validated on the images jimm validates
# on for that seed: a 400-image validation set alone moves accuracy by a point or two, so each seed's
# pair is compared on one split; TORCH_ARGS="--split fastai" takes fastai's RandomSplitter instead). Their final JSON lines go to
# OUT_DIR/results.jsonl (rewritten by each run), the logs to OUT_DIR/logs; at the end
# scripts/recipe_suite_table.py prints the markdown table (it can be re-run on a saved results.jsonl).
#
# Environment: SUITE_FOLDERS="font-letters photo-patches" runs only those folders (a folder's path adds any
# other image folder, trained at 32 px, e.g. one from scripts/make_digits_folder.py); JIMM_ARGS and
# TORCH_ARGS are appended to each side's command line; JIMM_SHARED is the shared data directory.
# ./jimm's launcher is left to pick its own malloc (JIMM_MALLOC) and threads.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/jimm-suite}"
seeds="${2:-1 2 3}"
shared="${JIMM_SHARED:-$here/../shared}"
folders="${SUITE_FOLDERS:-font-letters fmnist-2000 fmnist-sample photo-patches}"
py=/usr/bin/python3
mkdir -p "$out/runs" "$out/logs"
out="$(cd "$out" && pwd)"
cd "$here"

folder_path() {
  if [ -d "$1" ]; then echo "$1"; return; fi   # any other image folder, by its path (trained at 32 px)
  case "$1" in
    font-letters) echo "$shared/datasets/font-letters" ;;
    fmnist-2000|fmnist-sample|photo-patches) echo "$out/folders/$1" ;;
    *) echo "recipe-suite: unknown folder '$1' (expected font-letters, fmnist-2000, fmnist-sample, photo-patches)" >&2; return 2 ;;
  esac
}
folder_size() {
  case "$1" in photo-patches) echo 64 ;; *) echo 32 ;; esac
}

need_make=""
for f in $folders; do
  p="$(folder_path "$f")"
  if [ ! -d "$p" ]; then
    case "$f" in /*) echo "recipe-suite: $f not found" >&2; exit 2 ;; esac
    [ "$f" = font-letters ] && { echo "recipe-suite: $p not found (set JIMM_SHARED)" >&2; exit 2; }
    need_make=1
  fi
done
if [ -n "$need_make" ]; then
  "$py" scripts/make_suite_folders.py "$out/folders" --fashion-mnist "$shared/datasets/fashion-mnist" \
    --photos "$shared/images/real"
fi

./jimm --version >/dev/null   # builds the CLI first, so the build is not timed
results="$out/results.jsonl"
: > "$results"

# record SIDE FOLDER SEED SIZE EXIT_STATUS LOG: the log's last line (the JSON) tagged with side, folder,
# seed and size, or an error entry when the run failed
record() {
  "$py" - "$@" >> "$results" <<'PY'
import json, sys
side, folder, seed, size, status, log = sys.argv[1:7]
entry = {"side": side, "folder": folder, "seed": int(seed), "size": int(size)}
lines = [l for l in open(log, errors="replace").read().splitlines() if l.strip()]
try:
    if status != "0":
        raise ValueError("exit status " + status)
    d = json.loads(lines[-1])
    d.pop("folder", None); d.pop("seed", None); d.pop("size", None)
    entry.update(d)
except (ValueError, IndexError) as e:
    entry["error"] = str(e) + (": " + lines[-1][:200] if lines else "")
print(json.dumps(entry))
PY
  tail -1 "$results"
}

for folder in $folders; do
  p="$(folder_path "$folder")"
  s="$(folder_size "$folder")"
  f="$(basename "$folder")"
  for seed in $seeds; do
    run="$out/runs/jimm-$f-s$seed"
    rm -rf "$run"
    echo "== $f seed $seed: jimm (img-size $s)" >&2
    status=0
    # shellcheck disable=SC2086
    ./jimm train "$p" --model resnet18 --epochs 5 --img-size "$s" --valid-pct 0.2 --seed "$seed" --json \
      --out "$run" ${JIMM_ARGS:-} > "$out/logs/jimm-$f-s$seed.log" 2> "$out/logs/jimm-$f-s$seed.err" || status=$?
    record jimm "$f" "$seed" "$s" "$status" "$out/logs/jimm-$f-s$seed.log"
    echo "== $f seed $seed: pytorch (size $s)" >&2
    status=0
    # shellcheck disable=SC2086
    OMP_NUM_THREADS=2 "$py" scripts/fastai_defaults_pytorch.py "$p" --size "$s" --seed "$seed" --split jimm --json ${TORCH_ARGS:-} \
      > "$out/logs/pytorch-$f-s$seed.log" 2> "$out/logs/pytorch-$f-s$seed.err" || status=$?
    record pytorch "$f" "$seed" "$s" "$status" "$out/logs/pytorch-$f-s$seed.log"
  done
done
echo
"$py" scripts/recipe_suite_table.py "$results" | tee "$out/table.md"
