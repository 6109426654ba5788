#!/usr/bin/env python3
"""Writes timm's default pretrained tag of every timm model in the parity fixtures (their
meta.pretrained_cfg is timm's own default config), for PretrainedTable: the shared table of
pretrained configs lists tags alphabetically and does not say which one timm picks by default.
Usage: scripts/default_tags_from_fixtures.py ../shared/fixtures/parity > src/main/resources/dev/jimm/models/timm_default_tags.tsv"""
import json, pathlib, struct, sys

rows = []
for f in sorted(pathlib.Path(sys.argv[1]).glob("timm__*.safetensors")):
    with open(f, "rb") as fh:
        n = struct.unpack("<Q", fh.read(8))[0]
        meta = json.loads(json.loads(fh.read(n))["__metadata__"]["meta"])
    cfg = meta.get("pretrained_cfg") or {}
    if cfg.get("tag"):
        rows.append((cfg["architecture"], cfg["tag"]))
print("# architecture\tdefault tag (timm 1.0.29, from the parity fixtures' pretrained_cfg)")
for arch, tag in rows:
    print(f"{arch}\t{tag}")
