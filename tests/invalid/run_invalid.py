#!/usr/bin/env python3
"""Runs whatif on every malformed input of this folder and checks the exit code (2) and the messages.

Each INPUT.yaml has an INPUT.expect: every line of it must appear inside one line of stderr. Files named
exp-*.yaml are experiments (whatif run), the others platforms (whatif platform check). A crash, an abort or
any exit code but 2 fails the case.
"""
import os
import subprocess
import sys
import tempfile

whatif, folder = os.path.abspath(sys.argv[1]), sys.argv[2]
# Command-line misuse: (arguments, expected message); each must exit 2 as well.
PLATFORM = "../data/unit/mini-mesh.yaml"
MPI_PLATFORM, TRACE = "../data/platforms/mpi-smp.yaml", "../../traces/pilgrim/netpipe-2r-mpich"
CLI_CASES = [
    (["platform", "check", PLATFORM, "--cfg=network/model:FOO"],
     "error: '--cfg=network/model:FOO': unknown network/model 'FOO' (one of: LV08, Constant, SMPI, IB, CM02, ns-3)"),
    (["platform", "check", PLATFORM, "--cfg=nonsense"], "error: '--cfg=nonsense': expected --cfg=NAME:VALUE"),
    (["platform", "check", PLATFORM, "--cfg=no/such:1"], "error: '--cfg=no/such:1': SimGrid has no configuration option 'no/such'"),
    (["platform", "check", PLATFORM, "--cfg=network/TCP-gamma:abc"],
     "error: '--cfg=network/TCP-gamma:abc': invalid value for 'network/TCP-gamma': invalid double"),
    (["platform", "check", PLATFORM, "--log=root.thres:loud"], "error: '--log=root.thres:loud': unknown priority 'loud'"),
    (["platform", "check", PLATFORM, "--log=bogus"], "error: '--log=bogus': expected --log=CATEGORY.thres:PRIORITY"),
    (["platform", "show", PLATFORM, "--set", "nodes"], "error: --set 'nodes': expected name=value"),
    (["run", "exp-unknown-kind.yaml", "--set", "workload"], "error: --set 'workload': expected path.to.key=value"),
    (["run", "exp-unknown-kind.yaml", "--seed", "many"], "Could not convert: --seed = many"),
    (["frobnicate"], "The following argument was not expected: frobnicate"),
    (["gpu", "predict", "/nonexistent", "--gpu", "A100-SXM4-80GB"], "/nonexistent: error: no such trace folder"),
    (["gpu", "predict", "../../traces/ppt-gpu/rodinia-bfs", "--gpu", "A100"], "error: unknown GPU 'A100' (catalog GPUs:"),
    (["gpu", "info", "../../traces/ppt-gpu/rodinia-bfs", "--kernel", "99"],
     "error: kernel 99 is not in the trace (it has kernels 1-16)"),
    (["gpu", "info", "../data/gpu"], "error: not a trace folder: it holds neither app_config.py (PPT-GPU) nor kernelslist.g"),
    (["validate", "gpu", "../../traces/ppt-gpu/rodinia-bfs", "--reference", "/nope"], "error: /nope: no such folder"),
    (["platform", "check"], "platform is required"),
    (["bench", "engine", "--activities", "1"], "error: --activities must be at least 2"),
    (["run", "."], ".: error: is a directory, not a YAML file"),
    (["training", "schedule", "--schedule", "chimera", "--stages", "3", "--micro-batches", "6"],
     "error: chimera needs an even pipeline depth (got 3): each device holds a stage of both of its pipelines"),
    (["training", "schedule", "--schedule", "interleaved-1f1b", "--stages", "4", "--micro-batches", "6", "--chunks", "2"],
     "error: interleaved-1f1b needs the micro-batch count (6) to be a multiple of the pipeline depth (4)"),
    (["training", "schedule", "--schedule", "1f1f"], "did you mean '1f1b'?"),
    (["training", "schedule", "--backward-ratio", "-1"], "error: --backward-ratio must be a positive number, got -1"),
    (["platform", "show", "../data"], "../data: error: is a directory, not a YAML file"),
    (["mpi", "info", "/nonexistent"], "/nonexistent: error: no such trace folder"),
    (["mpi", "info", "../data"], "../data: error: not a Pilgrim trace: it holds neither pilgrim.mt nor pilgrim-logs/"),
    (["mpi", "text", TRACE, "--rank", "2"], "error: --rank 2: the trace has ranks 0..1"),
    (["mpi", "text", TRACE, "--rank", "-1"], "error: --rank -1: the trace has ranks 0..1"),
    (["mpi", "replay", TRACE], "--platform is required"),
    (["mpi", "replay", TRACE, "--platform", MPI_PLATFORM, "--compute-scale", "-2"],
     "--compute-scale: error: -2 is out of range [0, 1000000]"),
    (["mpi", "replay", TRACE, "--platform", MPI_PLATFORM, "--eager-threshold", "12parsecs"],
     "--eager-threshold: error: unknown size unit 'parsecs' in '12parsecs'"),
    (["mpi", "replay", TRACE, "--platform", MPI_PLATFORM, "--library", "lam"], "--library: lam not in {mpich,openmpi}"),
    (["mpi", "replay", TRACE, "--platform", MPI_PLATFORM, "--map", "nosuch.map"],
     "nosuch.map' is neither block, round-robin nor a readable file"),
    (["mpi", "replay", TRACE, "--platform", MPI_PLATFORM, "--comms", "/nope.comms"],
     "/nope.comms: error: cannot read the communicator file"),
    (["bench", "mpi", "--calls", "0"], "--calls: Value 0 not in range 4 to"),
    (["sweep", "plan", "/nope.yaml"], "/nope.yaml: error: cannot open file"),
    (["sweep", "plan", "."], ".: error: is a directory, not a sweep file"),
    (["sweep", "status", "/nope.sqlite"], "/nope.sqlite: error: no such results database"),
    (["sweep", "export", "exp-unknown-kind.yaml"], "exp-unknown-kind.yaml: error: not a whatif results database"),
    (["sweep", "run", "../../workloads/sweeps/training-schedules.yaml", "--timeout", "5parsecs"],
     "--timeout: error: unknown time unit 'parsecs'"),
    (["sweep", "run", "../../workloads/sweeps/training-schedules.yaml", "--progress", "loud"],
     "--progress: loud not in {auto,bar,lines,quiet}"),
    (["run", "exp-unknown-kind.yaml", "--no-files", "-o", "out"], "--out excludes --no-files"),
    (["bench", "sweep", "--sweep", "a.yaml", "--experiment", "b.yaml"], "--experiment excludes --sweep"),
]

