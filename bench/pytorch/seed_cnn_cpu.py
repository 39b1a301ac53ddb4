"""PyTorch peer for `npm run bench:train`: seed-CNN training (Adam) on this machine's CPU.

Run by bench/train.ts with /usr/bin/python3 (Debian's python3-torch 1.13). It is a worker: it
starts once per configuration, loads the batches bench/train.ts wrote (real MNIST, rotated: the
same batches inkling trains on), then answers one command per stdin line with one JSON line:

    {"cmd": "round", "batch": 128, "warmup": 20, "steps": 200}
        -> {"samplesPerSec": ..., "seconds": ..., "steps": 200}
    {"cmd": "quit"}

so that bench/train.ts can interleave rounds (inkling, PyTorch, inkling, ...) with both sides
warm. argv[1] is a JSON object:
    data         path prefix of the batch files: <prefix>-b<batch>.f32 (images) and .i32 (labels)
    batches      {"128": count, "64": count}: how many distinct batches each file holds
    threads      torch.set_num_threads (null: PyTorch's default)
    flushDenormal   torch.set_flush_denormal(True)
    channelsLast    model and inputs in torch.channels_last
OPENBLAS_NUM_THREADS, the fourth knob, is an environment variable the caller sets.
"""
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training", "interop"))
from seed_cnn_torch import seed_cnn  # noqa: E402  (the one PyTorch definition of the seed CNN)


def load_batches(prefix, batch, count, channels_last):
    images = torch.from_file(f"{prefix}-b{batch}.f32", shared=False, size=count * batch * 784, dtype=torch.float32)
    labels = torch.from_file(f"{prefix}-b{batch}.i32", shared=False, size=count * batch, dtype=torch.int32)
    xs = images.view(count, batch, 1, 28, 28)
    ys = labels.view(count, batch).long()
    out = []
    for i in range(count):
        x = xs[i].contiguous(memory_format=torch.channels_last) if channels_last else xs[i].contiguous()
        out.append((x, ys[i].contiguous()))
    return out


class Trainer:
    def __init__(self, batches, channels_last):
        torch.manual_seed(1)
        model = seed_cnn().train()
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        self.opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        self.batches = batches
        self.next = 0

    def step(self):
        x, y = self.batches[self.next % len(self.batches)]
        self.next += 1
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.opt.step()

    def round(self, warmup, steps):
        for _ in range(warmup):
            self.step()
        t0 = time.perf_counter()
        for _ in range(steps):
            self.step()
        return time.perf_counter() - t0


def loaded_blas():
    """The library that provides the sgemm_ PyTorch's linear layers call (found with dladdr on the
    symbol the process resolves; a BLAS chosen with LD_PRELOAD comes first there), with OpenBLAS's
    kernel set where it can say; else every BLAS library the process mapped."""
    import ctypes

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]

    process = ctypes.CDLL(None)
    try:
        address = ctypes.cast(process.sgemm_, ctypes.c_void_p)
        info = DlInfo()
        if process.dladdr(address, ctypes.byref(info)) and info.dli_fname:
            path = info.dli_fname.decode()
            described = os.path.realpath(path)
            try:
                lib = ctypes.CDLL(path)
                lib.openblas_get_corename.restype = ctypes.c_char_p
                described += f" (OpenBLAS kernels: {lib.openblas_get_corename().decode()})"
            except (OSError, AttributeError):
                pass
            return described
    except AttributeError:
        pass
    paths = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            name = os.path.basename(path)
            if path.startswith("/") and name.startswith(("libblas.so", "libopenblas", "libblis")) and path not in paths:
                paths.append(path)
    return "mapped: " + ", ".join(os.path.realpath(p) for p in paths) if paths else "none mapped"


def main():
    args = json.loads(sys.argv[1])
    if args.get("threads") is not None:
        torch.set_num_threads(int(args["threads"]))
    if args.get("flushDenormal"):
        torch.set_flush_denormal(True)
    channels_last = bool(args.get("channelsLast"))
    trainers = {}
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": loaded_blas()}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        batch = int(cmd["batch"])
        if batch not in trainers:
            count = int(args["batches"][str(batch)])
            trainers[batch] = Trainer(load_batches(args["data"], batch, count, channels_last), channels_last)
        seconds = trainers[batch].round(int(cmd["warmup"]), int(cmd["steps"]))
        steps = int(cmd["steps"])
        print(json.dumps({"samplesPerSec": batch * steps / seconds, "seconds": seconds, "steps": steps}), flush=True)


if __name__ == "__main__":
    main()
