#!/usr/bin/env python3
"""Plots one sweep of a whatif sweep database (SQLite) as a line, grouped-bar or heatmap chart.

usage: scripts/plot_sweep.py DB --x COL --y COL [--hue COL] [--facet COL] [--kind line|bar|heatmap]
                             [--sweep NAME] [--where "SQL condition"] [--logx] [--logy] [--title T] -o plot.png

Only rows with status 'done' are plotted. Repetitions (and any other rows sharing x, hue and facet) are
aggregated: the mean of y is drawn, with the sample standard deviation as error bars where there are several
values. x (and hue, facet) are sorted numerically when every value is a number, else kept in order of first
appearance. The output format follows the -o extension (png, svg, pdf).

Exit status: 0 on success, 1 when there is nothing to plot or matplotlib is missing, 2 on a usage error
(unknown sweep or column, bad --where, unsupported output extension, not a sweep database).

Needs matplotlib (Debian: python3-matplotlib); when the running interpreter lacks it the script re-runs itself
with /usr/bin/python3 if that one has it.
"""
import argparse
import json
import math
import os
import pathlib
import sqlite3
import statistics
import sys
from dataclasses import dataclass, field

FIXED_COLUMNS = ("sweep_id", "point", "repetition", "key", "status", "error", "wall_s", "seed", "attempts",
                 "started", "finished", "whatif_version", "host")
FORMATS = ("png", "svg", "pdf")
KINDS = ("line", "bar", "heatmap")
SYSTEM_PYTHON = "/usr/bin/python3"
REEXEC_ENV = "PLOT_SWEEP_REEXEC"


class UsageError(Exception):
    """A problem with the arguments or the database; reported as one message with exit status 2."""


class PlotFailure(Exception):
    """The selection is empty (or matplotlib is missing); reported with exit status 1."""


def quote(name):
    """SQL identifier quoting (column names may hold dashes, spaces, quotes)."""
    return '"' + str(name).replace('"', '""') + '"'


# ----------------------------------------------------------------------------------------------------------------
# Database access
# ----------------------------------------------------------------------------------------------------------------

def open_db(path):
    """Opens DB read-only (never creates an empty file for a mistyped path)."""
    p = pathlib.Path(path)
    if not p.is_file():
        raise UsageError(f"no such database file: {path}")
    try:
        conn = sqlite3.connect(p.resolve().as_uri() + "?mode=ro", uri=True)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as e:
        raise UsageError(f"{path}: not an SQLite database ({e})")
    missing = {"sweeps", "points"} - tables
    if missing:
        raise UsageError(f"{path}: not a whatif sweep database (missing table(s): {', '.join(sorted(missing))})")
    return conn


@dataclass
class Sweep:
    id: int
    name: str
    parameters: list = field(default_factory=list)
    points: int = 0

    @property
    def label(self):
        return self.name if self.name else f"sweep {self.id}"


def list_sweeps(conn):
    out = []
    for sid, name, points, params in conn.execute("SELECT id, name, points, parameters FROM sweeps ORDER BY id"):
        try:
            plist = json.loads(params) if params else []
            if not isinstance(plist, list):
                plist = []
        except (ValueError, TypeError):
            plist = []
        out.append(Sweep(sid, name, [str(p) for p in plist], points or 0))
    return out


def select_sweep(conn, name=None):
    """The sweep named NAME (the one with the highest id among those so named), or the latest sweep."""
    sweeps = list_sweeps(conn)
    if not sweeps:
        raise UsageError("the database holds no sweeps")
    if name is None:
        return sweeps[-1]
    named = [s for s in sweeps if s.name == name]
    if not named:
        have = ", ".join(f"{s.label!r} (id {s.id})" for s in sweeps)
        raise UsageError(f"unknown sweep {name!r}; the database holds: {have}")
    return named[-1]


def table_columns(conn):
    return [r[1] for r in conn.execute("PRAGMA table_info(points)")]


