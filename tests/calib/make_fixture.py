#!/usr/bin/env python3
"""Writes SYNTHETIC whatif-calib-cuda output for the calibration tests: measurements.json and
kernel-times.json as an H100 SXM5 would give them if it followed known ground-truth parameters
(GROUND_TRUTH below) exactly, with 1 % log-normal timing noise (seed 7). No GPU was involved: the tests
check that `whatif calibrate fit` recovers these parameters and that `calibrate validate` reports the
error of a model against the kernel times.

usage: make_fixture.py OUT_DIR
"""
import json
import math
import os
import random
import sys

GROUND_TRUTH = {
    "sm_count": 132, "l2_bytes": 50 * 2**20, "memory_bytes": 80 * 2**30, "sm_clock_hz": 1.755e9,
    "loaded_sm_clock_hz": 1.695e9,  # every SM busy: power holds the clock below the idle spin's
    "dram_bandwidth": 2.90e12,
    "kernel_fixed": 6e-6,     # every kernel's time beyond its bytes or flops (launch, ramp-up, drain): streaming
                              # kernels take kernel_fixed + bytes / bandwidth, GEMMs kernel_fixed + flops / rate
    "launch": 2.3e-6,                                      # back-to-back empty kernels
    "tensor_peak": {"fp16": 7.80e14, "bf16": 7.80e14},     # measured mma throughput
    "gemm_plateau": 0.82, "gemm_tile": (128, 256), "gemm_k_overhead": 300,
    "latency": {"l1": 33, "l2": 262, "dram": 478, "shared": 29},
    "l1_edge": 200 * 2**10, "l2_edge": 40 * 2**20,
    "instruction": {"int": 4, "fp32": 4, "fp16": 5, "fp64": 8, "sfu": 18, "tensor": 33, "tensor_fp64": 16},
}
G = GROUND_TRUTH
rng = random.Random(7)


