#!/usr/bin/env python3
"""Builds the loader benchmark folder: N ImageNet-like JPEGs (500x375 or 375x500, quality 90) in 4
class folders, cut at random (seed 0) from ../shared/images/real with Pillow.

Usage: /usr/bin/python3 scripts/make_bench_folder.py [SRC=../shared/images/real] [DST=/tmp/benchimgs] [N=1000]
Then: java ... dev.jimm.data.LoaderBench DST 224 32 2 3  and  scripts/bench_torchvision_loader.py DST 224 32 2 3
"""
import os
import random
import sys

from PIL import Image

src = sys.argv[1] if len(sys.argv) > 1 else "../shared/images/real"
dst = sys.argv[2] if len(sys.argv) > 2 else "/tmp/benchimgs"
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
rng = random.Random(0)
imgs = [Image.open(os.path.join(src, f)).convert("RGB") for f in sorted(os.listdir(src))]
for k in range(n):
    cls = os.path.join(dst, f"class{k % 4}")
    os.makedirs(cls, exist_ok=True)
    im = imgs[k % len(imgs)]
    W, H = im.size
    f = rng.uniform(0.6, 1.0)  # a random 60-100% window, so no two files are the same
    cw, ch = int(W * f), int(H * f)
    x, y = rng.randint(0, W - cw), rng.randint(0, H - ch)
    c = im.crop((x, y, x + cw, y + ch))
    size = (500, 375) if rng.random() < 0.75 else (375, 500)
    c = c.resize(size, Image.BICUBIC)
    if rng.random() < 0.5:
        c = c.transpose(Image.FLIP_LEFT_RIGHT)
    c.save(os.path.join(cls, f"img{k:04d}.jpg"), quality=90)