def sweep_columns(conn, sweep):
    """(parameters, metrics, other) column names of SWEEP: its parameters (in sweep order), the other non-fixed
    columns holding at least one value for its rows (its metrics), and the fixed columns."""
    cols = table_columns(conn)
    params = [p for p in sweep.parameters if p in cols]
    rest = [c for c in cols if c not in FIXED_COLUMNS and c not in params]
    metrics = []
    if rest:
        counts = conn.execute("SELECT " + ", ".join(f"count({quote(c)})" for c in rest) +
                              " FROM points WHERE sweep_id = ?", (sweep.id,)).fetchone()
        metrics = [c for c, n in zip(rest, counts) if n]
    return params, metrics, [c for c in cols if c in FIXED_COLUMNS]


def resolve_column(conn, sweep, name, option):
    """The points column NAME (case-insensitively, like SQLite) that holds values for SWEEP, else UsageError
    naming the columns that exist."""
    cols = table_columns(conn)
    params, metrics, fixed = sweep_columns(conn, sweep)

    def listing():
        return (f"sweep {sweep.label!r} has parameters: {', '.join(params) or '(none)'}; "
                f"metrics: {', '.join(metrics) or '(none)'}; other columns: {', '.join(fixed)}")

    actual = name if name in cols else next((c for c in cols if c.lower() == name.lower()), None)
    if actual is None:
        raise UsageError(f"unknown column {name!r} ({option}); {listing()}")
    if actual not in fixed and actual not in params and actual not in metrics:
        raise UsageError(f"column {name!r} ({option}) has no values in sweep {sweep.label!r}; {listing()}")
    return actual


def load_rows(conn, sweep, x, y, hue=None, facet=None, where=None):
    """(x, y, hue, facet) tuples of SWEEP's done rows (hue/facet None when not asked for), in table order.
    Rows whose x or y is NULL are left out; their count is returned too: (rows, skipped)."""
    exprs = [quote(x), quote(y), quote(hue) if hue else "NULL", quote(facet) if facet else "NULL"]
    sql = (f"SELECT {', '.join(exprs)} FROM points WHERE sweep_id = ? AND status = 'done'" +
           (f" AND ({where})" if where else "") + " ORDER BY point, repetition, rowid")
    try:
        raw = conn.execute(sql, (sweep.id,)).fetchall()
    except sqlite3.Error as e:
        raise UsageError(f"query failed ({e})" + (f"; check --where {where!r}" if where else ""))
    rows, skipped = [], 0
    for xv, yv, hv, fv in raw:
        if xv is None or yv is None:
            skipped += 1
            continue
        num = to_number(yv)
        if num is None:
            raise UsageError(f"column {y!r} (--y) is not numeric (value {yv!r})")
        rows.append((xv, num, hv, fv))
    return rows, skipped


# ----------------------------------------------------------------------------------------------------------------
# Aggregation (no matplotlib needed)
# ----------------------------------------------------------------------------------------------------------------

