#!/usr/bin/env python3
"""The jimm Fashion-MNIST recipe written in plain PyTorch, for a side-by-side comparison.

The recipe (README, "Fashion-MNIST from scratch"):
  jimm train fashion-mnist --model resnet10t --epochs E --batch-size 128 --lr minimum

is rebuilt here with the same parts:
- timm's resnet10t (deep tiered stem 24-32-64, BasicBlocks [1, 1, 1, 1], avg-pool shortcuts), one input
  channel, without its classifier, and fastai's head on top (concat pool, BatchNorm1d, dropout 0.25 and
  0.5, 512 hidden, kaiming-normal linear layers); the parameter count is printed to compare with jimm's;
- training images padded by 3 and randomly cropped back to 28, flipped with p = 0.5, normalised with
  the Fashion-MNIST mean 0.2860 and std 0.3530; batches of 128, shuffled, the last partial batch dropped;
- fastai's fit_one_cycle: lr cosine from lr/25 up to lr over the first 25% of the steps, then down to
  lr/1e5; Adam's beta1 0.95 -> 0.85 -> 0.95; AdamW with fastai's betas (0.9, 0.99), eps 1e-5 and
  decoupled weight decay 0.01, none on BatchNorm weights and biases;
- the loss on the test set and its accuracy after every epoch (jimm validates on the test split too).

The peak lr is an argument: scripts/fashion-mnist-recipe.sh passes the one jimm's lr_find chose, so
both runs train with the same schedule. Prints one line per epoch and a final JSON line.

Usage: /usr/bin/python3 scripts/fashion_mnist_pytorch.py DATA_DIR [--epochs 8] [--lr 3e-3]
       [--batch-size 128] [--threads 2] [--workers 2] [--seed 42]
Needs Debian's python3-torch (1.13); torchvision is not used.
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time
from collections import OrderedDict

import torch_blas

torch_blas.configure(sys.argv)

import torch  # noqa: E402 (after the BLAS settings, which libopenblas reads when torch loads it)
import torch.nn as nn
import torch.nn.functional as F

MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def load_split(root, train):
    prefix = "train" if train else "t10k"
    def find(kind):
        for name in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz",
                     f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"):
            if os.path.exists(os.path.join(root, name)):
                return os.path.join(root, name)
        raise SystemExit(f"no {prefix} {kind} idx file in {root}")
    return read_idx(find("images")), read_idx(find("labels")).long()


class FashionMnist(torch.utils.data.Dataset):
    """uint8 images; training samples get pad-and-crop (pad 3 by default, jimm's 1/8 of 28) and horizontal flips."""

    def __init__(self, images, labels, train, seed, pad=3, reprob=0.0, alternating_flip=False):
        self.images, self.labels, self.train, self.seed, self.pad = images, labels, train, seed, pad
        # jimm's --alternating-flip: a seeded half flipped in even epochs, the other half in odd ones; the epoch comes
        # with the index from EpochSampler (epoch * n + i), so that it reaches persistent workers
        self.first_flip = (torch.rand(len(labels), generator=torch.Generator().manual_seed(seed)) < 0.5
                           if alternating_flip else None)
        # jimm's --reprob with the small policy: timm's RandomErasing (re_mode "pixel") after Normalize
        self.erase = random_erasing(reprob) if reprob > 0 else None

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        epoch, i = divmod(i, len(self.labels))
        x = self.images[i].float().div_(255).unsqueeze(0)
        if self.train:
            p = self.pad
            x = F.pad(x, (p, p, p, p))
            top, left = torch.randint(0, 2 * p + 1, (2,)).tolist()
            x = x[:, top:top + 28, left:left + 28]
            if self.first_flip is not None:
                flip = bool(self.first_flip[i]) != (epoch % 2 == 1)
            else:
                flip = bool(torch.rand(()) < 0.5)
            if flip:
                x = x.flip(2)
        x = (x - MEAN) / STD
        if self.train and self.erase is not None:
            x = self.erase(x)
        return x, self.labels[i]


class EpochSampler(torch.utils.data.Sampler):
    """A random order every epoch, each index tagged with the epoch (epoch * n + i) for FashionMnist's alternating
    flip."""

    def __init__(self, n):
        self.n, self.epoch = n, -1

    def __len__(self):
        return self.n

    def __iter__(self):
        self.epoch += 1
        return iter((self.epoch * self.n + torch.randperm(self.n)).tolist())


def random_erasing(p, scale=(0.02, 1 / 3), ratio=(0.3, 3.3)):
    """RandomErasing as torchvision's with value="random": with probability p, a box of area fraction in scale and
    aspect in ratio (log-uniform) becomes standard normal noise; up to 10 draws for a box that fits."""
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))

    def erase(x):
        if torch.rand(()) >= p:
            return x
        c, ih, iw = x.shape
        for _ in range(10):
            area = ih * iw * torch.empty(()).uniform_(*scale).item()
            aspect = math.exp(torch.empty(()).uniform_(*log_ratio).item())
            h, w = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if h < ih and w < iw:
                top = int(torch.randint(0, ih - h + 1, ()).item())
                left = int(torch.randint(0, iw - w + 1, ()).item())
                x = x.clone()
                x[:, top:top + h, left:left + w] = torch.randn(c, h, w)
                return x
        return x
    return erase


