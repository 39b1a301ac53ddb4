"""Benchmark rows of the scripts/gpu-check.sh summary, from the logs that script writes.

Reads <logs>/bench-train.log (bench/cuda/train.ts), bench-pytorch.log (bench/pytorch/seed_cnn_cuda.py),
gemm_check.log (native/cuda/dev/gemm_check, its RESULT lines) and bench-gemm.log (bench/cuda/gemm.ts);
prints one `stage|result|detail` line per row: training samples/s against PyTorch eager (target 2x)
and the conv2-shape GEMM against cuBLAS (target 70%). Missing logs just give fewer rows.
Usage: python3 bench/cuda/gpu_check_summary.py <logs dir>
"""
import json, re, sys, os
logs = sys.argv[1]
def last_json(name):
    try:
        lines = [l for l in open(os.path.join(logs, name + ".log")).read().splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else None
    except OSError:
        return None
train, torch_res, gemm = last_json("bench-train"), last_json("bench-pytorch"), last_json("bench-gemm")
for b in ("128", "512"):
    ours = train and train["train"].get(b)
    pt = torch_res and torch_res.get("train", {}).get(b)
    if ours:
        ratio = f"{ours['graph'] / pt:.2f}x PyTorch eager (target 2x)" if pt else "no PyTorch number"
        print(f"train b{b}|cuda graph {ours['graph']:.0f} samples/s, eager {ours['eager']:.0f}; pytorch {pt or 0:.0f}|{ratio}; loss {ours['lossEager']:.3f} eager → {ours['lossGraph']:.3f} after replays")
    elif pt:
        print(f"train b{b}|pytorch {pt:.0f} samples/s|cuda backend did not run")
res = {}
try:
    for m in re.finditer(r"RESULT gemm batch=(\d+) (.*)", open(os.path.join(logs, "gemm_check.log")).read()):
        res[m.group(1)] = dict(kv.split("=") for kv in m.group(2).split())
except OSError:
    pass
for b, r in res.items():
    pt = torch_res and torch_res.get("gemm", {}).get(b)
    cf = float(r.get("cublas_fp32_ms", pt["fp32"]["ms"] if pt else "nan"))
    ct = float(r.get("cublas_tf32_ms", pt["tf32"]["ms"] if pt else "nan"))
    s, t = float(r["simt_ms"]), float(r["tf32_ms"])
    src = "cuBLAS in gemm_check" if "cublas_fp32_ms" in r else "cuBLAS via torch.mm"
    print(f"gemm conv2 b{b}|simt {s*1e3:.1f} us = {100*cf/s:.0f}% of fp32; tf32 {t*1e3:.1f} us = {100*ct/t:.0f}% of tf32 (target 70%)|{src}: fp32 {cf*1e3:.1f} us, tf32 {ct*1e3:.1f} us")
if gemm:
    for r in gemm["results"]:
        print(f"{r['what']} b{r['batch']} {r['variant']}|{r['ms']*1e3:.1f} us, {r['gflops']:.0f} GFLOP/s|through the backend (N-API launch included)")