def to_number(v):
    """V as an int or float when it is (or spells) a finite-or-infinite number, else None."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        s = v.strip()
        try:
            return int(s)
        except ValueError:
            pass
        try:
            f = float(s)
        except ValueError:
            return None
        return None if math.isnan(f) else f
    return None


def normalise(values):
    """(keys, numeric): VALUES converted to numbers when every non-NULL one is a number, else unchanged."""
    nums = [None if v is None else to_number(v) for v in values]
    numeric = all(n is not None for v, n in zip(values, nums) if v is not None) and any(v is not None for v in values)
    return (nums if numeric else list(values)), numeric


def order(keys, numeric):
    """Distinct KEYS: sorted when numeric, else in first-appearance order; NULL (None) last."""
    seen = list(dict.fromkeys(k for k in keys if k is not None))
    if numeric:
        seen.sort()
    if any(k is None for k in keys):
        seen.append(None)
    return seen


@dataclass
class Cell:
    """The aggregate of one (facet, hue, x): mean and sample standard deviation (None below two values)."""
    x: object
    mean: float
    std: object
    n: int
    values: list


@dataclass
class Aggregated:
    xs: list                # x values in axis order
    hues: list              # hue values in legend order ([None] without --hue)
    facets: list            # facet values in panel order ([None] without --facet)
    x_numeric: bool
    cells: dict             # (facet, hue, x) -> Cell
    rows: int

    def series(self, hue=None, facet=None):
        """The cells of one line/bar group, in x order."""
        return [self.cells[(facet, hue, x)] for x in self.xs if (facet, hue, x) in self.cells]

    @property
    def points(self):
        return len(self.cells)


def aggregate(rows):
    """Groups (x, y, hue, facet) ROWS by (facet, hue, x) and reduces y to mean and standard deviation."""
    xs, x_numeric = normalise([r[0] for r in rows])
    hs, h_numeric = normalise([r[2] for r in rows])
    fs, f_numeric = normalise([r[3] for r in rows])
    groups = {}
    for x, (_, y, _, _), h, f in zip(xs, rows, hs, fs):
        groups.setdefault((f, h, x), []).append(y)
    cells = {}
    for (f, h, x), vals in groups.items():
        std = statistics.stdev(vals) if len(vals) > 1 else None
        cells[(f, h, x)] = Cell(x, statistics.fmean(vals), std, len(vals), vals)
    return Aggregated(order(xs, x_numeric), order(hs, h_numeric) or [None], order(fs, f_numeric) or [None],
                      x_numeric, cells, len(rows))


def fmt(v):
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:g}"
    return str(v)


# ----------------------------------------------------------------------------------------------------------------
# Plotting
# ----------------------------------------------------------------------------------------------------------------

def have_matplotlib():
    import importlib.util
    return importlib.util.find_spec("matplotlib") is not None


def reexec_for_matplotlib():
    """Re-runs the script under the system interpreter when this one lacks matplotlib (e.g. a pyenv python3
    ahead of Debian's on PATH) and that one has it; returns otherwise."""
    if have_matplotlib() or os.environ.get(REEXEC_ENV):
        return
    here = os.path.realpath(sys.executable or "")
    if not os.path.exists(SYSTEM_PYTHON) or os.path.realpath(SYSTEM_PYTHON) == here:
        return
    import subprocess
    probe = "import importlib.util as u, sys; sys.exit(u.find_spec('matplotlib') is None)"
    if subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True).returncode != 0:
        return
    os.environ[REEXEC_ENV] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def hue_colours(n):
    import matplotlib
    if n <= 10:
        cmap = matplotlib.colormaps["tab10"]
        return [cmap(i) for i in range(n)]
    if n <= 20:
        cmap = matplotlib.colormaps["tab20"]
        return [cmap(i) for i in range(n)]
    cmap = matplotlib.colormaps["viridis"]
    return [cmap(i / (n - 1)) for i in range(n)]


def grid(n):
    if n <= 4:
        return 1, n
    cols = math.ceil(math.sqrt(n))
    return math.ceil(n / cols), cols


def warn(msg):
    print(f"plot_sweep.py: warning: {msg}", file=sys.stderr)


def categorical_ticks(ax, xs):
    labels = [fmt(x) for x in xs]
    ax.set_xticks(range(len(xs)))
    ax.set_xticklabels(labels)
    if sum(len(s) for s in labels) > 50 or len(labels) > 12:
        ax.tick_params(axis="x", labelrotation=45)
        for t in ax.get_xticklabels():
            t.set_horizontalalignment("right")


def draw_line(ax, agg, facet, colours, handles):
    pos = (lambda x: x) if agg.x_numeric else {x: i for i, x in enumerate(agg.xs)}.get
    for hue, colour in zip(agg.hues, colours):
        cells = agg.series(hue, facet)
        if not cells:
            continue
        xs = [pos(c.x) for c in cells]
        (line,) = ax.plot(xs, [c.mean for c in cells], marker="o", markersize=4, color=colour, label=fmt(hue))
        err = [(pos(c.x), c.mean, c.std) for c in cells if c.std is not None]
        if err:
            ax.errorbar([e[0] for e in err], [e[1] for e in err], yerr=[e[2] for e in err], fmt="none",
                        ecolor=colour, capsize=3, elinewidth=1)
        handles.setdefault(hue, line)
    if not agg.x_numeric:
        categorical_ticks(ax, agg.xs)


