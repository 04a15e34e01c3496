#!/usr/bin/env python
"""Paper Fig. 3: validation accuracy of the cortical microcircuit on the "bars" task
against the presentation time T, Latent Equilibrium against the original microcircuit
(docs/model.md §3.5; `le_brian.protocols.bars.run_bars`).

Every (T, mode, seed) is one run of the whole training (epochs of 8 nudged, learning
training patterns + 8 free validation patterns). The figure shows the mean and the
min-max spread over seeds of the validation accuracy averaged over the last 10% of
epochs, and the learning curves. Seeds are 12354 (the paper's) + k.

Results are written to <out>/microcircuit_bars.json after every configuration (a crash
loses nothing; an existing JSON is resumed: finished configurations are skipped unless
--restart), and the figure to <out>/microcircuit_bars.png.

Cost: the paper's sweep (1000 epochs, 10 seeds, T up to 500 ms) is 2.8e9 steps. Measured
on cpp_standalone (2-core machine under load): 150 epochs x 3 seeds x 11 presentation
times x 2 modes = 1.28e8 steps took 994 s (587 s simulating at ~2.2e5 steps/s, 405 s for
11 compilations, one per presentation time; seeds and modes reuse the program). The
defaults (300 epochs, 5 seeds, dense projections) are 4.3e8 steps: 2385 s measured on that
machine shared with two other jobs (100 epochs took 599 s but had not converged: LE 0.74-0.79).
The NumPy loop of the full sweep would take ~14 h (8.4e3 steps/s, idle machine).

--compare-numpy runs every configuration a second time in the plain NumPy step loop
(`le_brian.protocols.bars.run_bars_numpy`, the same equations and protocol) in the
same process, records both wall times (Brian2: build + run; NumPy: the loop) and checks
that both give the same validation curve; the summary holds the sweep totals and their
ratio. Use it on a reduced sweep (e.g. --epochs 10 --seeds 1).
--fast (CI, ~2 min, mostly 3 compilations): T in {0.3, 1, 5} ms, 20 epochs, 2 seeds.

--workers N (a local Dask cluster of N single-threaded workers) or --scheduler ADDRESS
(a running cluster) run the configurations as one `le_brian.sweep` of the bars protocol
(points under <out>/data/bars_sweep, resumable; each shape compiled once).

--spiking runs the spiking microcircuit (docs/model.md §5; every pyramidal cell and
interneuron n_per_unit Poisson neurons of rate r_max phi, dendrites reading the spike
traces) and writes microcircuit_bars_spiking_<n>x<r_max>.json/.png; the published NEST
spiking microcircuit reached 0.625 at T = 10-20 ms and 1.0 only from 50 ms.
"""

import argparse
import sys
import time

import numpy as np

from brian2 import Hz, ms

from le_brian.cli.script_helpers import (add_common_arguments, add_field_argument,
                                         add_sweep_arguments, in_unit, read_json,
                                         resume_results, save_figure, uses_sweep, write_json)
from le_brian.params import MODES, MicrocircuitTrainingParameters

from le_brian.models.microcircuit_bars import NETWORK as _BARS_NETWORK

