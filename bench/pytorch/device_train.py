"""Seed CNN training throughput on one PyTorch device: the timing loop shared by the GPU baselines
(seed_cnn_cuda.py for scripts/gpu-check.sh, seed_cnn_mps.py for scripts/mac-check.sh).

Adam, a synthetic batch, `warmup` untimed steps, then `blocks` timed blocks of `steps` steps, each
block closed by `synchronize()` (the device's queue drained before the clock stops). Returns the
samples/s of every block.
"""
import time

import torch
import torch.nn.functional as F


def block_rates(model_fn, device, batch, blocks, steps, warmup, synchronize):
    torch.manual_seed(1)
    dev = torch.device(device)
    model = model_fn().to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    synchronize()
    rates = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        synchronize()
        rates.append(batch * steps / (time.perf_counter() - t0))
    return rates
