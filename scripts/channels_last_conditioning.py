"""How well float32 gradients are determined, in PyTorch itself, in both memory formats.

    /usr/bin/python3 scripts/channels_last_conditioning.py

torchvision resnet18 (10 classes, random init, seed 0), one train-mode step on a batch of two
224-pixel images: each parameter's gradient norm in float32 (default layout, then channels-last)
against float64. Prints the eight worst relative errors. GradFixtureLearnerTest's tolerances come
from this (2026-12-01, PyTorch 1.13: up to 9.3e-4 default layout, 2.6e-3 channels-last, all in
shallow BatchNorm layers whose gradient sums cancel).
"""
import copy

import torch
import torchvision

torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10)
x = torch.randn(2, 3, 224, 224)
y = torch.tensor([1, 7])


def grad_norms(memory_format=None, dtype=torch.float32):
    m = copy.deepcopy(model).to(dtype).train()
    xx = x.to(dtype)
    if memory_format is not None:
        m = m.to(memory_format=memory_format)
        xx = xx.contiguous(memory_format=memory_format)
    torch.nn.functional.cross_entropy(m(xx), y).backward()
    return {k: p.grad.double().norm().item() for k, p in m.named_parameters()}


exact = grad_norms(dtype=torch.float64)
nchw = grad_norms()
cl = grad_norms(torch.channels_last)
rows = sorted(((abs(nchw[k] - exact[k]) / exact[k], abs(cl[k] - exact[k]) / exact[k], k) for k in exact), reverse=True)
for e_nchw, e_cl, k in rows[:8]:
    print(f"{k:32s} default layout {e_nchw:.2e}  channels-last {e_cl:.2e}")
