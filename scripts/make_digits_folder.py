#!/usr/bin/env python3
"""Writes scikit-learn's 1,797 handwritten digits (8x8, 16 gray levels; Debian's python3-sklearn ships them) as an
image folder, one subfolder per digit, for checking `jimm train`'s defaults on a folder they were not tuned on.

Usage: /usr/bin/python3 scripts/make_digits_folder.py OUT_DIR
"""
import os
import sys

from PIL import Image
from sklearn.datasets import load_digits


def main():
    out = sys.argv[1]
    d = load_digits()
    for i, (img, label) in enumerate(zip(d.images, d.target)):
        folder = os.path.join(out, str(label))
        os.makedirs(folder, exist_ok=True)
        # 0..16 ink levels to 0..255, ink bright on a dark ground as the data holds it
        px = (img * 255.0 / 16.0).round().clip(0, 255).astype("uint8")
        Image.fromarray(px, mode="L").save(os.path.join(folder, f"{i:04d}.png"))
    print(f"{len(d.target)} images in {out}")


if __name__ == "__main__":
    main()
