"""Steady-state throughput: compile (timed apart), warm up, then time repeated runs of
`steps` train steps and report the median items/s (images or tokens), for JAX and the
PyTorch peer in the same process."""

import argparse
import functools
import json
import platform
import statistics
import sys
import time

import jax

from benchmarks.workloads import WORKLOADS


def _time(step, carry, steps: int, warmup: int, repeats: int, sync) -> tuple[float, object]:
    """Median seconds per step over `repeats` runs of `steps` steps, after `warmup` steps."""
    for _ in range(warmup):
        carry = step(carry)
    sync(carry)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            carry = step(carry)
        sync(carry)
        times.append((time.perf_counter() - t0) / steps)
    return statistics.median(times), carry


def run_jax(workload, steps, warmup, repeats) -> dict:
    t0 = time.perf_counter()
    step, state, compiled, lowered = workload.jax_step()
    compile_s = time.perf_counter() - t0
    sec, _ = _time(step, state, steps, warmup, repeats, jax.block_until_ready)
    device = jax.devices()[0].device_kind
    return {"framework": "jax", "device": device, "compile_s": compile_s, "step_ms": 1e3 * sec,
            "items_per_s": workload.items / sec, **hardware_view(compiled, lowered, sec, device, workload.name)}


def run_torch(workload, steps, warmup, repeats) -> dict | None:
    try:
        import torch
    except ImportError:
        return None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    sync = (lambda _: torch.cuda.synchronize()) if device == "cuda" else (lambda _: None)
    step, carry = workload.torch_step(device)
    sec, _ = _time(step, carry, steps, warmup, repeats, sync)
    name = torch.cuda.get_device_name() if device == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    return {"framework": f"torch {torch.__version__}", "device": name, "compile_s": None,
            "step_ms": 1e3 * sec, "items_per_s": workload.items / sec}


# Dense peak throughput (FLOP/s for float32-as-TF32 / bfloat16-float16 tensor-core matmuls) and
# memory bandwidth (bytes/s) from NVIDIA's datasheets (SXM parts). XLA runs float32 matmuls on GPU
# in TF32 by default, so that is the float32 peak. CPUs are measured (`cpu_peaks`).
PEAKS = {"H100": {"fp32": 494.7e12, "half": 989.4e12, "bandwidth": 3.35e12},
         "H200": {"fp32": 494.7e12, "half": 989.4e12, "bandwidth": 4.8e12},
         "A100": {"fp32": 156e12, "half": 312e12, "bandwidth": 2.04e12}}


@functools.cache
def cpu_peaks() -> dict:
    """Measured on this CPU: float32 and bfloat16 matmul FLOP/s (2048^2 x 2048) and the bandwidth
    of a 256 MiB copy, each the best of 5 after a warm-up."""
    import jax.numpy as jnp

    def best(fn, *args):
        jax.block_until_ready(fn(*args))
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            jax.block_until_ready(fn(*args))
            times.append(time.perf_counter() - t0)
        return min(times)

    n = 2048
    matmul = jax.jit(lambda a, b: a @ b)
    peaks = {}
    for name, dtype in (("fp32", jnp.float32), ("half", jnp.bfloat16)):
        a = jnp.ones((n, n), dtype)
        peaks[name] = 2 * n ** 3 / best(matmul, a, a)
    x = jnp.ones((64 * 2 ** 20,), jnp.float32)
    peaks["bandwidth"] = 2 * x.nbytes / best(jax.jit(lambda v: v + 1), x)  # read + write
    return peaks


def device_peaks(device_kind: str) -> dict | None:
    """The peak table entry whose name appears in `device_kind`; measured figures on CPU."""
    if jax.default_backend() == "cpu":
        return cpu_peaks()
    return next((v for k, v in PEAKS.items() if k in device_kind), None)


def _cost(stage) -> dict:
    cost = stage.cost_analysis()
    return (cost[0] if isinstance(cost, (list, tuple)) else cost) or {}


def hardware_view(compiled, lowered, seconds: float, device_kind: str, name: str) -> dict:
    """For one call: the model FLOPs XLA's cost analysis counts in the lowered program (before
    optimization, where convolutions are still convolutions: on GPU the compiled program hides
    them in cuDNN calls; a loop body is counted once) and the bytes it counts in the compiled
    one; the achieved rates at `seconds` per call, and their fractions of the device's peak
    (the FLOP fraction is the MFU; None if unknown)."""
    flops = float(_cost(lowered).get("flops", 0.0)) or None
    bytes_accessed = float(_cost(compiled).get("bytes accessed", 0.0))
    peaks = device_peaks(device_kind)
    precision = "half" if ("bf16" in name or "fp16" in name) else "fp32"
    flop_rate = flops / seconds if flops else None
    return {"flops": flops, "bytes": bytes_accessed, "flop_per_s": flop_rate,
            "bytes_per_s": bytes_accessed / seconds,
            "flop_fraction_of_peak": flop_rate / peaks[precision] if peaks and flop_rate else None,
            "bandwidth_fraction_of_peak": bytes_accessed / seconds / peaks["bandwidth"] if peaks else None}


