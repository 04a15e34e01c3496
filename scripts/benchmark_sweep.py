#!/usr/bin/env python
"""Benchmark of `le_brian.sweep` on Dask: a reduced paper Fig. 3 sweep (bars, LE and
original microcircuit, several presentation times and seeds) on a LocalCluster of 1 and
of N workers, each with an empty program cache, so that compiling is part of the cost.

Reports wall time, points per second, the compiler runs per worker (the sweep runs the
first point of every program shape first, so a shape is compiled once) and checks that
every point's accuracy is the same on 1 and on N workers; then the same sweep again with
every program in the cache (``warm``: what parallel workers gain on the simulation). Writes
``<out>/benchmark_sweep.json``.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

from brian2 import ms

from le_brian.cli.script_helpers import add_common_arguments, add_field_argument, write_json
from le_brian.params import MicrocircuitTrainingParameters

FIELDS = MicrocircuitTrainingParameters.fields()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=20, help="epochs per point (default 20)")
    add_field_argument(p, FIELDS["presentation_time"], "--times", nargs="+", metavar="T",
                       default=[0.3 * ms, 1 * ms, 5 * ms, 20 * ms], doc="presentation times")
    p.add_argument("--seeds", type=int, default=2, help="seeds per configuration (default 2)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                   help="cluster sizes to compare (default 1 2)")
    add_common_arguments(p, out="figures", out_help="output folder",
                         fast_help="2 presentation times, 3 epochs, 1 seed")
    args = p.parse_args(argv)
    if args.fast:
        args.times, args.epochs, args.seeds = [0.3 * ms, 1 * ms], 3, 1
    # the sweep specification's text form ("0.3 ms")
    args.times = FIELDS["presentation_time"].to_json(args.times)
    return args


def main(argv=None):
    from le_brian import sweep

    args = parse_args(argv)
    spec = {"protocol": "bars", "fixed": {"epochs": args.epochs, "device": args.device},
            "grid": {"presentation_time": args.times, "mode": ["le", "original"],
                     "seed": [12354 + k for k in range(args.seeds)]}}
    rows, reference = [], None
    saved = os.environ.get("LE_BRIAN_CACHE")
    with tempfile.TemporaryDirectory(prefix="le_brian_sweep_bench_") as tmp:
        for n in args.workers:
            # cold: an empty program cache (compiling is part of the cost); warm: the
            # same sweep again into a new folder, every program in the cache
            os.environ["LE_BRIAN_CACHE"] = str(Path(tmp) / f"cache{n}")
            for cache in ("cold", "warm"):
                t0 = time.perf_counter()
                res = sweep.run(spec, workers=n, out=Path(tmp) / f"out{n}{cache}",
                                figure=False, progress=None)
                wall = time.perf_counter() - t0
                accuracy = {r["point"]: r["final_accuracy"] for r in res.rows}
                if reference is None:
                    reference = accuracy
                rows.append({"workers": n, "cache": cache, "points": res.n_points,
                             "wall_s": wall, "points_per_s": res.n_points / wall,
                             "compiles_per_worker": sorted(res.compiles.values(),
                                                           reverse=True),
                             "compiles": sum(res.compiles.values()),
                             "shapes": len(args.times), "complete": res.complete,
                             "same_accuracy_as_first": accuracy == reference})
                print(f"{n} worker(s), {cache} cache: {res.n_points} points in {wall:.1f} s "
                      f"({res.n_points / wall:.2f} points/s), compiles per worker "
                      f"{rows[-1]['compiles_per_worker']} ({len(args.times)} shapes), same "
                      f"accuracies as the first: {rows[-1]['same_accuracy_as_first']}",
                      flush=True)
    if saved is None:
        os.environ.pop("LE_BRIAN_CACHE", None)
    else:
        os.environ["LE_BRIAN_CACHE"] = saved
    for row in rows:  # against 1 worker (the first size) with the same cache state
        base = next(r["wall_s"] for r in rows if r["cache"] == row["cache"])
        row["speedup_vs_first"] = base / row["wall_s"]
    out = Path(args.out) / ("benchmark_sweep_fast.json" if args.fast else "benchmark_sweep.json")
    write_json(out, {"spec": spec, "cpu_count": os.cpu_count(), "rows": rows})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
