"""PyTorch baseline for scripts/gpu-check.sh on the same GPU as the cuda backend.

- Seed CNN training (Adam, synthetic batch, samples/s = median of timed blocks after a warm-up;
  the loop is device_train.py's, shared with seed_cnn_mps.py)
  in PyTorch eager, its default configuration (cudnn.benchmark off, TF32 convolutions on — the
  PyTorch defaults), at each batch size; plus the same with cudnn.benchmark on, for reference.
- cuBLAS through torch.mm at the seed CNN's conv2 GEMM shape, C[M,64] = A[M,288]·B[288,64]
  with M = batch·196: fp32 (allow_tf32 = False, cuBLAS SGEMM) and TF32 (allow_tf32 = True).
  Timed with CUDA events, median of repeats.

Usage: python3 bench/pytorch/seed_cnn_cuda.py '{"batches": [128, 512], "blocks": 7, "steps": 20}'
Prints one JSON object on the last line of stdout. Needs no network.
"""
import json
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training", "interop"))
from seed_cnn_torch import seed_cnn  # noqa: E402  (the one PyTorch definition of the seed CNN)
from device_train import block_rates  # noqa: E402  (the timing loop shared with seed_cnn_mps.py)


def train_throughput(batch, blocks, steps, benchmark):
    torch.backends.cudnn.benchmark = benchmark
    return statistics.median(block_rates(seed_cnn, "cuda", batch, blocks, steps, 10, torch.cuda.synchronize))


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