def draw_bar(ax, agg, facet, colours, handles):
    nh = len(agg.hues)
    width = 0.8 / nh
    index = {x: i for i, x in enumerate(agg.xs)}
    for k, (hue, colour) in enumerate(zip(agg.hues, colours)):
        cells = agg.series(hue, facet)
        if not cells:
            continue
        xs = [index[c.x] - 0.4 + width * (k + 0.5) for c in cells]
        bars = ax.bar(xs, [c.mean for c in cells], width=width, color=colour, label=fmt(hue))
        err = [(x, c.mean, c.std) for x, c in zip(xs, cells) if c.std is not None]
        if err:
            ax.errorbar([e[0] for e in err], [e[1] for e in err], yerr=[e[2] for e in err], fmt="none",
                        ecolor="black", capsize=2, elinewidth=1)
        handles.setdefault(hue, bars)
    categorical_ticks(ax, agg.xs)


def draw_heatmap(ax, agg, facet, norm, cmap):
    import numpy as np
    m = np.full((len(agg.hues), len(agg.xs)), np.nan)
    for i, hue in enumerate(agg.hues):
        for j, x in enumerate(agg.xs):
            c = agg.cells.get((facet, hue, x))
            if c is not None:
                m[i, j] = c.mean
    im = ax.imshow(np.ma.masked_invalid(m), origin="lower", aspect="auto", cmap=cmap, norm=norm,
                   interpolation="nearest")
    cells = m.size
    size = 9 if cells <= 36 else 7 if cells <= 100 else 5
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            v = m[i, j]
            if math.isnan(v):
                continue
            rgba = cmap(norm(v))
            luminance = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=size,
                    color="black" if luminance > 0.5 else "white")
    categorical_ticks(ax, agg.xs)
    ax.set_yticks(range(len(agg.hues)))
    ax.set_yticklabels([fmt(h) for h in agg.hues])
    return im


def plot(agg, args, sweep, out):
    """Draws AGG into OUT."""
    import matplotlib
    from matplotlib import colors
    plt = pyplot()
    facets = agg.facets
    nrows, ncols = grid(len(facets))
    if args.kind == "heatmap":
        pw = min(max(4.0, 0.7 * len(agg.xs) + 2.0), 14.0)
        ph = min(max(3.0, 0.45 * len(agg.hues) + 1.8), 12.0)
    else:
        pw, ph = (5.5, 4.0) if len(facets) > 1 else (7.0, 4.8)
    fig, axes = plt.subplots(nrows, ncols, figsize=(pw * ncols + (1.2 if args.kind == "heatmap" else 0),
                                                    ph * nrows + 0.6),
                             sharex=True, sharey=True, squeeze=False, layout="constrained")
    flat = list(axes.flat)
    for ax in flat[len(facets):]:
        ax.set_visible(False)
    used = flat[:len(facets)]

    if args.kind == "heatmap":
        means = [c.mean for c in agg.cells.values() if math.isfinite(c.mean)]
        lo, hi = (min(means), max(means)) if means else (0.0, 1.0)
        cmap = matplotlib.colormaps["viridis"].copy()
        cmap.set_bad("#eeeeee")
        if args.logy and lo > 0:
            norm = colors.LogNorm(vmin=lo, vmax=hi if hi > lo else lo * 10)
        else:
            if args.logy:
                warn(f"--logy ignored: {args.y} has values <= 0")
            norm = colors.Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1)
        im = None
        for ax, f in zip(used, facets):
            im = draw_heatmap(ax, agg, f, norm, cmap)
        cbar = fig.colorbar(im, ax=used)
        cbar.set_label(args.y)
    else:
        colours = hue_colours(len(agg.hues))
        handles = {}
        draw = draw_line if args.kind == "line" else draw_bar
        for ax, f in zip(used, facets):
            draw(ax, agg, f, colours, handles)
            if args.logy:
                ax.set_yscale("log")
            if args.logx and args.kind == "line" and agg.x_numeric:
                ax.set_xscale("log")
            ax.grid(True, alpha=0.3)
        if args.hue and handles:
            hs = [h for h in agg.hues if h in handles]
            used[0].legend([handles[h] for h in hs], [fmt(h) for h in hs], title=args.hue, fontsize="small")

    for k, (ax, f) in enumerate(zip(used, facets)):
        if args.facet:
            ax.set_title(f"{args.facet} = {fmt(f)}", fontsize="medium")
        if k + ncols >= len(facets):  # bottom panel of its column (the grid's last row may be short)
            ax.set_xlabel(args.x)
            ax.xaxis.set_tick_params(labelbottom=True)
        if k % ncols == 0:
            ax.set_ylabel(args.hue if args.kind == "heatmap" else args.y)
    fig.suptitle(args.title if args.title is not None else sweep.label)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