failures = 0
for args, expected in CLI_CASES:
    p = subprocess.run([whatif] + args, cwd=folder, capture_output=True, text=True, errors="replace", timeout=120)
    if p.returncode != 2 or expected not in p.stderr:
        failures += 1
        print(f"FAIL whatif {' '.join(args)}: exit code {p.returncode}, stderr:\n  {p.stderr.strip()}")
    else:
        print(f"ok   whatif {' '.join(args)}")
cases = sorted(f for f in os.listdir(folder) if f.endswith(".yaml"))
with tempfile.TemporaryDirectory() as out:
    for case in cases:
        expect_file = os.path.join(folder, case[:-5] + ".expect")
        if not os.path.exists(expect_file):
            print(f"FAIL {case}: no .expect file")
            failures += 1
            continue
        expected = [l for l in open(expect_file).read().splitlines() if l]
        cmd = [whatif, "run", case, "-o", out] if case.startswith("exp-") else [whatif, "platform", "check", case]
        p = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, errors="replace", timeout=120)
        lines = p.stderr.splitlines()
        problems = []
        if p.returncode != 2:
            problems.append(f"exit code {p.returncode}, expected 2")
        for e in expected:
            if not any(e in line for line in lines):
                problems.append(f"missing message: {e}")
        if problems:
            failures += 1
            print(f"FAIL {case}:\n  " + "\n  ".join(problems) + "\n  stderr was:\n    " + "\n    ".join(lines))
        else:
            print(f"ok   {case}")
print(f"{len(cases) + len(CLI_CASES) - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
