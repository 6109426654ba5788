#!/usr/bin/env python3
"""fastai's defaults on an image folder, rebuilt in plain PyTorch (fastai itself is not installable here).

What a fastai user types for a folder of images:

    dls = ImageDataLoaders.from_folder(path, valid_pct=0.2, seed=SEED, item_tfms=Resize(SIZE), bs=64)
    learn = vision_learner(dls, resnet18, pretrained=False, metrics=accuracy)
    learn.fit_one_cycle(5)

rebuilt with the same parts:
- items: fastai's get_image_files (every file under FOLDER whose extension is an image mimetype, hidden
  files and folders skipped), label = the parent folder's name, classes = the sorted labels. The file
  list is sorted here (fastai keeps os.walk's order, which depends on the file system).
- RandomSplitter(valid_pct, seed): torch.manual_seed(seed), torch.randperm(n); the first int(valid_pct*n)
  indices are the validation set.
- PILImage.create: PIL open, convert("RGB") (gray images too). Resize(SIZE) with its default method
  "crop": the largest box of the target aspect ratio, at top-left (int(p0*(w-cw)), int(p1*(h-ch))) with
  p0, p1 = two random.random() draws in training and 0.5 in validation, then a PIL bilinear resize to
  SIZE x SIZE (no padding is ever needed in crop mode). ToTensor + IntToFloatTensor: /255 as float.
  No augmentation and no Normalize (vision_learner adds Normalize only for pretrained models).
  --flip adds a horizontal flip with p = 0.5 in training (not a fastai default; for comparison only).
- vision_learner(resnet18, pretrained=False): torchvision's resnet18() (its own init) cut before avgpool
  and fc (fastai's model_meta cut -2), plus create_head(512, n): AdaptiveConcatPool2d (max, then avg),
  Flatten, BatchNorm1d(1024), Dropout(0.25), Linear(1024, 512, bias=False), ReLU, BatchNorm1d(512),
  Dropout(0.5), Linear(512, n, bias=False); fastai's BatchNorm1d starts with bias 1e-3 (weight 1), and
  apply_init(head, kaiming_normal_) draws the linear layers' weights (BatchNorm layers skipped).
  Loss CrossEntropyLossFlat (mean cross-entropy).
- fit_one_cycle(epochs, lr_max=1e-3): per batch, lr cosine from lr/25 to lr over the first 25% of the
  steps, then cosine down to lr/1e5; Adam's beta1 0.95 -> 0.85 -> 0.95 alongside. fastai's Adam:
  betas (0.9, 0.99), eps 1e-5, decoupled weight decay 0.01 (torch's AdamW does the same steps), none on
  BatchNorm parameters and biases (wd_bn_bias=False). Training batches of 64, shuffled, the last
  partial one dropped; validation in order.
- after every epoch: the mean validation loss and the accuracy (the final ones are the last epoch's).

Prints one line per epoch; with --json, ends with one JSON line
{"folder", "seed", "accuracy", "valid_loss", "seconds", "train_images", "valid_images", ...}
("seconds" is the whole job after imports: listing, training, validation).

Usage: /usr/bin/python3 scripts/fastai_defaults_pytorch.py FOLDER [--size 32] [--epochs 5] [--lr 1e-3]
       [--bs 64] [--valid-pct 0.2] [--seed 1] [--threads 2] [--workers 2] [--flip] [--json]
Needs Debian's python3-torch (1.13) and python3-torchvision (0.14, for resnet18 only) and Pillow.
"""
import argparse
import json
import mimetypes
import os
import random
import sys
import time

import torch_blas

torch_blas.configure(sys.argv)

import torch  # noqa: E402 (after the BLAS settings, which libopenblas reads when torch loads it)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image  # noqa: E402

# fastai's one-cycle schedule and the plain evaluation, as the Fashion-MNIST reference has them
from fashion_mnist_pytorch import fit_one_cycle  # noqa: E402

# fastai's image_extensions
IMAGE_EXTENSIONS = {k for k, v in mimetypes.types_map.items() if v.startswith("image/")}