def stats(t, reps=20):
    xs = sorted(t * math.exp(rng.gauss(0, 0.01)) for _ in range(reps))
    mean = sum(xs) / reps
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (reps - 1))
    return {"median": 0.5 * (xs[reps // 2 - 1] + xs[reps // 2]), "min": xs[0], "max": xs[-1], "mean": mean,
            "stdev": sd, "reps": reps}


def gemm_time(m, n, k, dtype):
    tm, tn = G["gemm_tile"]
    tiles_m, tiles_n = math.ceil(m / tm), math.ceil(n / tn)
    tile = m * n / (tiles_m * tm * tiles_n * tn)
    tiles = tiles_m * tiles_n
    wave = tiles / (math.ceil(tiles / G["sm_count"]) * G["sm_count"])
    p = G["gemm_plateau"]
    eff = p * tile * wave * k / (k + p * G["gemm_k_overhead"])
    return 2 * m * n * k / (G["tensor_peak"][dtype] * eff) + G["kernel_fixed"]


def header(fmt):
    return {"format": fmt, "tool": "whatif-calib-cuda 1", "date": "2026-11-24T00:00:00Z",
            "host": "synthetic (tests/calib/make_fixture.py)",
            "device": {"index": 0, "name": "NVIDIA H100 80GB HBM3 (synthetic)", "uuid": "GPU-synthetic",
                       "compute_capability": "9.0", "sm_count": G["sm_count"], "memory_bytes": G["memory_bytes"],
                       "l2_bytes": G["l2_bytes"], "shared_per_sm_bytes": 233472, "shared_per_block_optin_bytes": 232448,
                       "max_threads_per_sm": 2048, "registers_per_sm": 65536, "memory_bus_bits": 5120,
                       "clock_khz": 1980000, "memory_clock_khz": 2619000, "driver_version": "13.0",
                       "runtime_version": "13.0", "ecc": True},
            "clock": {"measured_sm_hz": G["sm_clock_hz"], "measured_sm_hz_loaded": G["loaded_sm_clock_hz"],
                      "reps": 20}}


def record(kind, name, params, t, value, unit):
    return {"kind": kind, "name": name, "params": params, "time_s": stats(t), "value": value, "unit": unit}


def measurements():
    out = []
    for name, rate in [("fp64", 60e12), ("fp32", 60e12), ("fp16", 120e12), ("bf16", 120e12),
                       ("fp16_tensor", G["tensor_peak"]["fp16"]), ("bf16_tensor", G["tensor_peak"]["bf16"]),
                       ("int8_tensor", 1.5e15), ("fp64_tensor", 58e12)]:
        ops = 2e12
        t = ops / rate
        s = stats(t)
        out.append({"kind": "peak", "name": name, "params": {"stream": "independent", "ops": ops}, "time_s": s,
                    "value": ops / s["median"], "unit": "flop/s"})
        out.append(record("peak", name, {"stream": "dependent", "ops": ops / 8}, t, rate / 4, "flop/s"))
    for kernel, factor in [("dram_copy", 2), ("dram_scale", 2), ("dram_triad", 3)]:
        for i in range(8):
            array = 4 * 2**20 * 4**i
            if array > G["memory_bytes"] / 4:
                break
            moved = factor * array
            t = G["kernel_fixed"] + moved / G["dram_bandwidth"]
            if array < G["l2_bytes"]:
                t = G["kernel_fixed"] + moved / 8e12  # L2-resident: faster
            s = stats(t)
            out.append({"kind": "bandwidth", "name": kernel, "params": {"bytes": moved, "array_bytes": array},
                        "time_s": s, "value": moved / s["median"], "unit": "B/s"})
    w = 1024
    while w <= 512 * 2**20:
        lat = G["latency"]
        cycles = lat["l1"] if w <= G["l1_edge"] else lat["l2"] if w <= G["l2_edge"] else lat["dram"]
        cycles = round(cycles * math.exp(rng.gauss(0, 0.01)), 1)
        out.append(record("latency", "global", {"working_set_bytes": w, "stride_bytes": 128, "pattern": "random",
                                                "seconds": cycles / G["sm_clock_hz"]},
                          cycles * 4096 / G["sm_clock_hz"], cycles, "cycles"))
        w *= 2
    for w in [1024, 4096, 16384, 32768]:
        out.append(record("latency", "shared", {"working_set_bytes": w}, 1e-5, G["latency"]["shared"], "cycles"))
    for cls, cycles in G["instruction"].items():
        out.append(record("instruction", cls, {"opcode": cls.upper()}, 1e-5, cycles, "cycles"))
    out.append(record("launch", "empty_async", {"launches": 1000}, 1000 * G["launch"], G["launch"], "s"))
    out.append(record("launch", "empty_sync", {}, 6e-6, 6e-6, "s"))
    for name, bw in [("h2d_pinned", 52e9), ("d2h_pinned", 50e9), ("h2d_pageable", 20e9), ("d2h_pageable", 18e9),
                     ("d2d", 2.6e12)]:
        for size in [4096, 2**20, 256 * 2**20]:
            t = 8e-6 + size / bw
            out.append(record("transfer", name, {"bytes": size}, t, size / t, "B/s"))
    for dtype in ["fp16", "bf16"]:
        shapes = []
        for h in [1024, 2048, 4096, 8192, 12288]:
            for t in [512, 2048, 8192]:
                shapes += [(t, 3 * h, h), (t, h, h), (t, 4 * h, h), (t, h, 4 * h)]
        shapes += [(4096, 4096, k) for k in [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384]]
        for m, n, k in shapes:
            s = stats(gemm_time(m, n, k, dtype))
            out.append({"kind": "gemm", "name": dtype, "params": {"m": m, "n": n, "k": k}, "time_s": s,
                        "value": 2 * m * n * k / s["median"], "unit": "flop/s"})
    # Sequential chases, as whatif-calib-cuda also writes them up to 1 MiB: the prefetchers hide most of the
    # latency, so they must not enter the latency fit (no noise: the random records above keep their values).
    w = 1024
    while w <= 2**20:
        cycles = 0.4 * G["latency"]["l1" if w <= G["l1_edge"] else "l2"]
        out.append(record("latency", "global", {"working_set_bytes": w, "stride_bytes": 128, "pattern": "sequential",
                                                "seconds": cycles / G["sm_clock_hz"]},
                          cycles * 4096 / G["sm_clock_hz"], cycles, "cycles"))
        w *= 2
    doc = header("whatif-measurements/1")
    doc["measurements"] = out
    return doc


def kernel_times():
    kernels = []
    for dtype in ["bf16", "fp16"]:
        for h, t in [(5120, 1024), (6144, 4096)]:
            for label, (m, n, k) in [("qkv", (t, 3 * h, h)), ("mlp-up", (t, 4 * h, h)), ("mlp-down", (t, h, 4 * h))]:
                kernels.append({"name": f"gemm-{label}-h{h}-t{t}-{dtype}", "kind": "gemm",
                                "params": {"m": m, "n": n, "k": k, "dtype": dtype},
                                "time_s": stats(gemm_time(m, n, k, dtype))})
    for op, dtype, size in [("add", "fp16", 3), ("gelu", "fp16", 2), ("scale", "fp32", 2)]:
        for mib in [16, 256, 1024]:
            nbytes = mib * 2**20 * size // 1  # read (size-1) arrays, write one
            elements = nbytes // size // (2 if dtype == "fp16" else 4)
            t = G["kernel_fixed"] + nbytes / G["dram_bandwidth"]
            kernels.append({"name": f"elementwise-{op}-{mib}MiB", "kind": "elementwise",
                            "params": {"bytes": nbytes, "elements": elements, "dtype": dtype, "op": op},
                            "time_s": stats(t)})
    for mib in [16, 256, 1024]:
        nbytes = mib * 2**20
        t = G["kernel_fixed"] + nbytes / G["dram_bandwidth"]
        kernels.append({"name": f"reduction-sum-{mib}MiB", "kind": "reduction",
                        "params": {"bytes": nbytes, "elements": nbytes // 4, "dtype": "fp32"}, "time_s": stats(t)})
    doc = header("whatif-kernel-times/1")
    doc["kernels"] = kernels
    return doc


out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, doc in [("measurements.json", measurements()), ("kernel-times.json", kernel_times())]:
    with open(os.path.join(out, name), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
