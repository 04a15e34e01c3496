#!/usr/bin/env python
"""The spiking microcircuit at cortical rates while it learns bars, beside a recording
(issue 30): raster of pyramidal cells and interneurons, and the distributions of firing
rate and ISI CV of the model's pyramidal neurons next to those of a recording.

The circuit: the `cortical` preset (`le_brian.models.microcircuit_bars_cortical`:
n_per_unit neurons per unit at r_max phi, t_ref, tau_s; spike counts drawn per unit;
its learning rates and their schedule), LE, T = 10 ms, trained --epochs epochs, then
--record-epochs more epochs of training
(nudged, learning, with the validation patterns in between) with the spikes recorded.
Statistics of --neurons pyramidal neurons (the first of every unit, in turn).

The "recording": an NWB file written here with known statistics, as a test would: 60
units, dead-time Poisson trains (t_ref 2 ms) whose rates are log-normal (median 8 Hz,
sigma 0.8: cortical rates are skewed), 20 s each; its ISI CV is 1 - rate t_ref per unit.
Rates and CVs are compared with `le_brian.ephys.compare_statistics` (KS distance,
Wasserstein distance, Cohen's d), as `le-brian compare` does.

Writes <out>/cortical_raster.png and <out>/cortical_raster.json. --fast: 100 neurons
per unit, 5 + 2 epochs, 40 neurons.
"""

import argparse
import datetime
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from le_brian.cli.script_helpers import add_common_arguments, save_figure, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=300, help="training epochs before (300)")
    p.add_argument("--record-epochs", type=int, default=20,
                   help="epochs of training recorded (default 20: 3.2 s)")
    p.add_argument("--neurons", type=int, default=300, help="pyramidal neurons analysed")
    p.add_argument("--seed", type=int, default=12354)
    add_common_arguments(p, out="figures",
                         fast_help="100 neurons per unit, 5 + 2 epochs, 40 neurons")
    args = p.parse_args(argv)
    if args.fast:
        args.epochs, args.record_epochs, args.neurons = 5, 2, 40
    return args


