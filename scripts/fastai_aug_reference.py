#!/usr/bin/env python3
"""Reference values for FastaiAugmentTest and FastaiResizeTest.

Restates fastai's formulas (fastai/vision/augment.py: flip_mat, rotate_mat, zoom_mat, _prepare_mat,
_WarpCoord/find_coeffs/apply_perspective, AffineCoordTfm, Brightness/Contrast on logits, and Resize with
crop_pad) in plain torch, without fastai, and evaluates them on fixed inputs built from a formula:

* augment: F.affine_grid + the warp + F.grid_sample(bilinear, reflection, align_corners=True), then
  sigmoid(contrast * (logit(x) + logit(brightness))), in float64 (a float32 run is checked to agree within
  1e-5, so the values also stand for fastai's float32 batch path). As in jimm, an identity geometry skips the
  resampling and an identity lighting skips the logit/sigmoid round trip.
* resize: PIL crop, torchvision's F.pad(padding_mode='reflect') and PIL resize(BILINEAR), with the crop box
  and pads computed as fastai's Resize.encodes and _do_crop_pad do for PIL images.

Made with Debian's python3-torch 1.13, torchvision 0.14 and Pillow 9.4:
    /usr/bin/python3 scripts/fastai_aug_reference.py
writes jimm-core/src/test/resources/transforms/fastai_aug_reference.json and fastai_resize_reference.json.
"""
import json
import math
import os
import warnings

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'test', 'resources', 'transforms')


def make_input(c, h, w):
    """Deterministic values in [0.02, 0.98], different on every channel and without symmetry."""
    ci, yi, xi = torch.meshgrid(torch.arange(c), torch.arange(h), torch.arange(w), indexing='ij')
    v = torch.sin(0.7 * yi + 1.3 * xi + 2.1 * ci + 0.05 * yi * xi) * torch.cos(0.4 * xi - 0.9 * yi + ci)
    # float32 values, so the JSON holds exactly what the Java test feeds in
    return (0.5 + 0.48 * v).float().double()


def affine_mat(p, h, w):
    flip = torch.diag(torch.tensor([-1.0 if p['flip'] else 1.0, 1.0, 1.0], dtype=torch.float64))
    t = p['rotateDeg'] * math.pi / 180
    rot = torch.tensor([[math.cos(t), math.sin(t), 0], [-math.sin(t), math.cos(t), 0], [0, 0, 1]],
                       dtype=torch.float64)
    s = 1 / p['zoom']
    col_c = (1 - s) * (2 * p['colPct'] - 1)
    row_c = (1 - s) * (2 * p['rowPct'] - 1)
    zoom = torch.tensor([[s, 0, col_c], [0, s, row_c], [0, 0, 1]], dtype=torch.float64)
    m = flip @ rot @ zoom
    m[0, 1] *= h / w  # _prepare_mat
    m[1, 0] *= w / h
    return m[:2]


def warp_coeffs(x_t, y_t):
    """find_coeffs(orig_pts, targ_pts) of _WarpCoord, with torch.linalg.solve."""
    p1 = [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
    p2 = [(-1 - y_t, -1 - x_t), (-1 + y_t, 1 + x_t), (1 + y_t, -1 + x_t), (1 - y_t, 1 - x_t)]
    rows, rhs = [], []
    for (x1, y1), (x2, y2) in zip(p1, p2):
        rows.append([x2, y2, 1, 0, 0, 0, -x1 * x2, -x1 * y2])
        rows.append([0, 0, 0, x2, y2, 1, -y1 * x2, -y1 * y2])
        rhs += [x1, y1]
    a = torch.tensor(rows, dtype=torch.float64)
    b = torch.tensor(rhs, dtype=torch.float64)
    return torch.linalg.solve(a, b)


def apply_perspective(coords, c):
    """apply_perspective for one image: coords (H, W, 2)."""
    m = torch.cat([c, torch.ones(1, dtype=c.dtype)]).view(3, 3)
    flat = coords.reshape(-1, 2)
    c1 = flat @ m[:, :2].t() + m[:, 2]
    if (c1[:, 2] == 0).any():
        return coords
    return (c1[:, :2] / c1[:, 2:]).reshape(coords.shape)


def logit(x):
    x = x.clamp(1e-7, 1 - 1e-7)
    return -(1 / x - 1).log()


def augment(img, p, dtype=torch.float64):
    x = img.to(dtype)
    c, h, w = x.shape
    geometry = p['flip'] or p['rotateDeg'] != 0 or p['zoom'] != 1 or p['warpX'] != 0 or p['warpY'] != 0
    if geometry:
        mat = affine_mat(p, h, w).to(dtype)[None]
        coords = F.affine_grid(mat, (1, c, h, w), align_corners=True)
        if p['warpX'] != 0 or p['warpY'] != 0:
            coeffs = warp_coeffs(p['warpX'], p['warpY']).to(dtype)
            coords = apply_perspective(coords[0], coeffs)[None]
        x = F.grid_sample(x[None], coords, mode='bilinear', padding_mode='reflection', align_corners=True)[0]
    if p['brightness'] != 0.5 or p['contrast'] != 1:
        change = torch.tensor(p['brightness'], dtype=dtype)
        x = torch.sigmoid((logit(x) + logit(change)) * p['contrast'])
    return x


IDENTITY = dict(flip=False, rotateDeg=0.0, zoom=1.0, colPct=0.5, rowPct=0.5, warpX=0.0, warpY=0.0,
                brightness=0.5, contrast=1.0)


def params(**kw):
    return {**IDENTITY, **kw}


AUG_CASES = [
    ('identity', params()),
    ('flip', params(flip=True)),
    ('rotate10', params(rotateDeg=10.0)),
    ('zoom1.1', params(zoom=1.1, colPct=0.2, rowPct=0.7)),
    ('warp', params(warpX=0.2, warpY=-0.15)),
    ('geometry', params(flip=True, rotateDeg=-7.5, zoom=1.07, colPct=0.9, rowPct=0.15, warpX=-0.12, warpY=0.18)),
    ('lighting', params(brightness=0.6, contrast=1.2)),
    ('everything', params(flip=True, rotateDeg=23.0, zoom=0.8, colPct=0.35, rowPct=0.6, warpX=0.15, warpY=0.1,
                          brightness=0.43, contrast=0.85)),
    ('zoomout0.3', params(rotateDeg=-40.0, zoom=0.3, colPct=0.0, rowPct=1.0)),
]


def rounded(t):
    return [round(float(v), 9) for v in t.flatten()]


def float32_values(t):
    """Shortest decimals that read back as the same float32."""
    return [float(str(np.float32(v))) for v in t.flatten().tolist()]


def aug_reference():
    # affine_grid warns about size-1 grids: its base coordinate is then 0, which is what we want
    warnings.filterwarnings('ignore', message='Since version 1.3.0, affine_grid')
    inputs = {'rgb': make_input(3, 12, 16), 'gray': make_input(1, 9, 9)[:, :, :], 'row': make_input(1, 1, 7)}
    cases = []
    for in_name, img in inputs.items():
        for name, p in AUG_CASES:
            if in_name == 'row' and name not in ('rotate10', 'everything'):
                continue  # the size-1 axis only needs a couple of cases
            exp64 = augment(img, p)
            exp32 = augment(img, p, torch.float32)
            diff = (exp64 - exp32.double()).abs().max().item()
            assert diff < 1e-5, (in_name, name, diff)
            cases.append({'name': f'{in_name}/{name}', 'input': in_name, 'params': p, 'expected': rounded(exp64)})
    return {
        'inputs': {k: {'shape': list(v.shape), 'data': float32_values(v)} for k, v in inputs.items()},
        'cases': cases,
    }


def make_u8(w, h, c, seed):
    """Deterministic 8-bit HWC pixels."""
    yi, xi, ci = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing='ij')
    v = (37 * xi + 91 * yi + 59 * ci + 13 * xi * yi + seed * 17) % 256
    return v.astype(np.uint8)