BARS_SEED = _BARS_NETWORK["seed"]  # the paper's seed; seed k of a sweep is BARS_SEED + k
ALL_T_MS = [0.3, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0]
FIELDS = MicrocircuitTrainingParameters.fields()


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=300,
                   help="epochs per run (default 300; the paper: 1000)")
    p.add_argument("--seeds", type=int, default=5, help="seeds per configuration (default 5)")
    all_times = [T * ms for T in ALL_T_MS]
    add_field_argument(p, FIELDS["presentation_time"], "--times", nargs="+",
                       default=all_times, metavar="T",
                       doc="presentation times")
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    add_common_arguments(p, out="figures", out_help="output folder",
                         fast_help="CI mode: T in {0.3, 1, 5} ms, 20 epochs, 2 seeds",
                         codegen_target=True)
    p.add_argument("--restart", action="store_true", help="ignore an existing JSON")
    p.add_argument("--spiking", action="store_true", help="the spiking microcircuit")
    add_field_argument(p, FIELDS["n_per_unit"], default=20,
                       doc="spiking: " + FIELDS["n_per_unit"].doc)
    for name in ("r_max", "tau_s"):
        add_field_argument(p, FIELDS[name], doc="spiking: " + FIELDS[name].doc)
    p.add_argument("--compare-numpy", action="store_true",
                   help="also run every configuration in the NumPy step loop (wall-time "
                        "ratio of the same sweep, same process; output curves compared)")
    add_sweep_arguments(p)
    args = p.parse_args(argv)
    given_times = args.times is not all_times
    # the script's numbers: presentation times in ms, r_max in Hz, tau_s in ms
    args.times, args.r_max, args.tau_s = (in_unit(args.times, ms), in_unit(args.r_max, Hz),
                                          in_unit(args.tau_s, ms))
    if uses_sweep(args) and args.compare_numpy:
        p.error("--compare-numpy runs in this process: not with --scheduler / --workers")
    if args.fast:
        args.epochs, args.seeds = 20, 2
        args.times = args.times if given_times else [0.3, 1.0, 5.0]
    if args.epochs < 1 or args.seeds < 1:
        p.error("--epochs and --seeds must be >= 1")
    return args


def spiking_options(args):
    """run_bars' ``spiking`` argument (None: the rate model)."""
    if not args.spiking:
        return None
    return {"n_per_unit": args.n_per_unit, "r_max": args.r_max * Hz, "tau_s": args.tau_s * ms}


