#!/usr/bin/env python
"""Compartment traces of the cortical microcircuit during learning (bars task, 9-30-3):
soma u, basal v_B and apical v_A of one hidden pyramidal cell and soma u / dendrite v_I of
one interneuron, with the output's visible potential and the target, LE against the
original mode (docs/model.md §2).

A short stretch of the bars protocol (--epochs epochs, presentation time --T ms) is run
with full recordings. Writes <out>/microcircuit_traces.png and .json (the traces).
Seconds on cpp_standalone after compilation; --fast: 2 epochs on the runtime device.
"""

import argparse

import numpy as np

from brian2 import ms

from le_brian.cli.script_helpers import (add_common_arguments, add_field_argument, in_unit,
                                         save_figure, write_json)
from le_brian.params import MicrocircuitTrainingParameters


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_field_argument(p, MicrocircuitTrainingParameters.fields()["presentation_time"], "--T",
                       default=5 * ms, metavar="T")
    p.add_argument("--epochs", type=int, default=3, help="epochs to record (default 3)")
    p.add_argument("--cell", type=int, default=0, help="hidden pyramidal cell index")
    p.add_argument("--interneuron", type=int, default=0, help="interneuron index")
    add_common_arguments(p, out="figures", out_help="output folder",
                         fast_help="CI mode: 2 epochs, runtime device")
    args = p.parse_args(argv)
    args.T = in_unit(args.T, ms)  # the script's number: ms
    if args.fast:
        args.epochs, args.device = 2, "runtime"
    if not 0 <= args.cell < 30 or not 0 <= args.interneuron < 3:
        p.error("--cell must be in 0..29 and --interneuron in 0..2")
    return args


def record(args, mode):
    from le_brian.networks.microcircuit import Microcircuit
    from le_brian.protocols.bars import bars_data, bars_learning_rates, bars_out_lag
    from le_brian.protocols.presentation import epoch_orders

    T = args.T * ms
    try:
        lag = bars_out_lag(T, mode)
    except ValueError:  # presentation time outside the paper's table
        lag = 0 * ms
    from le_brian.models.microcircuit_bars import NETWORK, PROTOCOL

    net = Microcircuit(**NETWORK, mode=mode, device=args.device, out_lag=lag,
                       **bars_learning_rates(T))
    x, labels, y = bars_data()
    order, train = epoch_orders(net.rng, PROTOCOL["train_patterns"],
                                PROTOCOL["validation_patterns"], args.epochs)
    res = net.run(x[order], T, targets=y[order], nudge=train, learn=train,
                  record={"pyr1": ["u", "v_B", "v_A"], "int1": ["u", "v_I"],
                          "out": ["w", "tgt", "nudge"]})
    c, i = args.cell, args.interneuron
    return {"t_ms": (np.asarray(res.t) * 1e3).tolist(),
            "pyr_u": res.states["pyr1"]["u"][:, c].tolist(),
            "pyr_v_B": res.states["pyr1"]["v_B"][:, c].tolist(),
            "pyr_v_A": res.states["pyr1"]["v_A"][:, c].tolist(),
            "int_u": res.states["int1"]["u"][:, i].tolist(),
            "int_v_I": res.states["int1"]["v_I"][:, i].tolist(),
            "out_w": res.states["out"]["w"][:, i].tolist(),
            "target": (res.states["out"]["tgt"][:, i] * res.states["out"]["nudge"][:, i]).tolist(),
            "nudged": res.states["out"]["nudge"][:, i].tolist()}


def plot(traces, args, png):
    from brian2 import ms
    from matplotlib.figure import Figure

    from le_brian.plotting import plot_state

    fig = Figure(figsize=(14, 8), layout="constrained")
    axes = fig.subplots(3, 2, sharex=True)
    for col, (mode, tr) in enumerate(traces.items()):
        t = np.array(tr["t_ms"]) * ms
        ax = axes[0, col]
        plot_state(t, tr["pyr_u"], var_name="potential", axes=ax, label="soma u")
        plot_state(t, tr["pyr_v_B"], var_name="potential", axes=ax, label="basal v_B",
                   alpha=0.7)
        plot_state(t, tr["pyr_v_A"], var_name="potential", axes=ax, label="apical v_A",
                   alpha=0.7)
        ax.set_title(f"{mode}: hidden pyramidal cell {args.cell}")
        ax.legend(fontsize=7)
        ax = axes[1, col]
        plot_state(t, tr["int_u"], var_name="potential", axes=ax, label="interneuron soma u")
        plot_state(t, tr["int_v_I"], var_name="potential", axes=ax, label="dendrite v_I",
                   alpha=0.7)
        plot_state(t, tr["out_w"], var_name="potential", axes=ax, ls="--",
                   label="output visible potential (nudges it)")
        ax.set_title(f"interneuron {args.interneuron}")
        ax.legend(fontsize=7)
        ax = axes[2, col]
        plot_state(t, tr["out_w"], var_name="potential", axes=ax,
                   label="output visible potential")
        nudged = np.array(tr["nudged"]) > 0.5
        plot_state(t, np.where(nudged, tr["target"], np.nan), var_name="potential", axes=ax,
                   ls="", marker=".", color="k", ms=1, label="target (nudged)")
        ax.set_title(f"output {args.interneuron}")
        ax.legend(fontsize=7)
    for ax in axes[:2].ravel():
        ax.set_xlabel("")
    fig.suptitle(f"bars, T = {args.T:g} ms: 8 training (nudged) + 8 validation patterns "
                 f"per epoch")
    save_figure(fig, png, dpi=100, smoke=args.fast)


def main(argv=None):
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    traces = {mode: record(args, mode) for mode in ("le", "original")}
    name = "microcircuit_traces_fast" if args.fast else "microcircuit_traces"
    write_json(args.out / f"{name}.json", {"T_ms": args.T, "traces": traces}, indent=None)
    plot(traces, args, args.out / f"{name}.png")
    print(f"wrote {args.out / (name + '.png')} and .json")


if __name__ == "__main__":
    main()
