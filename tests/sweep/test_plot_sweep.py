#!/usr/bin/env python3
"""Tests scripts/plot_sweep.py on a small synthetic sweep database.

usage: tests/sweep/test_plot_sweep.py scripts/plot_sweep.py

Builds a temporary database with the whatif sweep schema (three sweeps, two of them named alike, repetitions,
a failed and a running point, a column named `bus-bw`), checks the aggregation functions directly, draws line,
bar and heatmap plots (PNG, SVG, PDF) with hue and facet, and checks the error paths (exit 2 and a message).
Exit 0 when everything passes, 1 on a failure (each one printed), 77 (skip) when no python3 with matplotlib can
be found for the plotting part (the other checks still run).
"""
import importlib.util
import json
import math
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print(f"FAIL: {what}")
    return cond


# ----------------------------------------------------------------------------------------------------------------
# The database
# ----------------------------------------------------------------------------------------------------------------

SIZES = [1048576, 1024, 65536]          # inserted out of order: the plot must sort them numerically
ALGORITHMS = ["tree", "ring"]           # categorical: first-appearance order
NODES = [2, 4]
DELTAS = [-1.0, 0.0, 1.5]               # per repetition


def busbw(alg, size, nodes, rep):
    base = {"tree": 10.0, "ring": 20.0}[alg] + math.log2(size) + nodes
    return base + DELTAS[rep]


def build_db(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE sweeps (id INTEGER PRIMARY KEY, name TEXT, file TEXT, definition_hash TEXT, "
                 "points INTEGER, parameters TEXT, created TEXT, whatif_version TEXT)")
    conn.execute('CREATE TABLE points (sweep_id INTEGER, point INTEGER, repetition INTEGER, key TEXT, status TEXT, '
                 'error TEXT, wall_s REAL, seed INTEGER, attempts INTEGER, started TEXT, finished TEXT, '
                 'whatif_version TEXT, host TEXT, "algorithm" TEXT, "size" INTEGER, "nodes" INTEGER, '
                 '"schedule" TEXT, "bus-bw" REAL, "time_s" REAL, "iteration_time_s" REAL)')

    def sweep(sid, name, params, points):
        conn.execute("INSERT INTO sweeps VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (sid, name, f"sweeps/{name}.yaml", f"hash{sid}", points, json.dumps(params),
                      "2024-01-01T00:00:00Z", "0.1"))

    def point(sid, pt, rep, status, **cols):
        base = dict(sweep_id=sid, point=pt, repetition=rep, key=f"k{sid}-{pt}-{rep}", status=status,
                    error="boom" if status == "failed" else None, wall_s=0.5, seed=rep, attempts=1,
                    started="2024-01-01T00:00:00Z", finished="2024-01-01T00:00:01Z", whatif_version="0.1",
                    host="test")
        base.update(cols)
        names = ", ".join('"' + k.replace('"', '""') + '"' for k in base)
        conn.execute(f"INSERT INTO points ({names}) VALUES ({', '.join('?' * len(base))})", list(base.values()))

    # Sweep 1: an older run named like sweep 3 (must never be picked by name or by default).
    sweep(1, "allreduce", ["algorithm", "size"], 2)
    for pt, size in enumerate(SIZES[:2]):
        point(1, pt, 0, "done", algorithm="ring", size=size, **{"bus-bw": 1000.0, "time_s": 1.0})
    # Sweep 2: a training sweep whose size is stored as TEXT.
    sweep(2, "training", ["schedule", "size"], 4)
    pt = 0
    for sched in ["gpipe", "1f1b"]:
        for size in ["16", "8"]:
            for rep in range(2):
                point(2, pt, rep, "done", schedule=sched, size=size,
                      iteration_time_s=float(size) * (2.0 if sched == "gpipe" else 1.0) + rep)
            pt += 1
    # Sweep 3: the latest allreduce sweep, 3 repetitions, plus a failed, a running and a metric-less row.
    sweep(3, "allreduce", ["algorithm", "size", "nodes"], 13)
    pt = 0
    for alg in ALGORITHMS:
        for size in SIZES:
            for nodes in NODES:
                for rep in range(3):
                    bw = busbw(alg, size, nodes, rep)
                    point(3, pt, rep, "done", algorithm=alg, size=size, nodes=nodes,
                          **{"bus-bw": bw, "time_s": size / (bw * 1e9)})
                pt += 1
    point(3, pt, 0, "failed", algorithm="ring", size=1024, nodes=2, **{"bus-bw": 1e6, "time_s": 1e6})
    point(3, pt, 1, "running", algorithm="ring", size=1024, nodes=2)
    point(3, pt, 2, "done", algorithm="ring", size=1024, nodes=2)     # done but without metrics
    conn.commit()
    conn.close()


# ----------------------------------------------------------------------------------------------------------------
# Direct checks of the functions
# ----------------------------------------------------------------------------------------------------------------