def final_accuracy(curve):
    """Mean validation accuracy over the last 10% of epochs (at least one)."""
    curve = np.asarray(curve)
    n = max(1, len(curve) // 10)
    return float(curve[-n:].mean())


def run(args, path):
    from le_brian.protocols.bars import run_bars

    # everything that changes a run (times, modes and seeds only add runs)
    settings = {"epochs": args.epochs, "device": args.device}
    if args.codegen_target != "auto":  # (results made before the option stay valid)
        settings["codegen_target"] = args.codegen_target
    if args.spiking:
        settings.update(spiking=True, n_per_unit=args.n_per_unit, r_max_hz=args.r_max,
                        tau_s_ms=args.tau_s)
    data = resume_results(path, settings, restart=args.restart)
    t_start = time.perf_counter()
    if uses_sweep(args):
        run_on_dask(args, data, path)
    for T in args.times:
        for mode in args.modes:
            for k in range(args.seeds):
                seed = BARS_SEED + k
                key = f"{mode}|{T:g}|{seed}|{args.epochs}"
                if key in data["runs"] and ("numpy_wall_s" in data["runs"][key]
                                            or not args.compare_numpy):
                    continue
                t0 = time.perf_counter()
                res = run_bars(T * ms, mode, epochs=args.epochs, seed=seed, device=args.device,
                               codegen_target=args.codegen_target,
                               spiking=spiking_options(args))
                data["runs"][key] = {
                    "mode": mode, "T_ms": T, "seed": seed, "epochs": args.epochs,
                    "val_accuracy": res["val_accuracy"].tolist(),
                    "final": final_accuracy(res["val_accuracy"]),
                    "steps": res["steps"], "run_time_s": res["run_time"],
                    "build_time_s": res["build_time"],
                    "wall_s": time.perf_counter() - t0}
                if args.spiking:
                    data["runs"][key].update({k: res[k] for k in (
                        "n_spikes", "mean_rate_hz", "spikes_per_presentation")})
                if args.compare_numpy:
                    data["runs"][key].update(numpy_run(res, T, mode, seed, args.epochs))
                print(f"T = {T:6g} ms  {mode:8s} seed {seed}: final accuracy "
                      f"{data['runs'][key]['final']:.3f}  ({res['steps']} steps, run "
                      f"{res['run_time']:.1f} s, build {res['build_time']:.1f} s)", flush=True)
                data["wall_total_s"] = data.get("wall_total_s", 0) + time.perf_counter() - t0
                write_json(path, data, indent=1)
    data["summary"] = summarize(data, args)
    data["timing"] = timing(data, args)
    write_json(path, data, indent=1)
    print(f"sweep wall time {time.perf_counter() - t_start:.1f} s")
    t = data["timing"]
    if t:
        print(f"same sweep ({t['configurations']} configurations, {t['steps']} steps): "
              f"{args.device} {t['brian2_wall_s']:.1f} s (run {t['brian2_run_s']:.1f} s), "
              f"NumPy loop {t['numpy_wall_s']:.1f} s: x{t['ratio_wall']:.1f} (x{t['ratio_run']:.0f} "
              f"without builds); max |output difference| {t['max_output_diff']:.1e}, same "
              f"validation accuracy in {t['same_epochs']}/{t['epochs']} epochs")
    return data


def run_on_dask(args, data, path):
    """The configurations not in ``data`` yet as one `le_brian.sweep` of the ``bars``
    protocol (``--scheduler`` / ``--workers``), its points under <out>/data/bars_sweep;
    finished points are copied into ``data``. A failed point stops the script (exit 1)
    after the others finished."""
    from le_brian import sweep

    todo = [(T, mode, BARS_SEED + k) for T in args.times for mode in args.modes
            for k in range(args.seeds) if f"{mode}|{T:g}|{BARS_SEED + k}|{args.epochs}"
            not in data["runs"]]
    if not todo:
        return
    fixed = {"epochs": args.epochs, "device": args.device,
             "codegen_target": args.codegen_target}
    if args.spiking:
        fixed.update(n_per_unit=args.n_per_unit, r_max=f"{args.r_max:g} Hz",
                     tau_s=f"{args.tau_s:g} ms")
    spec = {"protocol": "bars", "fixed": fixed,
            "zip": {"presentation_time": [f"{T:g} ms" for T, _, _ in todo],
                    "mode": [m for _, m, _ in todo], "seed": [s for _, _, s in todo]}}
    folder = args.out / "data" / "bars_sweep"
    result = sweep.run(spec, scheduler=args.scheduler, workers=args.workers, out=folder,
                       figure=False)
    for row in result.rows:
        if row["status"] != "ok":
            continue
        T = float(row["presentation_time"].split()[0])
        curves = read_json(folder / "points" / row["point"] / "curves.json")
        key = f"{row['mode']}|{T:g}|{row['seed']}|{args.epochs}"
        data["runs"][key] = {
            "mode": row["mode"], "T_ms": T, "seed": row["seed"], "epochs": args.epochs,
            "val_accuracy": curves["val_accuracy"], "final": row["final_accuracy"],
            "steps": row["steps"], "run_time_s": row["run_time_s"],
            "build_time_s": row["build_time_s"], "wall_s": row["wall_s"],
            "worker": row["worker"]}
        data["runs"][key].update({k: row[k] for k in (
            "n_spikes", "mean_rate_hz", "spikes_per_presentation") if k in row})
    data["wall_total_s"] = data.get("wall_total_s", 0) + result.wall_s
    write_json(path, data, indent=1)
    print(f"dask sweep: {result.n_run} configurations run, {result.n_failed} failed, "
          f"compiles per worker {result.compiles}, {result.wall_s:.1f} s", flush=True)
    if not result.complete:
        print(f"error: {result.n_failed} configurations failed (error.json in "
              f"{folder / 'points'}); the others are saved in {path}", file=sys.stderr)
        raise SystemExit(1)


def numpy_run(res, T, mode, seed, epochs):
    """The same configuration in the NumPy step loop: wall time, validation curve, and
    the largest difference of the pattern outputs from the Brian2 run ``res``."""
    from le_brian.protocols.bars import run_bars_numpy

    ref = run_bars_numpy(T * ms, mode, epochs=epochs, seed=seed)  # out_lag: bars_out_lag
    acc, wall, outs = ref["val_accuracy"], ref["run_time"], ref["pattern_outputs"]
    diff = float(np.max(np.abs(outs - res["pattern_outputs"])))
    same = int(np.sum(acc == res["val_accuracy"]))
    print(f"    NumPy loop: {wall:.1f} s, max |output difference| {diff:.1e}, "
          f"same validation accuracy in {same}/{epochs} epochs", flush=True)
    return {"numpy_wall_s": wall, "numpy_val_accuracy": acc.tolist(),
            "numpy_max_output_diff": diff, "numpy_same_epochs": same}


def timing(data, args):
    """Sweep totals over the configurations of ``args`` that have a NumPy timing: Brian2
    wall (build + run), its run part, the NumPy loop, and the ratios."""
    runs = [r for r in data["runs"].values()
            if "numpy_wall_s" in r and r["epochs"] == args.epochs and r["mode"] in args.modes
            and any(abs(r["T_ms"] - T) < 1e-9 for T in args.times)]
    if not runs:
        return None
    brian = sum(r["wall_s"] for r in runs)
    run = sum(r["run_time_s"] for r in runs)
    numpy = sum(r["numpy_wall_s"] for r in runs)
    return {"configurations": len(runs), "steps": sum(r["steps"] for r in runs),
            "brian2_wall_s": brian, "brian2_run_s": run, "numpy_wall_s": numpy,
            "ratio_wall": numpy / brian, "ratio_run": numpy / run,
            "max_output_diff": max(r["numpy_max_output_diff"] for r in runs),
            "same_epochs": sum(r["numpy_same_epochs"] for r in runs),
            "epochs": sum(r["epochs"] for r in runs)}


def summarize(data, args):
    out = {}
    for mode in args.modes:
        rows = []
        for T in args.times:
            finals = [r["final"] for r in data["runs"].values()
                      if r["mode"] == mode and abs(r["T_ms"] - T) < 1e-9
                      and r["epochs"] == args.epochs]
            if finals:
                rows.append({"T_ms": T, "mean": float(np.mean(finals)),
                             "min": float(np.min(finals)), "max": float(np.max(finals)),
                             "n": len(finals)})
        out[mode] = rows
    return out


def plot(data, args, png):
    from matplotlib.figure import Figure

    colors = {"le": "tab:red", "original": "tab:blue"}
    labels = {"le": "Latent Equilibrium", "original": "original microcircuit"}
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    for mode, rows in data["summary"].items():
        if not rows:
            continue
        T = [r["T_ms"] for r in rows]
        mean = np.array([r["mean"] for r in rows])
        ax.plot(T, mean, "o-", color=colors[mode], label=labels[mode])
        ax.fill_between(T, [r["min"] for r in rows], [r["max"] for r in rows],
                        color=colors[mode], alpha=0.25)
    ax.set_xscale("log")
    from matplotlib.ticker import NullFormatter

    ax.set_xticks(args.times, [f"{t:g}" for t in args.times])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("presentation time T (ms)")
    ax.set_ylabel(f"validation accuracy (last 10% of {args.epochs} epochs)")
    ax.set_ylim(0, 1.05)
    ax.axhline(1 / 3, color="gray", ls=":", lw=1)
    ax.legend()
    kind = (f"spiking ({args.n_per_unit} x {args.r_max:g} Hz per unit, tau_s = "
            f"{args.tau_s:g} ms)" if args.spiking else "rate")
    ax.set_title(f"bars, 9-30-3 {kind}, {args.seeds} seeds (mean, min-max)", fontsize=9)
    T_curve = min(args.times, key=lambda t: abs(t - 1.0))
    for mode in args.modes:
        curves = [r["val_accuracy"] for r in data["runs"].values()
                  if r["mode"] == mode and abs(r["T_ms"] - T_curve) < 1e-9
                  and r["epochs"] == args.epochs]
        if curves:
            c = np.array(curves)
            ax2.plot(np.arange(1, c.shape[1] + 1), c.mean(axis=0), color=colors[mode],
                     label=labels[mode])
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("validation accuracy (mean over seeds)")
    ax2.set_title(f"learning curves at T = {T_curve:g} ms")
    ax2.set_ylim(0, 1.05)
    ax2.legend()
    save_figure(fig, png, dpi=120, smoke=args.fast)


def main(argv=None):
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "microcircuit_bars"
    if args.spiking:
        name += f"_spiking_{args.n_per_unit}x{args.r_max:g}"
    if args.fast:
        name += "_fast"
    path = args.out / f"{name}.json"
    data = run(args, path)
    plot(data, args, args.out / f"{name}.png")
    for mode, rows in data["summary"].items():
        print(mode, " ".join(f"{r['T_ms']:g}ms:{r['mean']:.2f}" for r in rows))
    print(f"wrote {path} and {path.with_suffix('.png')}")


if __name__ == "__main__":
    main()
