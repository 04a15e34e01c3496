#!/usr/bin/env python
"""Paper Fig. 2b-style: test accuracy against presentation time T, from T << tau_m to
T >> tau_m, for the LE network, the lagged baseline (same network, rates read from u)
and error backpropagation (same architecture, online SGD; it has no dynamics, so one
value per seed, drawn as a band).

The machinery is `le_brian.protocols.accuracy_vs_T` (shared with ``scripts/fig_conv.py``).
Each dataset's settings come from its parameter set in `le_brian.models` (the
repository's models/; ``TRAINING`` for the LE and lagged networks, ``BACKPROP`` for the
baseline), read through `le_brian.parameter_sets`. For each T the Euler step is set as
below, and the learning rates are scaled by T_model / T so that the weight change per
sample is the same at every T (``lr_reference_ms``).
The Euler step is dt = min(T / 10, --dt-max) (default 0.5 ms = tau_m / 20), so that
long presentations stay affordable.

Every (dataset, variant, T, seed) run trains in its own run folder under
``<out>/data/accuracy_vs_T/`` (named with a hash of the settings that change a run:
epochs, sample counts, dt_max, device) and is resumed if it exists, so an interrupted
sweep continues where it stopped; the summary is rewritten after every run, and a
summary of other settings is never reused (the script stops and names the difference;
--restart starts afresh; --rerun is the same option). Output:
``<out>/accuracy_vs_presentation_time.png`` and ``.json``; --fast writes ``accuracy_vs_presentation_time_fast.*``, marked as a smoke run.
--workers N / --scheduler ADDRESS: the LE and lagged runs of a dataset go through one
`le_brian.sweep` of the ``train`` protocol on Dask (run folders under
``<out>/data/accuracy_vs_T_sweep/<dataset>/points``, resumable); backprop stays here.
"""

import argparse
from pathlib import Path

from le_brian.cli.script_helpers import (add_accuracy_vs_T_arguments,
                                         finish_accuracy_vs_T_arguments, resume_results)
from le_brian.protocols.accuracy_vs_T import plot, print_table, run_settings, sweep


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_accuracy_vs_T_arguments(
        p, datasets=["yinyang", "mnist5k"], times_ms=(0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0),
        seeds=3, dt_max_ms=0.5,
        fast_help="CI smoke run: yinyang, T in {0.3, 10} ms, 1 seed, 1 epoch, "
                  "300 training and 200 evaluation samples")
    args = finish_accuracy_vs_T_arguments(p.parse_args(argv))  # times in ms
    if args.fast:
        args.datasets, args.times, args.seeds, args.epochs, args.n_train, args.n_eval = \
            ["yinyang"], [0.3, 10.0], 1, 1, 300, 200
    args.name = ("accuracy_vs_presentation_time_fast" if args.fast
                 else "accuracy_vs_presentation_time")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / f"{args.name}.json"
    summary = resume_results(summary_path, run_settings(args), restart=args.restart, empty={})
    summary = sweep(args, summary, summary_path)
    plot(summary, args, out / f"{args.name}.png")
    print_table(summary, args)
    print(f"wrote {out / args.name}.png")
    return summary


if __name__ == "__main__":
    main()
