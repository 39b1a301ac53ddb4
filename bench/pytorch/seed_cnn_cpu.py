"""PyTorch baseline for `npm run bench:train`: the seed CNN on this machine's CPU.

Run by bench/train.ts with /usr/bin/python3 (Debian's python3-torch 1.13) in its best
configuration here: Debian's torch links a busy-waiting OpenBLAS, so OPENBLAS_NUM_THREADS=1 is
set by the caller and torch uses 2 intra-op threads (oneDNN does the convolutions).

Prints one JSON object: training samples/s per batch size (Adam, median of timed blocks after a
warm-up) and inference latency (batch 1) / throughput (batch 256) in eval mode.
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training", "interop"))
from seed_cnn_torch import seed_cnn  # noqa: E402  (the one PyTorch definition of the seed CNN)


def train_throughput(batch, blocks, steps_per_block):
    torch.manual_seed(1)
    model = seed_cnn().train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    rates = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(steps_per_block):
            step()
        rates.append(batch * steps_per_block / (time.perf_counter() - t0))
    return statistics.median(rates)


def inference(batch, repeats):
    torch.manual_seed(1)
    model = seed_cnn().eval()
    x = torch.randn(batch, 1, 28, 28)
    times = []
    with torch.no_grad():
        for _ in range(10):
            model(x)
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    threads = int(args.get("threads", 2))
    torch.set_num_threads(threads)
    batches = args.get("batches", [64, 128])
    blocks = int(args.get("blocks", 5))
    steps = int(args.get("stepsPerBlock", 10))
    result = {
        "torch": torch.__version__,
        "threads": threads,
        "train": {str(b): train_throughput(b, blocks, steps) for b in batches},
        "inferenceB1Ms": inference(1, 200),
        "inferenceB256Ms": inference(256, 20),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
