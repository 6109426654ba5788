#!/usr/bin/env python3
"""Builds the image folders of the small-folder suite (scripts/recipe-suite.sh) that do not exist as
folders already, deterministically:

- fmnist-2000/: 2,000 28x28 gray PNGs in 10 class folders (T-shirt_top, Trouser, ... Ankle_boot), the
  first 200 images of each class in the Fashion-MNIST *test* file (t10k) of --fashion-mnist (default
  ../shared/datasets/fashion-mnist beside the repository); distinct from the bundled sample, which
  holds training images.
- fmnist-sample/: the bundled sample's 2,000 training images (samples/fashion-mnist/train-*), the first
  200 of each class of the training file, as an image folder likewise.
- photo-patches/: 150 colour JPEGs per class (quality 90), one class per colour photograph in
  --photos (default ../shared/images/real: astronaut, chelsea, coffee, hubble_deep_field,
  motorcycle_left, rocket; camera is gray and horse a binary silhouette, so they are left out). Each is
  a seeded random crop whose side (the square root of its area) is 20-45% of the photo's shorter side,
  with aspect ratio 3/4-4/3 (log-uniform), resized (Lanczos) so its longer side is 64-128 px: files of
  different sizes and shapes, like a user's folder.

A folder already in OUT_DIR is kept (each is written to a temporary name and renamed when complete).
Prints, per folder: classes, images per class, the size range.

Usage: /usr/bin/python3 scripts/make_suite_folders.py OUT_DIR [--fashion-mnist DIR] [--photos DIR] [--seed 0]
"""
import argparse
import gzip
import math
import os
import random
import shutil
import struct
import sys

from PIL import Image

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FMNIST_CLASSES = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                  "Ankle_boot"]
PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "hubble_deep_field.jpg", "motorcycle_left.png", "rocket.jpg"]
PER_CLASS = 200
PATCHES_PER_CLASS = 150


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def write_idx_folder(images_path, labels_path, prefix, out):
    """The first PER_CLASS images of each class, as out/CLASS/PREFIX-INDEX.png (INDEX: position in the file)."""
    (n, h, w), pixels = read_idx(images_path)
    (n_labels,), labels = read_idx(labels_path)
    assert n == n_labels, (images_path, n, n_labels)
    taken = [0] * len(FMNIST_CLASSES)
    for c in FMNIST_CLASSES:
        os.makedirs(os.path.join(out, c))
    for i in range(n):
        c = labels[i]
        if taken[c] >= PER_CLASS:
            continue
        taken[c] += 1
        im = Image.frombytes("L", (w, h), pixels[i * h * w:(i + 1) * h * w])
        im.save(os.path.join(out, FMNIST_CLASSES[c], f"{prefix}-{i:05d}.png"), optimize=False)
        if min(taken) >= PER_CLASS:
            break
    if min(taken) < PER_CLASS:
        raise SystemExit(f"{images_path}: only {taken} images per class (need {PER_CLASS})")


def make_patches(photos_dir, out, seed):
    for k, name in enumerate(PHOTOS):
        cls = os.path.splitext(name)[0]
        os.makedirs(os.path.join(out, cls))
        rng = random.Random(seed * 1000 + k)
        with Image.open(os.path.join(photos_dir, name)) as src:
            photo = src.convert("RGB")
        pw, ph = photo.size
        short = min(pw, ph)
        for j in range(PATCHES_PER_CLASS):
            side = rng.uniform(0.20, 0.45) * short
            ar = math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))  # width / height
            cw = min(pw, max(8, round(side * ar ** 0.5)))
            ch = min(ph, max(8, round(side / ar ** 0.5)))
            left = rng.randint(0, pw - cw)
            top = rng.randint(0, ph - ch)
            crop = photo.crop((left, top, left + cw, top + ch))
            longer = rng.randint(64, 128)
            s = longer / max(cw, ch)
            size = (max(1, round(cw * s)), max(1, round(ch * s)))
            crop.resize(size, Image.LANCZOS).save(os.path.join(out, cls, f"{cls}-{j:03d}.jpg"), quality=90)


def describe(folder):
    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    counts, sizes, nbytes = {}, set(), 0
    for c in classes:
        files = sorted(os.listdir(os.path.join(folder, c)))
        counts[c] = len(files)
        for f in files:
            p = os.path.join(folder, c, f)
            nbytes += os.path.getsize(p)
            with Image.open(p) as im:
                sizes.add((im.size, im.mode))
    ws = [s[0][0] for s in sizes]
    hs = [s[0][1] for s in sizes]
    modes = sorted({s[1] for s in sizes})
    per = sorted(set(counts.values()))
    print(f"{os.path.basename(folder)}: {len(classes)} classes, {sum(counts.values())} images "
          f"({'/'.join(map(str, per))} per class), width {min(ws)}-{max(ws)} x height {min(hs)}-{max(hs)} px, "
          f"mode {','.join(modes)}, {nbytes / 1e6:.1f} MB")
    print("  classes: " + ", ".join(f"{c} {n}" for c, n in counts.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--fashion-mnist", default=os.path.join(HERE, "..", "shared", "datasets", "fashion-mnist"))
    ap.add_argument("--sample", default=os.path.join(HERE, "samples", "fashion-mnist"))
    ap.add_argument("--photos", default=os.path.join(HERE, "..", "shared", "images", "real"))
    ap.add_argument("--seed", type=int, default=0, help="seed of the photo patches")
    a = ap.parse_args()
    jobs = {
        "fmnist-2000": lambda d: write_idx_folder(os.path.join(a.fashion_mnist, "t10k-images-idx3-ubyte.gz"),
                                                  os.path.join(a.fashion_mnist, "t10k-labels-idx1-ubyte.gz"), "t10k", d),
        "fmnist-sample": lambda d: write_idx_folder(os.path.join(a.sample, "train-images-idx3-ubyte.gz"),
                                                    os.path.join(a.sample, "train-labels-idx1-ubyte.gz"), "train", d),
        "photo-patches": lambda d: make_patches(a.photos, d, a.seed),
    }
    os.makedirs(a.out, exist_ok=True)
    for name, make in jobs.items():
        final = os.path.join(a.out, name)
        if os.path.isdir(final):
            print(f"{name}: kept (already in {a.out})")
        else:
            tmp = os.path.join(a.out, "." + name + ".partial")
            shutil.rmtree(tmp, ignore_errors=True)
            make(tmp)
            os.rename(tmp, final)
        describe(final)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