def get_image_files(root):
    """fastai's get_image_files (recursive, hidden names skipped), sorted."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for f in filenames:
            if not f.startswith(".") and ("." + f.split(".")[-1].lower()) in IMAGE_EXTENSIONS:
                files.append(os.path.join(dirpath, f))
    return sorted(files)


def random_splitter(n, valid_pct, seed):
    """fastai's RandomSplitter: (train indices, valid indices)."""
    torch.manual_seed(seed)
    idx = torch.randperm(n).tolist()
    cut = int(valid_pct * n)
    return idx[cut:], idx[:cut]


M64 = (1 << 64) - 1


class JavaSplittableRandom:
    """java.util.SplittableRandom (JDK 17), as far as jimm's split uses it: the seeded constructor and nextInt(bound)."""

    def __init__(self, seed):
        self.seed = seed & M64
        self.gamma = 0x9E3779B97F4A7C15

    def _next_int(self):
        self.seed = (self.seed + self.gamma) & M64
        z = self.seed
        z = ((z ^ (z >> 33)) * 0x62A9D9ED799705F5) & M64
        r = (((z ^ (z >> 28)) * 0xCB24D0A5C88C35B3) & M64) >> 32
        return r - (1 << 32) if r >= 1 << 31 else r

    def next_int(self, bound):
        r = self._next_int()
        m = bound - 1
        if bound & m == 0:
            return r & m
        u = (r & 0xFFFFFFFF) >> 1
        while True:
            r = u % bound
            if u + m - r < 1 << 31:  # Java's int sum did not overflow
                return r
            u = (self._next_int() & 0xFFFFFFFF) >> 1


def jimm_splitter(n, valid_pct, seed):
    """jimm's Split.random over the same sorted files: a Fisher-Yates permutation from SplittableRandom(seed), the
    first floor(n * valid_pct) to validation."""
    rng = JavaSplittableRandom(seed)
    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.next_int(i + 1)
        p[i], p[j] = p[j], p[i]
    cut = int(n * valid_pct)
    return sorted(p[cut:]), sorted(p[:cut])


def resize_crop(im, size, pcts):
    """fastai's Resize(size) with method crop on a PIL image (crop box never leaves the image)."""
    w, h = im.size
    m = w / size if w / size < h / size else h / size
    cw, ch = int(m * size), int(m * size)
    left, top = int(pcts[0] * (w - cw)), int(pcts[1] * (h - ch))
    left, top = max(left, 0), max(top, 0)
    im = im.crop((left, top, min(left + cw, w), min(top + ch, h)))
    return im.resize((size, size), Image.BILINEAR)


class FolderItems(torch.utils.data.Dataset):
    def __init__(self, files, labels, size, train, flip):
        self.files, self.labels, self.size, self.train, self.flip = files, labels, size, train, flip

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        with Image.open(self.files[i]) as im:
            im = im.convert("RGB")
        pcts = (random.random(), random.random()) if self.train else (0.5, 0.5)
        im = resize_crop(im, self.size, pcts)
        x = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8).view(self.size, self.size, 3)
        x = x.permute(2, 0, 1).float().div_(255)
        if self.train and self.flip and random.random() < 0.5:
            x = x.flip(2)
        return x, self.labels[i]


class AdaptiveConcatPool2d(nn.Module):
    """fastai's: max pooling then average pooling, concatenated."""

    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1)


class Flatten(nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)


def fastai_head(nf, n_out):
    """create_head(nf, n_out) with its defaults (lin_ftrs [512], ps 0.5, concat pool, first_bn)."""
    head = nn.Sequential(AdaptiveConcatPool2d(), Flatten(),
                         nn.BatchNorm1d(2 * nf), nn.Dropout(0.25), nn.Linear(2 * nf, 512, bias=False), nn.ReLU(inplace=True),
                         nn.BatchNorm1d(512), nn.Dropout(0.5), nn.Linear(512, n_out, bias=False))
    for m in head.modules():
        if isinstance(m, nn.BatchNorm1d):  # fastai's BatchNorm(nf, ndim=1): weight 1, bias 1e-3
            nn.init.constant_(m.bias, 1e-3)
        elif isinstance(m, nn.Linear):  # apply_init(head, kaiming_normal_) skips the BatchNorm layers
            nn.init.kaiming_normal_(m.weight)
    return head


