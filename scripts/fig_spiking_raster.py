#!/usr/bin/env python
"""A spiking cortical microcircuit at work (docs/model.md §2, §5): raster of every
population, population rates, and the compartments of one pyramidal cell and one
interneuron, while the circuit trained on bars (`run_bars`, LE, spiking) classifies the
8 patterns (no nudging, no learning).

The circuit: 9-30-3, every pyramidal cell and interneuron 20 Poisson neurons of rate
2 kHz * phi (tau_s = 1 ms traces), trained for --epochs epochs at T = 10 ms (seed 12354),
then shown the 8 patterns for 10 ms each. Writes <out>/spiking_raster.png (and .pdf).
--fast: 3 neurons per unit, 5 training epochs.
"""

import argparse

import numpy as np

from le_brian.cli.script_helpers import add_common_arguments, add_field_argument, save_figure
from le_brian.params import LENetworkParameters, MicrocircuitParameters


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=300, help="training epochs (default 300)")
    add_field_argument(p, LENetworkParameters.fields()["n_per_unit"], default=20)
    add_common_arguments(p, out="figures",
                         fast_help="CI mode: 3 neurons per unit, 5 epochs")
    args = p.parse_args(argv)
    if args.fast:
        args.epochs, args.n_per_unit = 5, 3
    if args.epochs < 1:
        p.error("--epochs must be >= 1")
    return args


def main(argv=None):
    from brian2 import ms
    from matplotlib.figure import Figure

    from le_brian import Microcircuit
    from le_brian.models.microcircuit_bars import NETWORK
    from le_brian.plotting import (POPULATION_COLORS, plot_population_raster, plot_rate,
                                   plot_state, population_rate)
    from le_brian.protocols.bars import bars_data, run_bars

    args = parse_args(argv)
    spiking = {"n_per_unit": args.n_per_unit,
               "r_max": MicrocircuitParameters.fields()["r_max"].default}  # 2 kHz
    T = 10 * ms
    trained = run_bars(T, "le", epochs=args.epochs, device=args.device, spiking=spiking)
    net = Microcircuit(mode="le", device=args.device, spiking=True, **spiking, **NETWORK)
    net.set_parameters(**trained["weights"])
    x, labels, y = bars_data()
    res = net.run(x, T, targets=y, nudge=False, learn=False, record_spikes=True,
                  record={"pyr1": ["u", "v_B", "v_A"], "int1": ["u", "v_I"], "out": ["w"]})
    accuracy = float(np.mean(res.pattern_outputs.argmax(axis=1) == labels))

    fig = Figure(figsize=(12, 9), layout="constrained")
    ax_raster, ax_rate, ax_pyr, ax_int, ax_out = fig.subplots(
        5, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.2, 1.2, 1.2, 1.2]})
    plot_population_raster(res, axes=ax_raster, markersize=1)
    ax_raster.set_title(f"spiking microcircuit 9-30-3 after {args.epochs} epochs of bars "
                        f"(LE, T = 10 ms, {args.n_per_unit} x 2 kHz per unit): "
                        f"{accuracy:.0%} of the 8 patterns correct", fontsize=10)
    for k, (pop, s) in enumerate(res.spikes.items()):
        t, rate = population_rate(s["t"], s["n_neurons"], res.t_start, res.t_stop,
                                  bin_size=0.5 * ms, smooth=1 * ms)
        plot_rate(t, rate, axes=ax_rate, color=POPULATION_COLORS[k], label=pop)
    ax_rate.legend(fontsize=7, ncol=3)
    for var in ("u", "v_B", "v_A"):
        plot_state(res.t, res.states["pyr1"][var][:, 0], var_name="pyr1[0]", axes=ax_pyr,
                   label={"u": "soma", "v_B": "basal", "v_A": "apical"}[var])
    ax_pyr.legend(fontsize=7, ncol=3)
    for var in ("u", "v_I"):
        plot_state(res.t, res.states["int1"][var][:, 0], var_name="int1[0]", axes=ax_int,
                   label={"u": "soma", "v_I": "dendrite"}[var])
    ax_int.legend(fontsize=7, ncol=2)
    plot_state(res.t, res.states["out"]["w"], var_name="output potential",
               axes=ax_out, labels=[f"class {c}" for c in range(3)])
    paths = save_figure(fig, args.out / "spiking_raster.png", dpi=80, pdf=True,
                        smoke=args.fast)
    print(f"accuracy {accuracy:.3f}; wrote {', '.join(map(str, paths))}")


if __name__ == "__main__":
    main()
