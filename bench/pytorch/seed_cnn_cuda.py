"""PyTorch baseline for scripts/gpu-check.sh on the same GPU as the cuda backend.

- Seed CNN training (Adam, synthetic batch, samples/s = median of timed blocks after a warm-up)
  in PyTorch eager, its default configuration (cudnn.benchmark off, TF32 convolutions on — the
  PyTorch defaults), at each batch size; plus the same with cudnn.benchmark on, for reference.
- cuBLAS through torch.mm at the seed CNN's conv2 GEMM shape, C[M,64] = A[M,288]·B[288,64]
  with M = batch·196: fp32 (allow_tf32 = False, cuBLAS SGEMM) and TF32 (allow_tf32 = True).
  Timed with CUDA events, median of repeats.

Usage: python3 bench/pytorch/seed_cnn_cuda.py '{"batches": [128, 512], "blocks": 7, "steps": 20}'
Prints one JSON object on the last line of stdout. Needs no network.
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


def train_throughput(batch, blocks, steps, benchmark):
    torch.backends.cudnn.benchmark = benchmark
    torch.manual_seed(1)
    dev = torch.device("cuda")
    model = SeedCnn().to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(10):
        step()
    torch.cuda.synchronize()
    rates = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
        rates.append(batch * steps / (time.perf_counter() - t0))
    return statistics.median(rates)


def gemm_ms(batch, tf32, repeats=50):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    m, k, n = batch * 196, 288, 64
    a = torch.randn(m, k, device="cuda")
    b = torch.randn(k, n, device="cuda")
    c = torch.empty(m, n, device="cuda")
    for _ in range(5):
        torch.mm(a, b, out=c)
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.mm(a, b, out=c)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    torch.backends.cuda.matmul.allow_tf32 = False
    ms = statistics.median(times)
    return {"ms": ms, "gflops": 2 * m * n * k / (ms / 1e3) / 1e9}


def main():
    args = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    batches = args.get("batches", [128, 512])
    blocks = int(args.get("blocks", 7))
    steps = int(args.get("steps", 20))
    if not torch.cuda.is_available():
        print(json.dumps({"error": "torch.cuda.is_available() is False"}))
        return 1
    result = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name(0),
        "train": {str(b): train_throughput(b, blocks, steps, False) for b in batches},
        "trainCudnnBenchmark": {str(b): train_throughput(b, blocks, steps, True) for b in batches},
        "gemm": {str(b): {"fp32": gemm_ms(b, False), "tf32": gemm_ms(b, True)} for b in batches},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
