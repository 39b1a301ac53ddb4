"""Exports the shipped seed CNN (models/seed-cnn/model.safetensors) to ONNX for bench:train's ONNX
Runtime peer, with PyTorch's own exporter: torch.onnx.export(..., opset_version=13), a dynamic
batch dimension, input "x" [N, 1, 28, 28], output "logits" [N, 10].

usage: /usr/bin/python3 bench/pytorch/export_onnx.py WEIGHTS.safetensors OUT.onnx
Prints one JSON line: {"onnx": OUT, "torch": VERSION}. (bench/train.ts checks that ONNX Runtime's
logits for the exported graph agree with inkling's on the same images.)
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training", "interop"))
from check_pytorch import read_safetensors  # noqa: E402  (safetensors without the pip package)
from seed_cnn_torch import seed_cnn  # noqa: E402


def main():
    weights, out = sys.argv[1], sys.argv[2]
    model = seed_cnn().eval()
    model.load_state_dict(read_safetensors(weights), strict=True)
    x = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(
        model, x, out, opset_version=13, input_names=["x"], output_names=["logits"],
        dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}},
    )
    print(json.dumps({"onnx": out, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