# ----------------------------------------------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="plot_sweep.py", description=__doc__.splitlines()[0])
    ap.add_argument("db", metavar="DB", help="sweep database written by whatif")
    ap.add_argument("--x", required=True, metavar="COL", help="column on the x axis")
    ap.add_argument("--y", required=True, metavar="COL", help="numeric column plotted (mean over repetitions)")
    ap.add_argument("--hue", metavar="COL", help="one line/bar group per value (heatmap: the y axis)")
    ap.add_argument("--facet", metavar="COL", help="one subplot per value")
    ap.add_argument("--kind", choices=KINDS, default="line")
    ap.add_argument("--sweep", metavar="NAME", help="sweep name (default: the latest sweep)")
    ap.add_argument("--where", metavar="COND", help="extra SQL condition on the points rows")
    ap.add_argument("--logx", action="store_true", help="logarithmic x axis (line plots with numeric x)")
    ap.add_argument("--logy", action="store_true", help="logarithmic y axis (heatmap: logarithmic colours)")
    ap.add_argument("--title", help="figure title (default: the sweep name)")
    ap.add_argument("-o", "--output", required=True, metavar="FILE", help="output file: .png, .svg or .pdf")
    return ap.parse_args(argv)


def run(args):
    """Everything but the exit handling; returns (output path, aggregated data)."""
    out = pathlib.Path(args.output)
    ext = out.suffix.lower().lstrip(".")
    if ext not in FORMATS:
        raise UsageError(f"unsupported output extension {out.suffix or '(none)'!r} for {args.output}; "
                         f"use one of: {', '.join('.' + f for f in FORMATS)}")
    if args.kind == "heatmap" and not args.hue:
        raise UsageError("--kind heatmap needs --hue (the heatmap's y axis)")
    conn = open_db(args.db)
    try:
        sweep = select_sweep(conn, args.sweep)
        for opt in ("x", "y", "hue", "facet"):
            if getattr(args, opt):
                setattr(args, opt, resolve_column(conn, sweep, getattr(args, opt), "--" + opt))
        rows, skipped = load_rows(conn, sweep, args.x, args.y, args.hue, args.facet, args.where)
    finally:
        conn.close()
    if skipped:
        warn(f"{skipped} done row(s) without a value of {args.x} or {args.y} left out")
    if not rows:
        raise PlotFailure(f"no done rows with {args.x} and {args.y} in sweep {sweep.label!r}" +
                            (f" matching {args.where!r}" if args.where else ""))
    agg = aggregate(rows)
    if args.logx and (args.kind != "line" or not agg.x_numeric):
        warn("--logx ignored (needs --kind line and a numeric x)")
    if not have_matplotlib():
        raise PlotFailure("matplotlib is not installed for this python3 (Debian: apt-get install "
                            "python3-matplotlib)")
    plot(agg, args, sweep, out)
    return out, agg


def main(argv=None):
    args = parse_args(argv)
    if argv is None:
        reexec_for_matplotlib()
    try:
        out, agg = run(args)
    except UsageError as e:
        print(f"plot_sweep.py: error: {e}", file=sys.stderr)
        return 2
    except PlotFailure as e:
        print(f"plot_sweep.py: error: {e}", file=sys.stderr)
        return 1
    print(f"{args.output}: {agg.points} points plotted ({agg.rows} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