def close(a, b):
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def check_functions(mod, db):
    # Pure aggregation: categorical x in first-appearance order, mean and sample std, std None for one value.
    agg = mod.aggregate([("b", 1.0, None, None), ("a", 3.0, None, None), ("b", 2.0, None, None)])
    check(agg.xs == ["b", "a"], f"categorical x order: {agg.xs}")
    s = agg.series()
    check(len(s) == 2 and close(s[0].mean, 1.5) and close(s[0].std, statistics.stdev([1.0, 2.0])),
          f"aggregate mean/std of b: {s}")
    check(len(s) == 2 and s[1].std is None and s[1].n == 1, f"single value has no std: {s}")
    # Numeric TEXT x sorts numerically (10 after 9), hue/facet keys too.
    agg = mod.aggregate([("10", 1.0, "2", "x"), ("9", 2.0, "10", "x"), ("10", 5.0, "2", "x")])
    check(agg.xs == [9, 10] and agg.x_numeric and agg.hues == [2, 10], f"numeric text keys: {agg.xs} {agg.hues}")
    check(close(agg.series(2, "x")[0].mean, 3.0), "numeric text keys aggregate")

    conn = mod.open_db(db)
    try:
        check(mod.select_sweep(conn).id == 3, "default sweep is the highest id")
        check(mod.select_sweep(conn, "allreduce").id == 3, "--sweep picks the latest with that name")
        check(mod.select_sweep(conn, "training").id == 2, "--sweep training")
        try:
            mod.select_sweep(conn, "nosuch")
            check(False, "unknown sweep raises UsageError")
        except mod.UsageError as e:
            check("training" in str(e) and "nosuch" in str(e), f"unknown sweep message: {e}")
        sweep = mod.select_sweep(conn)
        check(mod.resolve_column(conn, sweep, "BUS-BW", "--y") == "bus-bw", "column names are case-insensitive")
        for bad in ("nosuch", "iteration_time_s"):      # the second belongs to another sweep
            try:
                mod.resolve_column(conn, sweep, bad, "--y")
                check(False, f"column {bad} raises UsageError")
            except mod.UsageError as e:
                check(bad in str(e) and "bus-bw" in str(e), f"column {bad} message: {e}")

        rows, skipped = mod.load_rows(conn, sweep, "size", "bus-bw", "algorithm", "nodes")
        check(len(rows) == 36 and skipped == 1, f"done rows: {len(rows)} (skipped {skipped}); want 36 and 1")
        agg = mod.aggregate(rows)
        check(agg.xs == sorted(SIZES), f"x sorted numerically: {agg.xs}")
        check(agg.hues == ALGORITHMS, f"hue in first-appearance order: {agg.hues}")
        check(agg.facets == NODES, f"facets: {agg.facets}")
        check(agg.points == 12 and agg.rows == 36, f"points {agg.points} rows {agg.rows}")
        for alg in ALGORITHMS:
            for nodes in NODES:
                for cell in agg.series(alg, nodes):
                    vals = [busbw(alg, cell.x, nodes, r) for r in range(3)]
                    check(cell.n == 3 and close(cell.mean, statistics.mean(vals))
                          and close(cell.std, statistics.stdev(vals)),
                          f"{alg}/{nodes}/{cell.x}: mean {cell.mean} std {cell.std} n {cell.n}; want "
                          f"{statistics.mean(vals)} {statistics.stdev(vals)} 3 (the failed row must not count)")

        rows, _ = mod.load_rows(conn, sweep, "algorithm", "bus-bw", where='"nodes" = 4 AND size > 2000')
        agg = mod.aggregate(rows)
        check(len(rows) == 12 and agg.points == 2 and agg.hues == [None] and agg.facets == [None],
              f"--where rows {len(rows)} points {agg.points}")
        want = statistics.mean(busbw("ring", s, 4, r) for s in SIZES if s > 2000 for r in range(3))
        check(close(agg.series()[1].mean, want), f"ring mean over sizes: {agg.series()[1].mean} want {want}")

        rows, _ = mod.load_rows(conn, mod.select_sweep(conn, "training"), "size", "iteration_time_s", "schedule")
        agg = mod.aggregate(rows)
        check(agg.xs == [8, 16] and agg.x_numeric, f"TEXT size sorted numerically: {agg.xs}")
        check(close(agg.series("gpipe")[1].mean, 32.5) and close(agg.series("gpipe")[1].std, math.sqrt(0.5)),
              f"training gpipe/16: {agg.series('gpipe')}")
    finally:
        conn.close()


# ----------------------------------------------------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------------------------------------------------

