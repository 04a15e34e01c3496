"""``le-brian sweep SPEC``: a grid of points of a protocol on Dask (or in this process),
resumable, aggregated (`le_brian.sweep`)."""

__all__ = ["add_sweep_command"]

from ..sweep.spec import DEFAULT_MAX_POINTS, SCHEDULER_TIMEOUT_S


def _cli_sweep(args):
    import sys

    from ..sweep import run

    result = run(args.spec, scheduler=args.scheduler, workers=args.workers, out=args.out,
                 retries=args.retries, progress=sys.stderr, max_points=args.max_points)
    compiles = ", ".join(f"{w}: {n}" for w, n in sorted(result.compiles.items())) or "none"
    elsewhere = (f", {result.n_elsewhere} by another sweep on this folder"
                 if result.n_elsewhere else "")
    print(f"{result.n_points} points: {result.n_run} run now{elsewhere}, {result.n_skipped} "
          f"finished before, {result.n_failed} failed; compiles per worker: {compiles}; "
          f"{result.wall_s:.1f} s")
    print("wrote " + ", ".join(str(p) for p in result.files))
    if result.n_failed:
        failed = [r["point"] for r in result.rows if r["status"] == "failed"]
        print(f"failed points (error.json in their folders): {', '.join(failed)}",
              file=sys.stderr)
    return 0 if result.complete else 1


def add_sweep_command(sub):
    p = sub.add_parser(
        "sweep", help="a grid of runs of a protocol on Dask (resumable, aggregated)",
        description="Run every point of a sweep specification (TOML or YAML: protocol, "
        "[fixed], [grid], [zip]) as a Dask task, one run folder per point, then the "
        "aggregated table (sweep.csv, sweep.json) and figure (sweep.png). A second "
        "invocation skips finished points; two sweeps on one folder split the points. "
        "Exit status 1 when a point failed. Code that runs by design: a "
        "python:<module>:<function> protocol imports that module, and a train point's "
        "model .py file is executed, where the point runs (only found while the "
        "specification is checked).")
    p.add_argument("spec", help="a .toml or .yaml sweep specification")
    p.add_argument("--out", default=None,
                   help="sweep folder (default: the spec's out, else ./sweeps/<spec name>)")
    p.add_argument("--scheduler", default=None,
                   help="address of a running Dask scheduler (tcp://host:8786); an "
                   f"address not reached within {SCHEDULER_TIMEOUT_S} s is an error")
    p.add_argument("--workers", type=int, default=None,
                   help="local cluster of N single-threaded workers (default: one per core); "
                   "0 runs the points in this process")
    p.add_argument("--retries", type=int, default=None,
                   help="extra attempts of a point that raised (default: the spec's)")
    p.add_argument("--max-points", type=int, default=None,
                   help=f"refuse a grid of more points (counted before any is made; "
                   f"default {DEFAULT_MAX_POINTS} or $LE_BRIAN_MAX_POINTS)")
    p.set_defaults(func=_cli_sweep)
