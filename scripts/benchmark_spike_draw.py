#!/usr/bin/env python
"""Cost of the spiking microcircuit at cortical rates: one draw per neuron and step
(``spike_draw='neurons'``) against one binomial count per unit and step (``'counts'``,
docs/model.md §5.5), measured in the same process (issue 30).

For each n_per_unit: a bars microcircuit (9-30-3, r_max = 20 Hz, t_ref = 2 ms,
tau_s = 2 ms, T = 10 ms) runs ``--epochs`` epochs per draw on cpp_standalone; reported
are the run time (Brian2's simulation loop, the compiled program reused, its second run)
and the memory of the program's state arrays (every Brian2 variable array of the
network: spike groups, the synapses that sum their spikes, the units), plus the run time
of the rate model for reference.

Results: <out>/benchmark_spike_draw.json. --fast: n_per_unit 10 and 100, 2 epochs.
"""

import argparse
import os
import time

import numpy as np

from le_brian.cli.script_helpers import add_common_arguments, write_json


def array_bytes(network):
    """Bytes of every variable array of a Brian2 network's groups (its state)."""
    total = 0
    for obj in network.objects:
        variables = getattr(obj, "variables", None)
        if variables is None:
            continue
        for var in variables.values():
            size = getattr(var, "size", None)
            dtype = getattr(var, "dtype", None)
            if size is not None and dtype is not None and not getattr(var, "scalar", False):
                total += int(np.prod(size)) * np.dtype(dtype).itemsize
    return total


def one(n_per_unit, draw, epochs, device, spiking=True):
    from brian2 import Hz, ms

    from le_brian import Microcircuit
    from le_brian.models.microcircuit_bars import NETWORK
    from le_brian.protocols.bars import bars_data, bars_learning_rates, epoch_orders

    T = 10 * ms
    kw = dict(spiking=True, n_per_unit=n_per_unit, r_max=20 * Hz, t_ref=2 * ms,
              tau_s=2 * ms, spike_draw=draw) if spiking else {}
    net = Microcircuit(device=device, **NETWORK, **bars_learning_rates(T), **kw)
    x, labels, y = bars_data()
    order, train = epoch_orders(net.rng, 8, 8, epochs)
    times = []
    for _ in range(2):  # the first run compiles; the second reuses the program
        res = net.run(x[order], T, targets=y[order], nudge=train, learn=train, record={})
        times.append(float(res.simulation_time or res.run_time))
    spikes = (sum(float(c.sum()) for c in res.spike_counts.values()) / len(order)
              if spiking else 0.0)
    return dict(n_per_unit=n_per_unit, draw=draw if spiking else "rate",
                sim_time_s=times[1], state_bytes=array_bytes(net._last_built.network),
                spikes_per_presentation=spikes, steps=int(len(order) * res.steps_per_sample))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-per-unit", type=int, nargs="+", default=[100, 1000, 10000])
    p.add_argument("--epochs", type=int, default=10)
    add_common_arguments(p, device="cpp_standalone", out="figures",
                         fast_help="n_per_unit 10 and 100, 2 epochs")
    args = p.parse_args(argv)
    if args.fast:
        args.n_per_unit, args.epochs = [10, 100], 2
    rows = [one(1, "rate", args.epochs, args.device, spiking=False)]
    for n in args.n_per_unit:
        for draw in ("neurons", "counts"):
            t0 = time.perf_counter()
            rows.append(one(n, draw, args.epochs, args.device))
            r = rows[-1]
            print(f"n_per_unit {n:6d} {draw:8s}: simulation {r['sim_time_s']:7.2f} s, state "
                  f"{r['state_bytes'] / 2**20:8.2f} MiB, {r['spikes_per_presentation']:.0f} "
                  f"spikes/presentation ({time.perf_counter() - t0:.0f} s with builds)",
                  flush=True)
    print(f"rate model: simulation {rows[0]['sim_time_s']:.2f} s")
    os.makedirs(args.out, exist_ok=True)
    write_json(os.path.join(args.out, "benchmark_spike_draw.json"),
               dict(epochs=args.epochs, device=args.device, rows=rows))
    return rows


if __name__ == "__main__":
    main()
