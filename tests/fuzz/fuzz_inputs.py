#!/usr/bin/env python3
"""Mutation fuzzing of whatif's input files: no mutant may crash, abort or hang whatif.

usage: fuzz_inputs.py WHATIF SOURCE_ROOT [--count N] [--trace-count M] [--seed S]
Mutants of the shipped platforms and experiments (lines dropped or duplicated, values replaced by hostile
ones, bytes truncated or garbled) are checked with `whatif platform check` or run with `whatif run`; mutants
of the shipped Pilgrim traces (int32 fields of the signature table, grammar and timings replaced by hostile
values, bytes garbled, files cut) are listed with `whatif mpi text` and replayed with `whatif mpi replay`. A
mutant passes when whatif exits 0, or 2 with an `error:` message; exit 1 is accepted only for a reported
simulation failure. Anything else (a signal, an abort, another code, a timeout) fails and the mutant is kept.
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

whatif, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
count = int(sys.argv[sys.argv.index("--count") + 1]) if "--count" in sys.argv else 200
trace_count = int(sys.argv[sys.argv.index("--trace-count") + 1]) if "--trace-count" in sys.argv else count // 4
seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
rng = random.Random(seed)

HOSTILE = ["-1", "0", "1e308", "1e999GBps", "-5GBps", "99999999999999999999", "''", "[]", "{}", "[[[]]]",
           "${nodes}", "${nope}", "NaN", ".inf", "~", "true", "0x10", "1.5.5us", "x" * 5000, "\"\\u0000\"",
           "&anchor 1", "*anchor", "!!binary aGVsbG8=", "1GiB", "3", "gpu99", "cpu7", "sw0", "- a", ": :"]


def mutate(text):
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(7)
        i = rng.randrange(max(1, len(lines)))
        if kind == 0 and lines:
            del lines[i]
        elif kind == 1 and lines:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif kind == 2 and lines:
            # replace one scalar value after a colon
            m = list(re.finditer(r":\s*([^,{}\[\]\n#]+)", lines[i]))
            if m:
                g = rng.choice(m)
                lines[i] = lines[i][: g.start(1)] + rng.choice(HOSTILE) + lines[i][g.end(1):]
        elif kind == 3:
            text2 = "\n".join(lines)
            cut = rng.randrange(max(1, len(text2)))
            lines = text2[:cut].split("\n")
        elif kind == 4 and lines:
            lines[i] = lines[i].replace("  ", " ", 1) if rng.random() < 0.5 else "  " + lines[i]
        elif kind == 5 and lines:
            b = bytearray(lines[i].encode())
            if b:
                b[rng.randrange(len(b))] = rng.randrange(1, 256)
            lines[i] = b.decode("latin-1")
        elif kind == 6 and lines:
            m = list(re.finditer(r"\b\d+\b", lines[i]))
            if m:
                g = rng.choice(m)
                lines[i] = lines[i][: g.start()] + str(rng.choice([0, 1, 2, 7, 64, 1000, 10**6, 10**12])) + lines[i][g.end():]
    return "\n".join(lines)


def sources():
    out = []
    for sub in ("platforms", "tests/data/platforms", "tests/data/unit"):
        d = os.path.join(root, sub)
        out += [("platform", os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".yaml")]
    d = os.path.join(root, "workloads", "collective-bench")
    out += [("run", os.path.join(d, f)) for f in sorted(os.listdir(d)) if f.endswith(".yaml")]
    return out


def acceptable(cmd, cwd=None):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=60, cwd=cwd,
                           env=dict(os.environ, MALLOC_PERTURB_="0"))
        ok = p.returncode == 0 or (p.returncode == 2 and "error" in p.stderr) or \
             (p.returncode == 1 and "simulation failed" in p.stderr)
        return ok, f"exit code {p.returncode}: {p.stderr.strip()[-600:]}"
    except subprocess.TimeoutExpired:
        return False, "timed out"


HOSTILE_INTS = [-1, 0, 1, 2, 3, -2, -99999, -99997, -9988, -9979, -14, 2**31 - 1, -2**31, 1000, 10**6]


def mutate_binary(data):
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(3)
        if kind == 0 and len(b) >= 4:  # an int32 field (Pilgrim's files are int32 and double arrays)
            i = rng.randrange(len(b) // 4) * 4
            b[i:i + 4] = rng.choice(HOSTILE_INTS).to_bytes(4, "little", signed=True)
        elif kind == 1 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif kind == 2 and b:
            del b[rng.randrange(len(b)):]
    return bytes(b)


def fuzz_traces(tmp):
    failures = 0
    platform = os.path.join(root, "tests", "data", "platforms", "mpi-smp.yaml")
    for case in ("netpipe-2r-mpich",):
        src = os.path.join(root, "traces", "pilgrim", case, "pilgrim-logs")
        dst = os.path.join(tmp, "trace-" + case)
        shutil.copytree(src, dst)
        files = sorted(f for f in os.listdir(src) if f.endswith((".dat", ".mt")))
        for n in range(trace_count):
            name = rng.choice(files)
            original = open(os.path.join(src, name), "rb").read()
            with open(os.path.join(dst, name), "wb") as f:
                f.write(mutate_binary(original))
            for cmd in ([whatif, "mpi", "text", dst, "--limit", "3000"],
                        [whatif, "mpi", "replay", dst, "--platform", platform, "-o", os.path.join(tmp, "out")]):
                ok, why = acceptable(cmd)
                if not ok:
                    failures += 1
                    keep = os.path.join(tempfile.gettempdir(), f"whatif-fuzz-{seed}-trace-{n}")
                    shutil.rmtree(keep, ignore_errors=True)
                    shutil.copytree(dst, keep)
                    print(f"FAIL trace mutant {n} of {case}/{name} ({keep}), {cmd[2]}: {why}")
                    break
            with open(os.path.join(dst, name), "wb") as f:
                f.write(original)
    return failures


failures = 0
files = sources()
with tempfile.TemporaryDirectory() as tmp:
    # Mutants live in a copy of the tree so that relative references (models/, platforms/) still resolve.
    for sub in ("models", "platforms", "workloads", os.path.join("tests", "data")):
        shutil.copytree(os.path.join(root, sub), os.path.join(tmp, sub))
    for n in range(count):
        kind, src = rng.choice(files)
        rel = os.path.relpath(src, root)
        target = os.path.join(tmp, rel)
        original = open(src, encoding="utf-8").read()
        with open(target, "w", encoding="latin-1") as f:
            f.write(mutate(original))
        if kind == "platform":
            cmd = [whatif, "platform", "check", target]
        else:
            cmd = [whatif, "run", target, "-o", os.path.join(tmp, "out"), "--set", "workload.sizes.to=64KiB"]
        ok, why = acceptable(cmd)
        if not ok:
            failures += 1
            keep = os.path.join(tempfile.gettempdir(), f"whatif-fuzz-{seed}-{n}.yaml")
            shutil.copy(target, keep)
            print(f"FAIL mutant {n} of {rel} ({keep}): {why}")
        with open(target, "w", encoding="utf-8") as f:
            f.write(original)
    failures += fuzz_traces(tmp)
print(f"{count + trace_count - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