def fastai_resize(img, size_hw, method, pcts):
    """fastai Resize.encodes + _do_crop_pad for a PIL image, reflection padding, bilinear."""
    W, H = size_hw[1], size_hw[0]
    w, h = img.size
    if method == 'squish':
        return img.resize((W, H), Image.BILINEAR)
    if method == 'pad':
        m = w / W if w / W > h / H else h / H
    else:
        m = w / W if w / W < h / H else h / H
    cp = (int(m * W), int(m * H))
    tl = (int(pcts[0] * (w - cp[0])), int(pcts[1] * (h - cp[1])))
    orig = (w, h)
    if any(t >= 0 for t in tl):
        c = tuple(max(t, 0) for t in tl)
        img = img.crop((c[0], c[1], min(c[0] + cp[0], orig[0]), min(c[1] + cp[1], orig[1])))
    if any(t < 0 for t in tl):
        p = tuple(max(-t, 0) for t in tl)
        f = tuple(max(cp[i] - orig[i] - p[i], 0) for i in range(2))
        img = TF.pad(img, [p[0], p[1], f[0], f[1]], padding_mode='reflect')
    return img.resize((W, H), Image.BILINEAR)


RESIZE_CASES = [
    # (name, (w, h, c), (H, W), method, pcts or None for validation)
    ('pad/valid/rgb13x7', (13, 7, 3), (8, 8), 'pad', None),
    ('pad/train/rgb13x7', (13, 7, 3), (8, 8), 'pad', (0.3, 0.8)),
    ('pad/valid/gray2x9-wide-pad', (2, 9, 1), (4, 6), 'pad', None),
    ('pad/valid/rgb7x6-truncated-tl', (7, 6, 3), (3, 3), 'pad', None),
    ('crop/valid/gray6x11', (6, 11, 1), (5, 4), 'crop', None),
    ('crop/train/gray6x11', (6, 11, 1), (5, 4), 'crop', (0.9, 0.1)),
    ('crop/train/rgb13x7', (13, 7, 3), (4, 5), 'crop', (0.25, 0.6)),
    ('squish/rgb13x7', (13, 7, 3), (8, 5), 'squish', None),
]


def resize_reference():
    cases = []
    for i, (name, (w, h, c), size_hw, method, pcts) in enumerate(RESIZE_CASES):
        arr = make_u8(w, h, c, i)
        img = Image.fromarray(arr[:, :, 0] if c == 1 else arr)
        out = np.asarray(fastai_resize(img, size_hw, method, pcts or (0.5, 0.5)))
        assert out.shape[:2] == size_hw, (name, out.shape)
        cases.append({'name': name, 'width': w, 'height': h, 'channels': c, 'pixels': arr.flatten().tolist(),
                      'targetHeight': size_hw[0], 'targetWidth': size_hw[1], 'method': method,
                      'training': pcts is not None, 'pcts': list(pcts or (0.5, 0.5)),
                      'expected': out.flatten().tolist()})
    return {'cases': cases}


def write(name, obj):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name)
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
        f.write('\n')
    print(path, os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    write('fastai_aug_reference.json', aug_reference())
    write('fastai_resize_reference.json', resize_reference())
