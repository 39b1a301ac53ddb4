"""PyTorch baseline for scripts/mac-check.sh: the seed CNN on PyTorch's `mps` device (Metal
Performance Shaders), the same Mac GPU as inkling's metal backend.

Seed CNN training (Adam, synthetic batch, samples/s = median of timed blocks after a warm-up of
20 steps, torch.mps.synchronize() around every block), PyTorch eager, its default configuration.

Usage: python3 bench/pytorch/seed_cnn_mps.py '{"batches": [64, 128], "blocks": 7, "steps": 10}'
Prints one JSON object on the last line of stdout ({"error": ...} when mps is unavailable).
"""
import json
import os
import platform
import statistics
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training", "interop"))
from seed_cnn_torch import seed_cnn  # noqa: E402  (the one PyTorch definition of the seed CNN)
from device_train import block_rates  # noqa: E402  (the timing loop shared with seed_cnn_cuda.py)


def train_throughput(batch, blocks, steps):
    rates = block_rates(seed_cnn, "mps", batch, blocks, steps, 20, torch.mps.synchronize)
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def main():
    args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    batches = args.get("batches", [64, 128])
    blocks = int(args.get("blocks", 7))
    steps = int(args.get("steps", 10))
    if not torch.backends.mps.is_available():
        print(json.dumps({"error": "torch.backends.mps.is_available() is False (built with MPS: %s)" % torch.backends.mps.is_built()}))
        return 1
    result = {
        "torch": torch.__version__,
        "machine": platform.machine(),
        "macos": platform.mac_ver()[0],
        "train": {str(b): train_throughput(b, blocks, steps) for b in batches},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