def write_recording(path, n_units=60, duration=20.0, t_ref=2e-3, seed=1):
    """An NWB file of ``n_units`` dead-time Poisson trains with log-normal rates; returns
    the rates (Hz) it was made with."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.file import Subject

    rng = np.random.default_rng(seed)
    nwb = NWBFile(session_description="generated recording with known statistics",
                  identifier="cortical-generated",
                  session_start_time=datetime.datetime(2026, 1, 1,
                                                       tzinfo=datetime.timezone.utc))
    nwb.subject = Subject(subject_id="g1", species="Mus musculus", sex="M", age="P60D")
    shank = nwb.create_electrode_group("shank0", "a shank", "cortex",
                                       nwb.create_device("probe"))
    nwb.add_electrode(group=shank, location="cortex")
    rates = np.exp(np.log(8.0) + 0.8 * rng.standard_normal(n_units))
    rates = np.minimum(rates, 0.5 / t_ref)
    for rate in rates:
        lam = rate / (1 - rate * t_ref)  # hazard outside the dead time: mean rate `rate`
        isi = t_ref + rng.exponential(1 / lam, size=int(duration * rate * 2) + 20)
        t = np.cumsum(isi)
        nwb.add_unit(spike_times=t[t < duration], obs_intervals=[[0.0, duration]],
                     electrodes=[0])
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return rates


def main(argv=None):
    import neo
    import quantities as pq
    from brian2 import Hz, ms, second
    from matplotlib.figure import Figure

    from le_brian import Microcircuit
    from le_brian.ephys import compare_statistics, read_nwb_units, spike_statistics
    from le_brian.models.microcircuit_bars import NETWORK
    from le_brian.models.microcircuit_bars_cortical import (CORTICAL, ETA_SCALE, LR_DECAY,
                                                            LR_DECAY_EVERY)
    from le_brian.protocols.bars import (bars_data, bars_learning_rates, epoch_orders,
                                         run_schedule)
    from le_brian.protocols.presentation import lr_factor

    args = parse_args(argv)
    spiking = dict(CORTICAL, n_per_unit=100 if args.fast else CORTICAL["n_per_unit"])
    T = 10 * ms
    rates = {k: [ETA_SCALE * e for e in v] for k, v in bars_learning_rates(T).items()}
    net = Microcircuit(**dict(NETWORK, seed=args.seed), **rates,
                       spiking=True, device=args.device, **spiking)
    x, labels, y = bars_data()
    order, train = epoch_orders(net.rng, 8, 8, args.epochs + args.record_epochs)
    n_before = 16 * args.epochs

    # the preset's schedule while it learns, then the rates of the epoch after
    run_schedule(net, x, y, order, train, T, rates, args.epochs, 16, LR_DECAY, LR_DECAY_EVERY,
                 record={})
    f = lr_factor(args.epochs + 1, LR_DECAY, LR_DECAY_EVERY)
    net.set_learning_rates(**{k: [f * e for e in v] for k, v in rates.items()})
    res = net.run(x[order[n_before:]], T, targets=y[order[n_before:]],
                  nudge=train[n_before:], learn=train[n_before:], record={},
                  record_spikes=True)
    val = res.pattern_outputs.argmax(axis=1) == labels[order[n_before:]]
    accuracy = float(val[~train[n_before:]].mean())
    duration = float((res.t_stop - res.t_start) / second)
    t0 = float(res.t_start / second)

    # statistics of pyramidal neurons: the k-th neuron of every unit, in turn
    pyr = res.spikes["pyr1"]
    n = pyr["n_per_unit"]
    chosen = [(k % 30) * n + k // 30 for k in range(args.neurons)]
    t_pyr = np.asarray(pyr["t"] / second) - t0
    trains = [neo.SpikeTrain(np.sort(t_pyr[pyr["i"] == j]) * pq.s, t_start=0 * pq.s,
                             t_stop=duration * pq.s) for j in chosen]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        simulated = spike_statistics(trains)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "recording.nwb"
            made_rates = write_recording(path)
            recorded = spike_statistics(next(iter(read_nwb_units(path).values())))
    rows = [r for r in compare_statistics(simulated, recorded)
            if r["statistic"] in ("rate", "cv", "cv2", "lv")]
    n_spikes = sum(float(c.sum()) for c in res.spike_counts.values())
    n_neurons = sum(len(c) for c in res.spike_counts.values()) * n
    peak = max(float(np.max(r / Hz)) for r in res.peak_rates.values())
    summary = dict(epochs=args.epochs, record_epochs=args.record_epochs, seed=args.seed,
                   n_per_unit=n, r_max_hz=float(CORTICAL["r_max"] / Hz),
                   t_ref_ms=float(CORTICAL["t_ref"] / ms), tau_s_ms=float(CORTICAL["tau_s"] / ms),
                   eta_scale=ETA_SCALE, lr_decay=LR_DECAY, lr_decay_every=LR_DECAY_EVERY,
                   validation_accuracy_recorded=accuracy,
                   mean_rate_hz=n_spikes / (n_neurons * duration), max_rate_hz=peak,
                   spikes_per_presentation=n_spikes / len(val),
                   recording_rate_median_hz=float(np.median(made_rates)),
                   comparison=rows)

    fig = Figure(figsize=(12, 6.5), layout="constrained")
    grid = fig.add_gridspec(2, 3, width_ratios=[2.2, 1, 1])
    ax_r = fig.add_subplot(grid[:, 0])
    window = (0.0, min(duration, 0.16))  # one epoch: 16 presentations of 10 ms
    offset = 0
    for pop, color, units in (("pyr1", "C0", 30), ("int1", "C3", 3), ("out", "C2", 3)):
        s = res.spikes[pop]
        t = np.asarray(s["t"] / second) - t0
        per_unit = 8 if pop == "pyr1" else 20
        for u in range(units):
            for k in range(per_unit):
                j = u * s["n_per_unit"] + k
                tj = t[(s["i"] == j) & (t < window[1])]
                ax_r.plot(tj * 1e3, np.full(len(tj), offset), "|", color=color, ms=2.5)
                offset += 1
        ax_r.text(window[1] * 1e3 * 1.01, offset - per_unit * units / 2, pop, color=color,
                  va="center", fontsize=8)
    for k in range(int(window[1] / 0.01) + 1):
        ax_r.axvline(k * 10, color="0.85", lw=0.5, zorder=0)
    ax_r.set_xlim(0, window[1] * 1e3)
    ax_r.set_xlabel("time in the recorded epoch (ms); presentations of 10 ms")
    ax_r.set_ylabel("neuron (8 of every pyramidal unit, 20 of every interneuron / output)")
    fig.suptitle(f"cortical preset while learning bars: {n} neurons per unit, r_max "
                 f"{summary['r_max_hz']:g} Hz, t_ref {summary['t_ref_ms']:g} ms, mean "
                 f"{summary['mean_rate_hz']:.1f} Hz, max {peak:.0f} Hz", fontsize=10)
    for row, (key, label) in enumerate((("rate", "rate (Hz)"), ("cv", "ISI CV"))):
        ax = fig.add_subplot(grid[row, 1:])
        sim = np.asarray(simulated[key], float)
        rec = np.asarray(recorded[key], float)
        sim, rec = sim[np.isfinite(sim)], rec[np.isfinite(rec)]
        bins = np.histogram_bin_edges(np.concatenate([sim, rec]), bins=25)
        ax.hist(sim, bins=bins, density=True, alpha=0.6, label=f"model pyr1 ({len(sim)})")
        ax.hist(rec, bins=bins, density=True, alpha=0.6, label=f"recording ({len(rec)})")
        r = next(r for r in rows if r["statistic"] == key)
        ax.set_title(f"{label}: KS {r['ks_distance']:.2f}, Wasserstein "
                     f"{r['wasserstein']:.2f}, Cohen's d {r['cohens_d']:.2f}", fontsize=9)
        ax.set_xlabel(label)
        ax.legend(fontsize=8)
    os.makedirs(args.out, exist_ok=True)
    paths = save_figure(fig, Path(args.out) / "cortical_raster.png", dpi=90, smoke=args.fast)
    write_json(Path(args.out) / "cortical_raster.json", summary)
    for r in rows:
        print(f"{r['statistic']:5s} model {r['sim_mean']:7.2f}  recording {r['rec_mean']:7.2f}"
              f"  KS {r['ks_distance']:.2f}  W {r['wasserstein']:.2f}  d {r['cohens_d']:.2f}")
    print(f"accuracy (recorded validation) {accuracy:.3f}, mean rate "
          f"{summary['mean_rate_hz']:.1f} Hz, max {peak:.0f} Hz; wrote "
          f"{', '.join(map(str, paths))}")
    return summary


if __name__ == "__main__":
    main()
