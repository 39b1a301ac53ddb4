"""PyTorch baseline for `npm run bench:train`: the seed CNN on this machine's CPU.

Run by bench/train.ts with /usr/bin/python3 (Debian's python3-torch 1.13) in its best
configuration here: Debian's torch links a busy-waiting OpenBLAS, so OPENBLAS_NUM_THREADS=1 is
set by the caller and torch uses 2 intra-op threads (oneDNN does the convolutions).

Prints one JSON object: training samples/s per batch size (Adam, median of timed blocks after a
warm-up) and inference latency (batch 1) / throughput (batch 256) in eval mode.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SeedCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.dropout1 = nn.Dropout2d(0.25)
        self.fc1 = nn.Linear(3136, 128)
        self.dropout2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return self.fc2(x)


def train_throughput(batch, blocks, steps_per_block):
    torch.manual_seed(1)
    model = SeedCnn().train()
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
    model = SeedCnn().eval()
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
