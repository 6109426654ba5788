#!/usr/bin/env python3
"""PyTorch side of `jimm bench recipe --compare pytorch`: the Fashion-MNIST recipe's epoch time.

The same job as `jimm train fashion-mnist-sample --model resnet10t --lr 1e-3` (the demo's recipe), in
plain torch/torchvision (Debian's python3-torch 1.13, python3-torchvision 0.14):
  data     samples/fashion-mnist (2,000 training and 500 test images, IDX files); training
           transform RandomCrop(28, padding=3) + RandomHorizontalFlip + ToTensor + Normalize(0.2860,
           0.3530), batch 64, shuffled, drop_last; the test split as validation, batch 64
  loader   torch.utils.data.DataLoader with --threads workers (jimm's loader threads), persistent
  model    timm's resnet10t (BasicBlock x (1,1,1,1), deep-tiered stem 24-32-64, avg-pool
           downsampling), in_chans 1, with fastai's head: concat pool (avg, max), BatchNorm1d(1024),
           Dropout(0.25), Linear(1024, 512, bias=False), ReLU, BatchNorm1d(512), Dropout(0.5),
           Linear(512, 10, bias=False); the parameter count is printed to check against jimm's
  train    AdamW (betas 0.9/0.99, eps 1e-5, wd 0.01 on weights of 2+ dims), OneCycleLR(max 1e-3,
           pct_start 0.25, div 25, final div 1e5), cross-entropy; loss.item() every batch
  epoch    train + validation (loss and accuracy) + saving the state_dict when the loss improves
Epoch 1 warms up; the JSON line gives every epoch's seconds and their median after the first.
Usage: /usr/bin/python3 scripts/bench_pytorch_recipe.py [--samples samples/fashion-mnist] [--epochs 3]
       [--threads 2] [--batch-size 64]
"""
import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import torch_blas

torch_blas.configure(sys.argv)

import torch  # noqa: E402 (after the BLAS settings, which libopenblas reads when torch loads it)
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torchvision import transforms

from fashion_mnist_pytorch import BasicBlock  # noqa: E402 (timm's avg_down BasicBlock)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Idx(torch.utils.data.Dataset):
    def __init__(self, images, labels, tf):
        self.images, self.labels, self.tf = images, labels, tf

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.tf(Image.fromarray(self.images[i], mode="L")), int(self.labels[i])


class ResNet10t(nn.Module):
    def __init__(self, in_chans, num_classes):
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_chans, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(inplace=True),
            nn.Conv2d(24, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 3, 1, 1, bias=False))
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        chans = [64, 128, 256, 512]
        layers, cin = [], 64
        for i, c in enumerate(chans):
            layers.append(BasicBlock(cin, c, 1 if i == 0 else 2))
            cin = c
        self.layers = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.BatchNorm1d(1024), nn.Dropout(0.25), nn.Linear(1024, 512, bias=False), nn.ReLU(inplace=True),
            nn.BatchNorm1d(512), nn.Dropout(0.5), nn.Linear(512, num_classes, bias=False))

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x)), inplace=True))
        x = self.layers(x)
        x = torch.cat([F.adaptive_avg_pool2d(x, 1), F.adaptive_max_pool2d(x, 1)], 1).flatten(1)
        return self.head(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", default="samples/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    mean, std = (0.2860,), (0.3530,)
    train_tf = transforms.Compose([transforms.RandomCrop(28, padding=3), transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), transforms.Normalize(mean, std)])
    valid_tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    s = a.samples
    train = Idx(read_idx(f"{s}/train-images-idx3-ubyte.gz"), read_idx(f"{s}/train-labels-idx1-ubyte.gz"), train_tf)
    valid = Idx(read_idx(f"{s}/t10k-images-idx3-ubyte.gz"), read_idx(f"{s}/t10k-labels-idx1-ubyte.gz"), valid_tf)
    workers = a.threads
    tl = torch.utils.data.DataLoader(train, batch_size=a.batch_size, shuffle=True, drop_last=True,
                                     num_workers=workers, persistent_workers=workers > 0)
    vl = torch.utils.data.DataLoader(valid, batch_size=a.batch_size, shuffle=False,
                                     num_workers=workers, persistent_workers=workers > 0)
    model = ResNet10t(1, 10)
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.99), eps=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, epochs=a.epochs, steps_per_epoch=len(tl),
                                                pct_start=0.25, div_factor=25, final_div_factor=1e5)
    best = float("inf")
    out_dir = tempfile.mkdtemp(prefix="bench-recipe-")
    secs, accs = [], []
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        model.train()
        for x, y in tl:
            loss = F.cross_entropy(model(x), y)
            loss.item()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        total, n, right = 0.0, 0, 0
        with torch.no_grad():
            for x, y in vl:
                out = model(x)
                total += F.cross_entropy(out, y, reduction="sum").item()
                right += (out.argmax(1) == y).sum().item()
                n += y.shape[0]
        if total / n < best:
            best = total / n
            torch.save(model.state_dict(), os.path.join(out_dir, "model.pt"))
        secs.append(time.perf_counter() - t0)
        accs.append(right / n)
    print(json.dumps({"params": sum(p.numel() for p in model.parameters()), "epoch_seconds": secs,
                      "median_epoch_seconds": statistics.median(secs[1:] if len(secs) > 1 else secs),
                      "accuracy": accs, "threads": a.threads, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
