#!/usr/bin/env python3
"""PyTorch side of `jimm bench --compare pytorch`: the same measurements as dev.jimm.bench.ModelBench.

For one model, batch size and image size, in plain torch/torchvision (Debian's python3-torch 1.13,
python3-torchvision 0.14), with torch.set_num_threads(--threads):
  train    forward + cross-entropy + backward + AdamW step (betas 0.9/0.99, eps 1e-5, wd 0.01 on
           weights of 2+ dims, as jimm's fastai-style AdamW) on one pre-made random batch, loss.item()
           every step as a training loop does; images/s over --iters steps after --warmup steps
  infer    eval mode, no grad, batch --batch-size; images/s
  latency  eval mode, no grad, batch 1; median ms over --latency-iters calls
and the peak resident memory (VmHWM, reset through /proc/self/clear_refs before the model is built).

The models are timm's architectures rebuilt from torchvision's where they are the same network; the
parameter count is printed so the caller can check it equals jimm's:
  resnet18, resnet50          torchvision resnet18/resnet50 (timm's resnet18/50 are the same network)
  mobilenetv3_large_100       torchvision mobilenet_v3_large (same blocks; timm's head is a 1x1 conv
                              960->1280 where torchvision has a Linear on the pooled features: equal
                              parameters and FLOPs; torchvision's head dropout 0.2 is kept)
  convnext_tiny               torchvision convnext_tiny, stochastic depth off (timm's default 0)
  vit_small_patch16_224       torchvision VisionTransformer(patch 16, dim 384, depth 12, heads 6, mlp 1536)
  vit_base_patch16_224        torchvision vit_b_16

Prints one JSON object on stdout. No test runs this script; jimm bench --compare pytorch does.
Usage: /usr/bin/python3 scripts/bench_pytorch.py --model resnet50 [--batch-size 32] [--img-size 224]
       [--threads 2] [--iters 5] [--warmup 2] [--latency-iters 20] [--modes train,infer,latency]
"""
import argparse
import json
import statistics
import sys
import time

import torch_blas

torch_blas.configure(sys.argv)

import torch  # noqa: E402 (after the BLAS settings, which libopenblas reads when torch loads it)
import torch.nn.functional as F
import torchvision


def build(name, num_classes=1000, img_size=224):
    tvm = torchvision.models
    if name == "resnet18":
        return tvm.resnet18(num_classes=num_classes)
    if name == "resnet50":
        return tvm.resnet50(num_classes=num_classes)
    if name == "mobilenetv3_large_100":
        return tvm.mobilenet_v3_large(num_classes=num_classes)
    if name == "convnext_tiny":
        return tvm.convnext_tiny(num_classes=num_classes, stochastic_depth_prob=0.0)
    if name == "vit_small_patch16_224":
        return tvm.vision_transformer.VisionTransformer(
            image_size=img_size, patch_size=16, num_layers=12, num_heads=6, hidden_dim=384, mlp_dim=1536,
            num_classes=num_classes)
    if name == "vit_base_patch16_224":
        return tvm.vision_transformer.VisionTransformer(
            image_size=img_size, patch_size=16, num_layers=12, num_heads=12, hidden_dim=768, mlp_dim=3072,
            num_classes=num_classes)
    print(f"bench_pytorch.py: no PyTorch equivalent of model '{name}' (known: resnet18, resnet50, "
                     "mobilenetv3_large_100, convnext_tiny, vit_small_patch16_224, vit_base_patch16_224)", file=sys.stderr)
    sys.exit(3)


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def bench_train(model, x, y, warmup, iters):
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.99), eps=1e-5)
    model.train()
    t0 = 0.0
    phases = [0.0, 0.0, 0.0, 0.0]  # forward+loss, backward, step, other (zero_grad, loop)
    last = None
    for i in range(warmup + iters):
        now = time.perf_counter()
        if i == warmup:
            t0 = now
        if i > warmup:
            phases[3] += now - last
        opt.zero_grad(set_to_none=True)
        a = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        loss.item()
        b = time.perf_counter()
        loss.backward()
        c = time.perf_counter()
        opt.step()
        last = time.perf_counter()
        if i >= warmup:
            phases[0] += b - a
            phases[1] += c - b
            phases[2] += last - c
            phases[3] += a - now
    secs = time.perf_counter() - t0
    phases[3] += time.perf_counter() - last
    return iters * x.shape[0] / secs, [1000 * p / iters for p in phases]


def bench_infer(model, x, warmup, iters):
    model.eval()
    with torch.no_grad():
        t0 = 0.0
        for i in range(warmup + iters):
            if i == warmup:
                t0 = time.perf_counter()
            model(x)
        secs = time.perf_counter() - t0
    return iters * x.shape[0] / secs


def bench_latency(model, x1, warmup, iters):
    model.eval()
    times = []
    with torch.no_grad():
        for i in range(warmup + iters):
            t0 = time.perf_counter()
            model(x1)
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--img-size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--latency-iters", type=int, default=20)
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--modes", default="train,infer,latency")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    reset_peak_rss()
    model = build(a.model, a.num_classes, a.img_size)
    out = {"model": a.model, "params": sum(p.numel() for p in model.parameters()), "threads": torch.get_num_threads(),
           "batch_size": a.batch_size, "img_size": a.img_size, "torch": torch.__version__,
           "torchvision": torchvision.__version__}
    x = torch.randn(a.batch_size, 3, a.img_size, a.img_size)
    y = torch.randint(0, a.num_classes, (a.batch_size,))
    modes = a.modes.split(",")
    if "train" in modes:
        out["train_img_s"], out["train_phases_ms"] = bench_train(model, x, y, a.warmup, a.iters)
    if "infer" in modes:
        out["infer_img_s"] = bench_infer(model, x, a.warmup, a.iters)
    if "latency" in modes:
        out["latency_ms"] = bench_latency(model, x[:1].clone(), a.warmup, a.latency_iters)
    out["peak_rss_mb"] = peak_rss_mb()
    out["blas"] = torch_blas.describe()
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
