#!/usr/bin/env python3
"""Re-encode the torchvision/Pillow transform fixtures as uint8, losslessly.

Every fixture tensor is k/255 (optionally normalized with the ImageNet mean/std), so
round((x * std + mean) * 255) recovers the exact 8-bit value; this script asserts that
(max error < 1e-3 of a level) and writes U8 safetensors a quarter of the size, so the
test resources stay small. Usage: fixtures_to_u8.py SRC_DIR DST_DIR
"""
import json, struct, sys, os, glob
import numpy as np

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)[:, None, None]
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)[:, None, None]

src, dst = sys.argv[1], sys.argv[2]
for fn in sorted(glob.glob(os.path.join(src, '*.safetensors'))):
    raw = open(fn, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out_header, blobs, off = {}, [], 0
    for key, v in header.items():
        if key == '__metadata__':
            out_header[key] = v
            continue
        a = np.frombuffer(raw[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]],
                          dtype=np.float32).reshape(v['shape'])
        normalized = 'Normalize' in json.loads(header['__metadata__']['pipelines'])[key]
        x = (a * STD + MEAN) if normalized else a
        u = np.round(x * 255)
        assert np.abs(x * 255 - u).max() < 1e-3, (fn, key)
        b = u.astype(np.uint8).tobytes()
        out_header[key] = {'dtype': 'U8', 'shape': v['shape'], 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hb = json.dumps(out_header).encode()
    with open(os.path.join(dst, os.path.basename(fn)), 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)