class BasicBlock(nn.Module):
    def __init__(self, cin, c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.downsample = None
        if stride != 1 or cin != c:
            pool = nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False) if stride > 1 else nn.Identity()
            self.downsample = nn.Sequential(pool, nn.Conv2d(cin, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        x = F.relu(self.bn1(self.conv1(x)), inplace=True)
        x = self.bn2(self.conv2(x))
        return F.relu(x + shortcut, inplace=True)


def resnet10t_body(in_chans=1):
    """timm's resnet10t without its pooling and classifier."""
    stem = nn.Sequential(
        nn.Conv2d(in_chans, 24, 3, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(inplace=True),
        nn.Conv2d(24, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
        nn.Conv2d(32, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1))
    body = nn.Sequential(stem, BasicBlock(64, 64, 1), BasicBlock(64, 128, 2), BasicBlock(128, 256, 2),
                         BasicBlock(256, 512, 2))
    for m in body.modules():  # timm's ResNet init
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    for m in body.modules():  # zero_init_last
        if isinstance(m, BasicBlock):
            nn.init.zeros_(m.bn2.weight)
    return body


class ConvGroup(nn.Module):
    """airbench's conv group: conv, 2x2 max pool, BatchNorm, GELU, conv, BatchNorm, GELU."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.norm2 = nn.BatchNorm2d(cout)
        for conv in (self.conv1, self.conv2):  # airbench's identity start, as jimm's
            with torch.no_grad():
                w = conv.weight
                nn.init.dirac_(w[:w.size(1)])

    def forward(self, x):
        x = F.gelu(self.norm1(self.pool(self.conv1(x))))
        return F.gelu(self.norm2(self.conv2(x)))


class Stem(nn.Module):
    """A 3x3 conv, BatchNorm and GELU at full resolution."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.gelu(self.norm(self.conv(x)))


@torch.no_grad()
def whiten_stem(conv, images, eps=5e-4):
    """airbench's whitening start, as jimm's Airbench.initFromData: the first filters of the stem conv become the
    eigenvectors of the images' 3x3 patch second moment over sqrt(eigenvalue + eps), and their negatives."""
    c = images.shape[1]
    patches = images.unfold(2, 3, 1).unfold(3, 3, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, c * 9).double()
    values, vectors = torch.linalg.eigh(patches.T @ patches / len(patches))
    pairs = min(c * 9, conv.weight.shape[0] // 2)
    order = values.argsort(descending=True)[:pairs]
    v = vectors[:, order].T / torch.sqrt(values[order].clamp(min=0) + eps)[:, None]
    conv.weight[:2 * pairs] = torch.cat([v, -v]).reshape(2 * pairs, c, 3, 3).float()


AIRBENCH = {"airbench_s": (24, 48, 96, 192), "airbench_w": (16, 32, 128, 256), "airbench_m": (32, 64, 128, 256),
            "airbench94": (24, 64, 256, 256)}


def airbench_body(name, in_chans=1):
    """jimm's airbench family without its head: a 3x3 stem conv, BatchNorm and GELU, then three conv groups.
    PyTorch's default init and each conv's first filters the identity (dirac), as jimm's."""
    stem, w1, w2, w3 = AIRBENCH[name]
    return nn.Sequential(OrderedDict([("stem", Stem(in_chans, stem)), ("block1", ConvGroup(stem, w1)),
                                      ("block2", ConvGroup(w1, w2)), ("block3", ConvGroup(w2, w3))])), w3


class ConcatPool(nn.Module):
    def forward(self, x):
        return torch.cat([F.adaptive_avg_pool2d(x, 1), F.adaptive_max_pool2d(x, 1)], 1).flatten(1)


def fastai_head(nf, n_out):
    head = nn.Sequential(ConcatPool(), nn.BatchNorm1d(2 * nf), nn.Dropout(0.25), nn.Linear(2 * nf, 512, bias=False),
                         nn.ReLU(inplace=True), nn.BatchNorm1d(512), nn.Dropout(0.5), nn.Linear(512, n_out, bias=False))
    for m in head.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight)
    return head


def linear_head(nf, n_out):
    """jimm's --head linear: average pooling and one biased linear layer (kaiming-normal weights, zero bias)."""
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(nf, n_out))
    nn.init.kaiming_normal_(head[2].weight)
    nn.init.zeros_(head[2].bias)
    return head


def sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def one_cycle(pos, lr, div=25.0, div_final=1e5, pct=0.25):
    if pos < pct:
        return sched_cos(lr / div, lr, pos / pct), sched_cos(0.95, 0.85, pos / pct)
    p = (pos - pct) / (1 - pct)
    return sched_cos(lr, lr / div_final, p), sched_cos(0.85, 0.95, p)


def shift_by_one(x, direction):
    """NCHW images moved by one pixel along both axes, +1 down-right, -1 up-left, the edge repeated (jimm's
    Learner.shiftByOne)."""
    p = F.pad(x, (1, 1, 1, 1), mode="replicate")
    h, w = x.shape[2], x.shape[3]
    return p[:, :, :h, :w] if direction > 0 else p[:, :, 2:h + 2, 2:w + 2]


def evaluate(model, loader, label_smoothing=0.0, tta="none"):
    """Mean loss and accuracy. tta "flip": each image scores as the mean probability of it and its mirror; "shift":
    that mean at the image (1/2) and at one-pixel shifts down-right and up-left (1/4 each), jimm's --tta shift."""
    model.eval()
    loss, correct, n = 0.0, 0, 0

    def flip_mean(z):
        return (model(z).softmax(1) + model(z.flip(3)).softmax(1)) / 2

    with torch.no_grad():
        for x, y in loader:
            out = model(x)
            if tta == "flip":
                out = flip_mean(x).clamp_min(1e-30).log()
            elif tta == "shift":
                p = 0.5 * flip_mean(x) + 0.25 * flip_mean(shift_by_one(x, 1)) + 0.25 * flip_mean(shift_by_one(x, -1))
                out = p.clamp_min(1e-30).log()
            loss += F.cross_entropy(out, y, reduction="sum", label_smoothing=label_smoothing).item()
            correct += (out.argmax(1) == y).sum().item()
            n += len(y)
    return loss / n, correct / n


class Lookahead:
    """airbench's lookahead, as jimm's --lookahead: every 5 steps the float state moves to its running average,
    avg = d * avg + (1 - d) * w, w = avg, with d = 0.95^5 * progress^3; the model keeps the average at the end."""

    def __init__(self, model, every=5, max_decay=0.95 ** 5):
        self.model, self.every, self.max_decay = model, every, max_decay
        self.avg = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    def after_step(self, step, total):
        if step % self.every == 0:
            self.update(self.max_decay * min(1.0, step / total) ** 3)

    @torch.no_grad()
    def update(self, decay):
        for k, w in self.model.state_dict().items():
            if k in self.avg:
                self.avg[k].lerp_(w, 1 - decay)
                w.copy_(self.avg[k])


def progressive_size(epoch, full, resize):
    """jimm's ProgressiveResize.sizeAt: MIN:EPOCHS grows the longer side linearly from MIN over the first EPOCHS epochs."""
    if resize is None or epoch >= resize[1] or resize[0] >= full:
        return full
    return int(math.floor(resize[0] + (full - resize[0]) * epoch / resize[1] + 0.5))


def fit_one_cycle(model, opt, train, valid, epochs, lr_max, label_smoothing=0.0, lookahead=False, resize=None,
                  validate_every=1, score_average=True):
    """fastai's fit_one_cycle with Adam(W): prints fastai's table; returns (valid_loss, accuracy, epoch_seconds).
    resize (MIN, EPOCHS) shrinks the first epochs' batches by area averaging, as jimm's --progressive-resize;
    validate_every N scores every N-th epoch and the last, as jimm's --validate-every; score_average scores the
    lookahead average at the end (off when a TTA pass scores it instead, as jimm does)."""
    total = epochs * len(train)
    la = Lookahead(model) if lookahead else None
    print("epoch  train_loss  valid_loss  accuracy  time", flush=True)
    step, epoch_times, vloss, acc = 0, [], float("nan"), 0.0
    for epoch in range(epochs):
        t0 = time.time()
        model.train()
        run_loss = 0.0
        for x, y in train:
            h, w = x.shape[-2:]
            size = progressive_size(epoch, max(h, w), resize)
            if size < max(h, w):
                scale = size / max(h, w)
                x = F.adaptive_avg_pool2d(x, (max(1, int(math.floor(h * scale + 0.5))), max(1, int(math.floor(w * scale + 0.5)))))
            lr, mom = one_cycle(step / total, lr_max)
            for g in opt.param_groups:
                g["lr"], g["betas"] = lr, (mom, 0.99)
            loss = F.cross_entropy(model(x), y, label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            run_loss += loss.item()
            step += 1
            if la is not None:
                la.after_step(step, total)
        validated = (epoch + 1) % validate_every == 0 or epoch + 1 == epochs
        if validated:
            vloss, acc = evaluate(model, valid, label_smoothing)
        epoch_times.append(time.time() - t0)
        scores = f"{vloss:<11.6f} {acc:<9.4f}" if validated else " " * 21
        print(f"{epoch:<6d} {run_loss / len(train):<11.6f} {scores} {epoch_times[-1]:.1f}s", flush=True)
    if la is not None:  # the model keeps the average, as jimm's after its fit (the table's last row is before)
        la.update(1.0)
        if score_average:
            vloss, acc = evaluate(model, valid, label_smoothing)
    return vloss, acc, epoch_times


def write_fixture(path, name):
    """Writes the test fixture that pins jimm's airbench to this file's: the body with random weights (rounded to
    float16, so that the file is half the size and the rounding is the same on both sides), a batch of inputs and the
    eval-mode feature maps, as safetensors."""
    import numpy as np
    torch.manual_seed(0)
    body, _ = airbench_body(name, 1)
    for m in body.modules():  # running statistics and norm affines away from their defaults, so that they count
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    body.eval()
    tensors = {}
    for k, v in body.state_dict().items():
        if k.endswith("num_batches_tracked"):
            tensors[k] = v
            continue
        v.copy_(v.half().float())
        tensors[k] = v.half()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        y = body(x)
    tensors["input"], tensors["output"] = x, y
    header, offset, blobs = {}, 0, []
    for k, v in tensors.items():
        b = v.contiguous().numpy().tobytes()
        header[k] = {"dtype": {torch.float16: "F16", torch.int64: "I64"}.get(v.dtype, "F32"), "shape": list(v.shape),
                     "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    print(f"wrote {path}: {name}, {len(tensors) - 2} state_dict keys, output {list(y.shape)}")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--write-fixture":
        return write_fixture(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--model", default="resnet10t", choices=["resnet10t", *AIRBENCH])
    ap.add_argument("--head", default="fastai", choices=["fastai", "linear"])
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--crop-pad", type=int, default=3, help="pad-and-crop padding (jimm's --crop-pad)")
    ap.add_argument("--wd", type=float, default=0.01, help="AdamW's decoupled weight decay (jimm's --wd)")
    ap.add_argument("--reprob", type=float, default=0.0, help="RandomErasing probability (jimm's --reprob)")
    ap.add_argument("--lookahead", action="store_true", help="airbench's lookahead averaging of the weights")
    ap.add_argument("--alternating-flip", action="store_true",
                    help="flip a seeded half of the images in even epochs, the other half in odd ones (jimm's)")
    ap.add_argument("--progressive-resize", metavar="MIN:EPOCHS", default=None,
                    help="smaller training images in the first EPOCHS epochs, from MIN px (jimm's --progressive-resize)")
    ap.add_argument("--validate-every", type=int, default=1, metavar="N",
                    help="score the test split after every N-th epoch and the last (jimm's --validate-every)")
    ap.add_argument("--tta", nargs="?", const="flip", default="none", choices=["none", "flip", "shift"],
                    help="score the final model with test-time augmentation (a bare --tta: flip)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    t_start = time.time()
    xtr, ytr = load_split(a.data, True)
    xte, yte = load_split(a.data, False)
    train_set = FashionMnist(xtr, ytr, True, a.seed, a.crop_pad, a.reprob, a.alternating_flip)
    train = torch.utils.data.DataLoader(train_set, batch_size=a.batch_size, sampler=EpochSampler(len(train_set)),
                                        drop_last=True, num_workers=a.workers, persistent_workers=a.workers > 0)
    test = torch.utils.data.DataLoader(FashionMnist(xte, yte, False, a.seed), batch_size=a.batch_size * 2,
                                       num_workers=a.workers, persistent_workers=a.workers > 0)
    body, nf = (resnet10t_body(1), 512) if a.model == "resnet10t" else airbench_body(a.model, 1)
    model = nn.Sequential(body, fastai_head(nf, 10) if a.head == "fastai" else linear_head(nf, 10))
    if a.model in AIRBENCH:  # from the first 5,000 training images, as jimm's VisionLearner
        sample = []
        for x, _ in train:
            sample.append(x)
            if sum(len(b) for b in sample) >= 5000:
                break
        whiten_stem(body.stem.conv, torch.cat(sample)[:5000])
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.99), eps=1e-5)
    print(f"pytorch {torch.__version__}: {a.model} + {a.head} head, {n_params:,} parameters, {a.threads} threads, "
          f"{a.workers} loader workers, {a.epochs} epochs of {len(train)} batches, lr {a.lr:g}", flush=True)
    t_train = time.time()
    vloss, acc, epoch_times = fit_one_cycle(model, opt, train, test, a.epochs, a.lr, a.label_smoothing, a.lookahead,
                                            tuple(int(v) for v in a.progressive_resize.split(":")) if a.progressive_resize else None,
                                            a.validate_every, a.tta == "none")
    if a.tta != "none":
        vloss, acc = evaluate(model, test, a.label_smoothing, tta=a.tta)
        print(f"{a.tta} TTA: valid_loss {vloss:.6f} accuracy {acc:.4f}", flush=True)
    train_seconds = time.time() - t_train
    print(json.dumps({"framework": "pytorch " + torch.__version__, "model": a.model, "head": a.head, "parameters": n_params, "epochs": a.epochs,
                      "lr": a.lr, "label_smoothing": a.label_smoothing, "lookahead": a.lookahead, "crop_pad": a.crop_pad, "reprob": a.reprob, "alternating_flip": a.alternating_flip, "wd": a.wd, "progressive_resize": a.progressive_resize, "validate_every": a.validate_every, "tta": a.tta, "accuracy": acc, "train_seconds": round(train_seconds, 1),
                      "seconds_per_epoch": round(train_seconds / a.epochs, 1),
                      "total_seconds": round(time.time() - t_start, 1)}))


if __name__ == "__main__":
    main()
