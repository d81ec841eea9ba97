#!/usr/bin/env python3
"""Runs every shipped training experiment that carries a `reference:` (a paper's measured figures) and prints
the predictions next to the references as a Markdown table, with the mean absolute error per metric.

usage: scripts/validate_training.py [--whatif build/whatif] [--mode symmetric|full|full-exact] [FILES...]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--whatif", default=os.path.join(ROOT, "build", "whatif"))
    ap.add_argument("--mode", default="symmetric", choices=["symmetric", "full", "full-exact"])
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or sorted(glob.glob(os.path.join(ROOT, "workloads", "training", "*.yaml")))
    rows, errors = [], {}
    with tempfile.TemporaryDirectory() as out:
        for f in files:
            name = os.path.splitext(os.path.basename(f))[0]
            start = time.monotonic()
            p = subprocess.run([args.whatif, "run", f, "-o", os.path.join(out, name), "--set",
                                f"workload.mode={args.mode}"], capture_output=True, text=True)
            wall = time.monotonic() - start
            if p.returncode != 0:
                sys.exit(f"{f}: whatif exited {p.returncode}:\n{p.stderr}")
            summary = json.load(open(os.path.join(out, name, "summary.json")))
            ref = summary.get("reference")
            if not ref:
                continue
            for metric, r in ref["metrics"].items():
                rows.append((summary["metrics"].get("parameters", 0), name, metric, r["predicted"], r["reference"],
                             r["error"], wall))
                errors.setdefault(metric, []).append(abs(r["error"]))
            source = ref["source"]
    if not rows:
        sys.exit("no experiment with a reference")
    print(f"Predictions ({args.mode} mode) against: {source}\n")
    print("| experiment | metric | predicted | measured | error | wall (s) |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for _, name, metric, pred, meas, err, wall in sorted(rows):
        print(f"| {name} | {metric} | {pred:.1f} | {meas:g} | {100 * err:+.1f} % | {wall:.2f} |")
    print()
    for metric, errs in errors.items():
        print(f"{metric}: mean absolute error {100 * sum(errs) / len(errs):.1f} % over {len(errs)} runs, "
              f"largest {100 * max(errs):.1f} %")


if __name__ == "__main__":
    main()
