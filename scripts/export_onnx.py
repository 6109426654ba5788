#!/usr/bin/env python3
"""ONNX side of `jimm bench --compare onnxruntime`: a torchvision model with the weights jimm wrote, exported to ONNX.

jimm writes the state_dict of one of its torchvision models (`tv/...`, whose keys are torchvision's) as a
safetensors file; this script reads it without the `safetensors` package (the format is an 8-byte
little-endian header length, a JSON header, then the raw little-endian tensors), loads it strictly into
torchvision's model of the same name, and exports that in eval mode with torch.onnx.export (opset 17,
constant folding, the batch axis dynamic). jimm then runs the file in ONNX Runtime's Java API.

  tv/resnet18, tv/resnet50, tv/mobilenet_v3_large, tv/convnext_tiny, tv/vit_b_16   torchvision's builders

Exit status 3: no torchvision equivalent of the model; 4: numpy, torch or torchvision cannot be imported.
Prints one JSON object on stdout. No test runs this script; jimm bench --compare onnxruntime does.
Usage: /usr/bin/python3 scripts/export_onnx.py --model tv/resnet18 --weights W.safetensors --out M.onnx
       [--num-classes 1000] [--img-size 224]
"""
import argparse
import json
import os
import struct
import sys

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as e:
    print(f"export_onnx.py: {e} (Debian: apt-get install python3-torch python3-torchvision)", file=sys.stderr)
    sys.exit(4)

KNOWN = ("tv/resnet18", "tv/resnet50", "tv/mobilenet_v3_large", "tv/convnext_tiny", "tv/vit_b_16")

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32,
          "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}


def build(name, num_classes, img_size):
    tvm = torchvision.models
    if name == "tv/resnet18":
        return tvm.resnet18(num_classes=num_classes)
    if name == "tv/resnet50":
        return tvm.resnet50(num_classes=num_classes)
    if name == "tv/mobilenet_v3_large":
        return tvm.mobilenet_v3_large(num_classes=num_classes)
    if name == "tv/convnext_tiny":
        return tvm.convnext_tiny(num_classes=num_classes)
    if name == "tv/vit_b_16":
        return tvm.vision_transformer.VisionTransformer(
            image_size=img_size, patch_size=16, num_layers=12, num_heads=12, hidden_dim=768, mlp_dim=3072,
            num_classes=num_classes)
    print(f"export_onnx.py: no torchvision equivalent of model '{name}' (known: {', '.join(KNOWN)})",
          file=sys.stderr)
    sys.exit(3)


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        if entry["dtype"] not in DTYPES:
            sys.exit(f"export_onnx.py: {path}: tensor '{key}' has dtype {entry['dtype']}, "
                     f"expected one of {', '.join(DTYPES)}")
        start, end = entry["data_offsets"]
        a = np.frombuffer(data[start:end], dtype=np.dtype(DTYPES[entry["dtype"]]).newbyteorder("<"))
        tensors[key] = torch.from_numpy(a.reshape(entry["shape"]).astype(a.dtype.newbyteorder("="), copy=True))
    return tensors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--img-size", type=int, default=224)
    a = ap.parse_args()
    model = build(a.model, a.num_classes, a.img_size)
    model.load_state_dict(read_safetensors(a.weights), strict=True)
    model.eval()
    x = torch.randn(1, 3, a.img_size, a.img_size)
    tmp = a.out + ".part"
    # with grad mode on: under no_grad, torch 1.13's nn.MultiheadAttention (ViT) takes its fused fast path,
    # aten::_native_multi_head_attention, which has no ONNX export
    torch.onnx.export(model, x, tmp, opset_version=17, do_constant_folding=True, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    os.replace(tmp, a.out)
    print(json.dumps({"model": a.model, "params": sum(p.numel() for p in model.parameters()),
                      "torch": torch.__version__, "torchvision": torchvision.__version__, "opset": 17,
                      "onnx": a.out}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
