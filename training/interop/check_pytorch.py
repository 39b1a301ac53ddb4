#!/usr/bin/env python3
"""Loads an inkling safetensors checkpoint into the seed CNN built in PyTorch and compares logits.

usage: /usr/bin/python3 check_pytorch.py WEIGHTS.safetensors PROBE.safetensors

WEIGHTS: the model file `inkling train` writes (PyTorch state_dict names).
PROBE:   tensors "images" [N,1,28,28] float32 (MNIST-normalised) and "logits" [N,10] float32,
         inkling's own outputs for those images in eval mode.
Prints one JSON line: {"max_abs_diff": ..., "n": ..., "argmax_agree": ..., "missing": [], "unexpected": []}
and exits 0; a strict load_state_dict failure raises (exit 1). Needs only torch (Debian's
python3-torch); the safetensors format is parsed here (8-byte little-endian header length, JSON
header, raw little-endian data) so the `safetensors` pip package is not required.
"""
import json
import os
import struct
import sys
from collections import OrderedDict

import torch

DTYPES = {"F32": torch.float32, "I32": torch.int32, "I64": torch.int64, "F64": torch.float64, "U8": torch.uint8}


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_cnn_torch import seed_cnn  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = OrderedDict()
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        buf = bytearray(data[begin:end])
        t = torch.frombuffer(buf, dtype=DTYPES[entry["dtype"]]) if end > begin else torch.empty(0, dtype=DTYPES[entry["dtype"]])
        out[name] = t.reshape(entry["shape"]).clone()
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    weights, probe_path = sys.argv[1], sys.argv[2]
    model = seed_cnn()
    result = model.load_state_dict(read_safetensors(weights), strict=True)
    model.eval()
    probe = read_safetensors(probe_path)
    with torch.no_grad():
        logits = model(probe["images"].float())
    diff = (logits - probe["logits"]).abs().max().item()
    agree = (logits.argmax(1) == probe["logits"].argmax(1)).float().mean().item()
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"max_abs_diff": diff, "n": int(logits.shape[0]), "argmax_agree": agree, "parameters": params,
                      "missing": list(result.missing_keys), "unexpected": list(result.unexpected_keys), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
