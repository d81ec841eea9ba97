#!/usr/bin/env python3
"""Golden tests: runs whatif commands and compares their normalised output with the files in expected/.

usage: run_golden.py WHATIF SOURCE_ROOT [--update]
Normalisation replaces the results folder by <out> and the source root by <root>. With --update the expected files are rewritten.
"""
import difflib
import os
import subprocess
import sys
import tempfile

whatif, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
update = "--update" in sys.argv
expected_dir = os.path.join(root, "tests", "golden", "expected")

# (case name, arguments, result files to compare besides stdout)
CASES = [
    ("platform-show-mini-mesh", ["platform", "show", "tests/data/unit/mini-mesh.yaml"], []),
    ("platform-check-mini-mesh", ["platform", "check", "--json", "tests/data/unit/mini-mesh.yaml"], []),
    ("platform-dot-mini-mesh", ["platform", "dot", "tests/data/unit/mini-mesh.yaml"], []),
    ("run-allreduce-mini-mesh",
     ["run", "tests/golden/allreduce-mini-mesh.yaml", "-o", "{out}"],
     ["summary.json", "collective.csv", "run.yaml", "timeline.json"]),
    ("run-broadcast-mini-mesh-json",
     ["run", "tests/golden/allreduce-mini-mesh.yaml", "-o", "{out}", "--json", "--seed", "7",
      "--set", "workload.operation=broadcast", "--set", "workload.algorithm=pipelined", "--set", "workload.root=3"],
     []),
    ("training-schedule-chimera",
     ["training", "schedule", "--schedule", "chimera", "--stages", "4", "--micro-batches", "4", "--backward-ratio", "1",
      "--timeline"], []),
    ("training-schedule-interleaved-json",
     ["training", "schedule", "--schedule", "interleaved-1f1b", "--stages", "4", "--micro-batches", "8", "--chunks", "2",
      "--json"], []),
    ("validate-training", ["validate", "training"], []),
    ("run-training-gpt-dgx-a100", ["run", "workloads/training/gpt-1.3b-dgx-a100.yaml", "-o", "{out}"],
     ["summary.json", "stages.csv"]),
    ("run-training-kernel-trace", ["run", "tests/golden/training-kernel-trace.yaml", "-o", "{out}"], []),
    ("gpu-info-bfs", ["gpu", "info", "traces/ppt-gpu/rodinia-bfs"], []),
    ("gpu-predict-bfs", ["gpu", "predict", "traces/ppt-gpu/rodinia-bfs", "--gpu", "A100-SXM4-80GB", "-o", "{out}"],
     ["summary.json", "kernels.csv", "stalls.csv"]),
    ("gpu-predict-accelsim", ["gpu", "predict", "tests/data/gpu/accelsim", "--gpu", "A100-SXM4-80GB", "--json",
                              "-o", "{out}"], []),
    ("validate-gpu", ["validate", "gpu"], []),
    ("mpi-info-hpcc", ["mpi", "info", "traces/pilgrim/hpcc-4r-n250", "--matrix-csv", "{out}/matrix.csv"],
     ["matrix.csv"]),
    ("mpi-text-hpcc-rank1", ["mpi", "text", "traces/pilgrim/hpcc-4r-n250", "--rank", "1", "--limit", "60"], []),
    ("mpi-replay-netpipe-openmpi",
     ["mpi", "replay", "traces/pilgrim/netpipe-2r-openmpi", "--platform", "platforms/traced-vm.yaml", "--library",
      "openmpi", "-o", "{out}"], ["summary.json", "ranks.csv"]),
    ("run-mpi-hpcc", ["run", "workloads/mpi/hpcc-4r-n250.yaml", "-o", "{out}", "--json"], []),
]

failures = 0
for name, args, files in CASES:
    with tempfile.TemporaryDirectory() as out:
        cmd = [whatif] + [a.replace("{out}", out) for a in args]
        p = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=300)
        outputs = {"stdout": p.stdout}
        for f in files:
            path = os.path.join(out, f)
            outputs[f] = open(path).read() if os.path.exists(path) else "<missing>\n"
        if p.returncode != 0:
            print(f"FAIL {name}: exit code {p.returncode}\n{p.stderr}")
            failures += 1
            continue
        for key, text in outputs.items():
            text = text.replace(out, "<out>").replace(root, "<root>")
            golden = os.path.join(expected_dir, f"{name}.{key}")
            if update:
                os.makedirs(expected_dir, exist_ok=True)
                open(golden, "w").write(text)
                continue
            want = open(golden).read() if os.path.exists(golden) else "<no golden file>\n"
            if want != text:
                failures += 1
                diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True), golden, "actual"))
                print(f"FAIL {name} ({key}):\n{diff[:6000]}")
            else:
                print(f"ok   {name} ({key})")
# run.yaml must reproduce its run: running it again gives the same metrics.
import json
with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
    subprocess.run([whatif, "run", "tests/golden/allreduce-mini-mesh.yaml", "-o", first, "--seed", "5"], cwd=root,
                   check=True, capture_output=True)
    p = subprocess.run([whatif, "run", os.path.join(first, "run.yaml"), "-o", second], cwd="/", capture_output=True,
                       text=True)
    a = json.load(open(os.path.join(first, "summary.json")))
    b = json.load(open(os.path.join(second, "summary.json"))) if p.returncode == 0 else {}
    if p.returncode != 0 or a["metrics"] != b.get("metrics") or a["seed"] != b.get("seed"):
        failures += 1
        print(f"FAIL replay of run.yaml: exit code {p.returncode} {p.stderr}")
    else:
        print("ok   replay of run.yaml")
print(f"{len(CASES) + 1 - failures} passed, {failures} failed" if not update else "golden files updated")
sys.exit(1 if failures else 0)
