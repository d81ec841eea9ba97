#!/usr/bin/env python3
"""End-to-end tests of `whatif calibrate` without a GPU: fit on the recorded (synthetic) fixture writes a
model the catalog loads and `platform`/`run` can use, validate reports predicted vs measured, and run and
validate on a machine without a GPU (or a build without CUDA) say so and exit 2.

usage: run_calib_tests.py WHATIF SOURCE_ROOT [WHATIF_CALIB_CUDA]
(the third argument where the build has whatif-calib-cuda: whatif must then find it, not say it has no CUDA)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

whatif, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
cuda_program = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures += 1


def run(args, env=None):
    return subprocess.run([whatif] + args, cwd=root, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, **(env or {})))


tmp = tempfile.mkdtemp(prefix="whatif-calib-tests-")
try:
    meas = "tests/data/calib/measurements.json"
    out = os.path.join(tmp, "models", "gpus", "h100.measured.yaml")
    p = run(["calibrate", "fit", meas, "--base", "models/gpus/h100-sxm5-80gb.yaml", "-o", out])
    check(p.returncode == 0 and os.path.exists(out) and "GEMM: plateau" in p.stdout,
          f"calibrate fit writes a model: {p.stdout.strip()[-300:]} {p.stderr.strip()[-300:]}")
    text = open(out).read() if os.path.exists(out) else ""
    check("calibration:" in text and ("driver: \"13.0\"" in text or "driver: 13.0" in text),
          "the model records the device, driver and date it was measured with")
    p = run(["calibrate", "validate", "--gpu", out, "--times", "tests/data/calib/kernel-times.json", "--json"])
    v = json.loads(p.stdout) if p.returncode == 0 else {}
    check(len(v.get("kernels", [])) == 24 and v.get("worst_gemm_error", 1) < 0.02,
          f"validate --times: 24 kernels, GEMMs within 2 %: {p.stderr.strip()[-300:]}")
    p = run(["calibrate", "validate", "--gpu", "models/gpus/h100-sxm5-80gb.yaml", "--times",
             "tests/data/calib/kernel-times.json"])
    check(p.returncode == 0 and "largest error: GEMMs" in p.stdout, "validate prints a table against the datasheet model")
    # Without a GPU: whatif-calib-cuda finds no device; in a build without it, whatif says it has no CUDA.
    expected = "no CUDA device" if cuda_program else "built without CUDA"
    for args in (["calibrate", "run", "-o", os.path.join(tmp, "run")],
                 ["calibrate", "validate", "--gpu", "models/gpus/h100-sxm5-80gb.yaml"]):
        p = run(args)
        have_gpu = cuda_program and p.returncode == 0
        check(have_gpu or (p.returncode == 2 and expected in p.stderr),
              f"whatif {' '.join(args[:2])} without a GPU: exit {p.returncode}: {p.stderr.strip()[-200:]}")
    p = run(["calibrate", "run", "-o", os.path.join(tmp, "run")], env={"WHATIF_CALIB_CUDA": "/nonexistent"})
    check(p.returncode == 2 and "WHATIF_CALIB_CUDA=/nonexistent: not an executable" in p.stderr,
          f"a WHATIF_CALIB_CUDA that does not exist: {p.stderr.strip()}")
    if cuda_program:
        for args, message in ((["bogus"], "unknown command 'bogus'"), (["run"], "run needs -o FILE"),
                              (["info", "--device", "x"], "expected a device index")):
            p = subprocess.run([cuda_program] + args, capture_output=True, text=True, timeout=60)
            check(p.returncode == 2 and message in p.stderr and "usage:" in p.stderr,
                  f"whatif-calib-cuda {' '.join(args)}: exit {p.returncode}, says {message!r}")
    # Bad input: a measurements file of another format, a base model that is not a GPU model.
    p = run(["calibrate", "fit", "tests/data/calib/kernel-times.json", "--base", "models/gpus/h100-sxm5-80gb.yaml",
             "-o", os.path.join(tmp, "x.yaml")])
    check(p.returncode == 2 and "expected 'whatif-measurements/1'" in p.stderr, f"wrong file format: {p.stderr.strip()}")
    p = run(["calibrate", "fit", meas, "--base", "models/links/nvlink3.yaml", "-o", os.path.join(tmp, "x.yaml")])
    check(p.returncode == 2 and "nvlink3.yaml" in p.stderr, f"a base that is not a GPU model: {p.stderr.strip()[:200]}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{failures} failed")
sys.exit(1 if failures else 0)
