#!/usr/bin/env python3
"""torchvision DataLoader throughput on an image folder, same pipeline as dev.jimm.data.LoaderBench.

Pipeline (timm/torchvision train defaults, as Pipelines.createTransform(imagenet(size, bilinear), true)):
RandomResizedCrop(size, scale=(0.08, 1), ratio=(3/4, 4/3), bilinear) -> RandomHorizontalFlip ->
ColorJitter(0.4, 0.4, 0.4) -> ToTensor -> Normalize(ImageNet), batch 32, shuffle, num_workers = cores.
The first epoch warms up (file cache, worker start-up) and is not timed, as in LoaderBench.

Usage: python3 scripts/bench_torchvision_loader.py DIR [size=224] [batch=32] [workers=cores] [epochs=3]
Needs torch + torchvision (Debian: apt-get install python3-torch python3-torchvision). Run manually;
no test runs it. Compare with:
  java -cp jimm-cli/target/classes:$(cat cp.txt) dev.jimm.bench.LoaderBench DIR 224 32 <cores> 3
"""
import os
import sys
import time

import torch
from torchvision import datasets, transforms


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    root = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 224
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else os.cpu_count()
    epochs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    tf = transforms.Compose([
        transforms.RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                                     interpolation=transforms.InterpolationMode.BILINEAR),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(0.4, 0.4, 0.4),
        transforms.ToTensor(),
        transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    ])
    ds = datasets.ImageFolder(root, transform=tf)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers,
                                         persistent_workers=workers > 0)
    images, t0 = 0, 0.0
    for e in range(epochs):
        if e == 1 or epochs == 1:
            t0, images = time.perf_counter(), 0
        for x, y in loader:
            images += x.shape[0]
    secs = time.perf_counter() - t0
    print(f"torchvision loader: {images} images in {secs:.2f} s = {images / secs:.1f} images/s "
          f"({workers} workers, batch {batch}, size {size})")


if __name__ == "__main__":
    main()