def resnet18_fastai(n_out):
    """vision_learner(dls, resnet18, pretrained=False)'s model: create_body (cut -2) + create_head."""
    tv = torchvision.models.resnet18()
    body = nn.Sequential(*list(tv.children())[:-2])
    return nn.Sequential(body, fastai_head(512, n_out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--valid-pct", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--split", choices=["fastai", "jimm"], default="fastai",
                    help="fastai's RandomSplitter (default), or jimm's split of the same files for the same seed, so that "
                         "both sides validate on the same images")
    ap.add_argument("--flip", action="store_true", help="horizontal flips (p = 0.5) in training; not a fastai default")
    ap.add_argument("--json", action="store_true", help="end with one JSON line of the final metrics")
    a = ap.parse_args()
    t_start = time.time()
    torch.set_num_threads(a.threads)
    random.seed(a.seed)  # fastai leaves the crop positions and the shuffling unseeded; seeded here to repeat runs

    files = get_image_files(a.folder)
    if not files:
        raise SystemExit(f"{a.folder}: no image files")
    names = [os.path.basename(os.path.dirname(f)) for f in files]
    if a.split == "jimm":
        train_idx, valid_idx = jimm_splitter(len(files), a.valid_pct, a.seed)
        torch.manual_seed(a.seed)  # the init still follows the seed, as after fastai's splitter
    else:
        train_idx, valid_idx = random_splitter(len(files), a.valid_pct, a.seed)
    classes = sorted({names[i] for i in train_idx})  # fastai's vocab comes from the training items
    cid = {c: i for i, c in enumerate(classes)}
    valid_idx = [i for i in valid_idx if names[i] in cid]
    labels = [cid.get(n, -1) for n in names]

    def subset(idx, train):
        return FolderItems([files[i] for i in idx], [labels[i] for i in idx], a.size, train, a.flip)

    kw = dict(num_workers=a.workers, persistent_workers=a.workers > 0)
    train_dl = torch.utils.data.DataLoader(subset(train_idx, True), batch_size=a.bs, shuffle=True, drop_last=True, **kw)
    valid_dl = torch.utils.data.DataLoader(subset(valid_idx, False), batch_size=a.bs, shuffle=False, **kw)

    model = resnet18_fastai(len(classes))  # after the splitter's manual_seed, as in fastai
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.ndim > 1]  # BatchNorm weights and biases are the 1-d ones
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.99), eps=1e-5)
    total = a.epochs * len(train_dl)
    if total == 0:
        raise SystemExit(f"{a.folder}: {len(train_idx)} training images make no full batch of {a.bs}")
    torch.ones(2, 2) @ torch.ones(2, 2)  # loads the BLAS, so describe() can name it
    print(f"pytorch {torch.__version__} ({torch_blas.describe()}): resnet18 + fastai head, "
          f"{n_params:,} parameters; {a.folder}: {len(classes)} classes, {len(train_idx)} train / {len(valid_idx)} valid "
          f"images at {a.size}px; {a.epochs} epochs of {len(train_dl)} batches, lr {a.lr:g}, seed {a.seed}, "
          f"{a.threads} threads, {a.workers} loader workers{', flips' if a.flip else ''}", flush=True)
    t_train = time.time()
    vloss, acc, _ = fit_one_cycle(model, opt, train_dl, valid_dl, a.epochs, a.lr)
    t_end = time.time()
    if a.json:
        print(json.dumps({"folder": os.path.basename(os.path.normpath(a.folder)), "seed": a.seed, "accuracy": acc,
                          "valid_loss": vloss, "seconds": round(t_end - t_start, 1),
                          "train_seconds": round(t_end - t_train, 1), "train_images": len(train_idx),
                          "valid_images": len(valid_idx), "classes": len(classes), "size": a.size, "epochs": a.epochs,
                          "lr": a.lr, "flip": a.flip, "framework": "pytorch " + torch.__version__,
                          "path": os.path.abspath(a.folder)}), flush=True)


if __name__ == "__main__":
    main()
