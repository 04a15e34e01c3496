#!/usr/bin/env python
"""The spiking LE microcircuit on bars at cortical rates (issue 30): validation accuracy
(mean of the last 30 epochs), mean and largest rate per neuron, spikes per presentation
and run time, for LE and the original dynamics, against the presentation time T.

Every neuron fires at most r_max * max(phi) (soft_relu rates of bars stay below ~5, so
r_max = 20 Hz keeps every neuron <= 100 Hz); n_per_unit neurons per unit, an absolute
refractory period t_ref and a trace time constant tau_s (the `cortical` preset's values
by default, `le_brian.models.microcircuit_bars.CORTICAL`). One run per (mode, T, seed,
prospective trace), each a 300-epoch `le_brian.protocols.bars.run_bars` run on one core.

Results: <out>/cortical_bars.json (rewritten after every run; runs already there are
skipped when the script is started again with the same settings). Start it with
``nice -n 10`` on a shared machine. --fast: 3 epochs, T = 10 ms, one seed, LE only.
"""

import argparse
import os
import time

import numpy as np

from brian2 import Hz, ms

from le_brian.cli.script_helpers import (add_common_arguments, add_field_argument, in_unit,
                                         resume_results, write_json)
from le_brian.params import MicrocircuitTrainingParameters


def parse_args(argv=None):
    from le_brian.models.microcircuit_bars_cortical import CORTICAL
    from le_brian.models.microcircuit_bars_cortical import ETA_SCALE as CORTICAL_ETA_SCALE
    from le_brian.models.microcircuit_bars_cortical import LR_DECAY, LR_DECAY_EVERY

    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    fields = MicrocircuitTrainingParameters.fields()  # units, checks and docs: the fields'
    add_field_argument(p, fields["presentation_time"], "--times", nargs="+",
                       default=[10 * ms, 20 * ms], metavar="T", doc="presentation times")
    p.add_argument("--modes", nargs="+", default=["le", "original"], choices=["le", "original"])
    p.add_argument("--seeds", type=int, nargs="+", default=[12354, 1, 2])
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--last", type=int, default=30, help="epochs averaged (default 30)")
    for name in ("n_per_unit", "r_max", "tau_s", "t_ref", "max_rate"):
        add_field_argument(p, fields[name], default=CORTICAL[name],
                           doc=fields[name].doc + " (default: the cortical preset's)")
    p.add_argument("--draw", default=CORTICAL.get("spike_draw", "neurons"),
                   choices=["neurons", "counts"])
    p.add_argument("--eta-scale", type=float, default=CORTICAL_ETA_SCALE,
                   help="factor on the bars learning rates (default: the preset's)")
    p.add_argument("--lr-decay", type=float, default=LR_DECAY,
                   help="learning rates times LR_DECAY every --lr-decay-every epochs "
                   "(default: the preset's)")
    p.add_argument("--lr-decay-every", type=int, default=LR_DECAY_EVERY,
                   help="epochs between two decays (default: the preset's)")
    p.add_argument("--prospective", nargs="+", type=int, default=[0], choices=[0, 1],
                   help="prospective trace off (0) and/or on (1)")
    p.add_argument("--name", default="cortical_bars", help="JSON file name (no suffix)")
    add_common_arguments(p, out="figures",
                         fast_help="3 epochs, T = 10 ms, one seed, LE only")
    p.add_argument("--restart", action="store_true", help="ignore an existing JSON")
    args = p.parse_args(argv)
    if args.fast:
        args.times, args.modes, args.seeds, args.epochs, args.last = [10 * ms], ["le"], [1], 3, 1
    return args


def main(argv=None):
    args = parse_args(argv)
    from le_brian.protocols.bars import run_bars

    settings = dict(epochs=args.epochs, last=args.last, n_per_unit=args.n_per_unit,
                    r_max_hz=in_unit(args.r_max, Hz), tau_s_ms=in_unit(args.tau_s, ms),
                    t_ref_ms=in_unit(args.t_ref, ms),
                    draw=args.draw, device=args.device, eta_scale=args.eta_scale,
                    lr_decay=args.lr_decay, lr_decay_every=args.lr_decay_every,
                    max_rate_hz=None if args.max_rate is None else in_unit(args.max_rate, Hz))
    path = os.path.join(args.out, f"{args.name}.json")
    os.makedirs(args.out, exist_ok=True)
    results = resume_results(path, settings, restart=args.restart)
    for prosp in args.prospective:
        for mode in args.modes:
            for t_ms in in_unit(args.times, ms):
                for seed in args.seeds:
                    key = f"{mode}/T{t_ms:g}/prosp{prosp}/seed{seed}"
                    if key in results["runs"]:
                        continue
                    spiking = dict(n_per_unit=args.n_per_unit, r_max=args.r_max,
                                   tau_s=args.tau_s, t_ref=args.t_ref)
                    if args.draw != "neurons":
                        spiking["spike_draw"] = args.draw
                    if args.max_rate is not None:
                        spiking["max_rate"] = args.max_rate
                    if prosp:
                        spiking["prospective_trace"] = True
                    t0 = time.perf_counter()
                    r = run_bars(t_ms * ms, mode=mode, epochs=args.epochs, seed=seed,
                                 device=args.device, spiking=spiking,
                                 eta_scale=args.eta_scale, lr_decay=args.lr_decay,
                                 lr_decay_every=args.lr_decay_every)
                    wall = time.perf_counter() - t0
                    val = np.asarray(r["val_accuracy"])
                    results["runs"][key] = dict(
                        mode=mode, T_ms=t_ms, seed=seed, prospective=bool(prosp),
                        val_last=float(val[-args.last:].mean()),
                        val_curve=[float(v) for v in val],
                        mean_rate_hz=float(r["mean_rate_hz"]),
                        max_rate_hz=float(r.get("max_rate_hz", np.nan)),
                        spikes_per_presentation=float(r["spikes_per_presentation"]),
                        run_time_s=r["run_time"], build_time_s=r["build_time"],
                        wall_s=wall)
                    write_json(path, results)
                    print(f"{key}: val {results['runs'][key]['val_last']:.3f}, mean rate "
                          f"{r['mean_rate_hz']:.1f} Hz, {r['spikes_per_presentation']:.0f} "
                          f"spikes/presentation, run {r['run_time']:.0f} s", flush=True)
    return results


if __name__ == "__main__":
    main()
