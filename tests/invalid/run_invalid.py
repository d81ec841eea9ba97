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
failures = 0
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
print(f"{len(cases) - failures} passed, {failures} failed")
sys.exit(1 if failures else 0)