def run(python, script, *args):
    p = subprocess.run([python, script, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def check_errors(python, script, db, tmp):
    out = os.path.join(tmp, "err.png")
    cases = [
        ("unknown column", [db, "--x", "size", "--y", "nosuch", "-o", out], 2, ["nosuch", "bus-bw", "algorithm"]),
        ("other sweep's column", [db, "--x", "size", "--y", "iteration_time_s", "-o", out], 2,
         ["iteration_time_s", "no values"]),
        ("unknown sweep", [db, "--sweep", "nosuch", "--x", "size", "--y", "bus-bw", "-o", out], 2,
         ["nosuch", "allreduce", "training"]),
        ("heatmap without hue", [db, "--kind", "heatmap", "--x", "size", "--y", "bus-bw", "-o", out], 2, ["--hue"]),
        ("bad --where", [db, "--x", "size", "--y", "bus-bw", "--where", "nosuch >", "-o", out], 2, ["--where"]),
        ("bad extension", [db, "--x", "size", "--y", "bus-bw", "-o", os.path.join(tmp, "p.jpg")], 2, [".jpg"]),
        ("missing database", [os.path.join(tmp, "none.db"), "--x", "size", "--y", "bus-bw", "-o", out], 2,
         ["none.db"]),
        ("non-numeric y", [db, "--x", "size", "--y", "algorithm", "-o", out], 2, ["not numeric"]),
        ("nothing selected", [db, "--x", "size", "--y", "bus-bw", "--where", "nodes = 99", "-o", out], 1,
         ["no done rows"]),
    ]
    for what, args, rc, words in cases:
        code, _, err = run(python, script, *args)
        check(code == rc, f"{what}: exit {code}, want {rc} (stderr: {err.strip()})")
        check("Traceback" not in err, f"{what}: traceback on stderr:\n{err}")
        for w in words:
            check(w in err, f"{what}: {w!r} missing from the message: {err.strip()}")
    check(not os.path.exists(out), "no output written on errors")
    check(not os.path.exists(os.path.join(tmp, "none.db")), "a missing database is not created")


def check_plots(python, script, db, tmp):
    def plot(name, *args, points):
        out = os.path.join(tmp, name)
        code, stdout, err = run(python, script, db, *args, "-o", out)
        if not check(code == 0, f"{name}: exit {code}\n{err}"):
            return b""
        check("Traceback" not in err, f"{name}: traceback on stderr:\n{err}")
        check(out in stdout and f"{points} points plotted" in stdout,
              f"{name}: stdout names the file and {points} points: {stdout.strip()}")
        if not check(os.path.isfile(out), f"{name}: not written"):
            return b""
        data = open(out, "rb").read()
        check(len(data) > 5000, f"{name}: only {len(data)} bytes")
        return data

    png = plot("line.png", "--x", "size", "--y", "bus-bw", "--hue", "algorithm", "--facet", "nodes", "--logx",
               points=12)
    check(png.startswith(b"\x89PNG"), "line.png is a PNG")
    svg = plot("line.svg", "--x", "size", "--y", "bus-bw", "--hue", "algorithm", "--title", "Bus bandwidth",
               points=6, ).decode(errors="replace")
    for label in ("size", "bus-bw", "algorithm", "ring", "tree", "Bus bandwidth"):
        check(label in svg, f"line.svg: text {label!r} missing")
    svg = plot("bar.svg", "--kind", "bar", "--x", "algorithm", "--y", "time_s", "--hue", "size", "--facet", "nodes",
               "--logy", points=12).decode(errors="replace")
    for label in ("algorithm", "time_s", "nodes = 2", "nodes = 4", "1048576", "allreduce"):
        check(label in svg, f"bar.svg: text {label!r} missing")
    svg = plot("heat.svg", "--kind", "heatmap", "--x", "size", "--y", "bus-bw", "--hue", "algorithm", "--facet",
               "nodes", points=12).decode(errors="replace")
    for label in ("size", "algorithm", "bus-bw", "nodes = 4"):
        check(label in svg, f"heat.svg: text {label!r} missing")
    png = plot("heat.png", "--kind", "heatmap", "--sweep", "training", "--x", "size", "--y", "iteration_time_s",
               "--hue", "schedule", points=4)
    check(png.startswith(b"\x89PNG"), "heat.png is a PNG")
    pdf = plot("sub/bar.pdf", "--kind", "bar", "--x", "size", "--y", "bus-bw", "--where", "algorithm = 'ring'",
               points=3)
    check(pdf.startswith(b"%PDF"), "bar.pdf is a PDF")


def find_python():
    for py in (sys.executable, "/usr/bin/python3"):
        if py and os.path.exists(py) and subprocess.run([py, "-c", "import matplotlib"],
                                                         capture_output=True).returncode == 0:
            return py
    return None


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    script = os.path.abspath(sys.argv[1])
    spec = importlib.util.spec_from_file_location("plot_sweep", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    python = find_python()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "sweeps.db")
        build_db(db)
        check_functions(mod, db)
        check_errors(sys.executable, script, db, tmp)
        if python:
            check_plots(python, script, db, tmp)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        return 1
    if not python:
        print("SKIP: no python3 with matplotlib; plots not checked (the other checks passed)")
        return 77
    print("all plot_sweep checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
