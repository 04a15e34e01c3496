"""``le-brian sweep SPEC``: a grid of points of a protocol on Dask (or in this process),
resumable, aggregated (`le_brian.sweep`)."""

__all__ = ["add_sweep_command"]


def _cli_sweep(args):
    import sys

    from ..sweep import run

    result = run(args.spec, scheduler=args.scheduler, workers=args.workers, out=args.out,
                 retries=args.retries, progress=sys.stderr)
    compiles = ", ".join(f"{w}: {n}" for w, n in sorted(result.compiles.items())) or "none"
    print(f"{result.n_points} points: {result.n_run} run now, {result.n_skipped} finished "
          f"before, {result.n_failed} failed; compiles per worker: {compiles}; "
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
        "invocation skips finished points. Exit status 1 when a point failed.")
    p.add_argument("spec", help="a .toml or .yaml sweep specification")
    p.add_argument("--out", default=None,
                   help="sweep folder (default: the spec's out, else ./sweeps/<spec name>)")
    p.add_argument("--scheduler", default=None,
                   help="address of a running Dask scheduler (tcp://host:8786)")
    p.add_argument("--workers", type=int, default=None,
                   help="local cluster of N single-threaded workers (default: one per core); "
                   "0 runs the points in this process")
    p.add_argument("--retries", type=int, default=None,
                   help="extra attempts of a point that raised (default: the spec's)")
    p.set_defaults(func=_cli_sweep)