def benchmark(names, steps=20, warmup=5, repeats=3) -> dict:
    """Results for the named workloads: one row per framework and a JAX/torch ratio each."""
    rows = []
    for name in names:
        workload = WORKLOADS[name]
        counts = (max(1, steps // workload.cost), max(1, warmup // workload.cost) if warmup else 0, repeats)
        results = [run_jax(workload, *counts)]
        if workload.torch_step is not None:
            peer = run_torch(workload, *counts)
            if peer is not None:
                results.append(peer)
        ratio = results[0]["items_per_s"] / results[1]["items_per_s"] if len(results) > 1 else None
        for r in results:
            rows.append({"workload": name, "items_per_step": workload.items, "unit": workload.unit,
                         "timed_steps": counts[0], **r, "jax_over_torch": ratio})
    return {"machine": platform.processor() or platform.machine(), "jax": jax.__version__,
            "backend": jax.default_backend(), "steps": steps, "warmup": warmup, "repeats": repeats,
            "peaks": device_peaks(jax.devices()[0].device_kind), "results": rows}


def format_table(report: dict) -> str:
    w = max([18] + [len(r["workload"]) for r in report["results"]])
    header = f"{'workload':{w}s} {'framework':18s} {'device':22s} {'compile s':>9s} " \
             f"{'ms/step':>9s} {'items/s':>10s} {'unit':6s} {'jax/torch':>9s}"
    lines = [header, "-" * len(header)]
    for r in report["results"]:
        ratio = f"{r['jax_over_torch']:.2f}" if r["jax_over_torch"] is not None else "-"
        compile_s = f"{r['compile_s']:.2f}" if r["compile_s"] is not None else "-"
        lines.append(f"{r['workload']:{w}s} {r['framework'][:18]:18s} {r['device'][:22]:22s} "
                     f"{compile_s:>9s} {r['step_ms']:9.2f} {r['items_per_s']:10.0f} {r['unit']:6s} {ratio:>9s}")
    lines += ["", "hardware view (JAX; XLA's cost analysis of one step: model FLOPs before optimization, bytes "
              "of the compiled step; % of the device's peak, for FLOPs the MFU)",
              f"{'workload':{w}s} {'GFLOP/step':>11s} {'MB/step':>9s} {'TFLOP/s':>8s} {'% peak':>7s} "
              f"{'GB/s':>8s} {'% peak':>7s}"]
    for r in report["results"]:
        if r["framework"] != "jax":
            continue
        pct = lambda f: f"{100 * f:6.1f}%" if f is not None else "      -"
        flops = f"{r['flops'] / 1e9:11.3f}" if r["flops"] else f"{'-':>11s}"
        rate = f"{r['flop_per_s'] / 1e12:8.3f}" if r["flop_per_s"] else f"{'-':>8s}"
        lines.append(f"{r['workload']:{w}s} {flops} {r['bytes'] / 1e6:9.1f} {rate} {pct(r['flop_fraction_of_peak'])} "
                     f"{r['bytes_per_s'] / 1e9:8.1f} {pct(r['bandwidth_fraction_of_peak'])}")
    has_twin = any(WORKLOADS[r["workload"]].torch_step is not None for r in report["results"])
    if has_twin and not any(r["framework"].startswith("torch") for r in report["results"]):
        lines.append("(torch is not installed: pip install -e '.[bench]' for the PyTorch peers)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Train-step throughput, JAX vs PyTorch.")
    parser.add_argument("--only", action="append", choices=sorted(WORKLOADS), help="run only this workload (repeatable)")
    parser.add_argument("--json", help="also write the report to this JSON file")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per repeat (divided by a workload's cost)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps after compilation (likewise)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the median is reported")
    args = parser.parse_args(argv)
    if min(args.steps, args.repeats) < 1 or args.warmup < 0:
        parser.error("--steps and --repeats must be >= 1 and --warmup >= 0")
    report = benchmark(args.only or list(WORKLOADS), args.steps, args.warmup, args.repeats)
    print(format_table(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
