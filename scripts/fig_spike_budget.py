#!/usr/bin/env python
"""The spike budget of Latent Equilibrium: test accuracy of a spiking LENetwork on
Yin-Yang against the presentation time T, for several spike budgets n_per_unit * r_max
per unit, next to the rate model (docs/model.md §5; le_brian's analogue of the question
the paper leaves open: how many spikes per presentation LE needs at short T).

Network: 4-100-3, hard_sigmoid hidden layer that spikes (n_per_unit Poisson neurons of
rate r_max phi per unit, tau_s = 1 ms traces), linear rate read-out, tau_m = 10 ms,
dt = 0.1 ms, eta = 1000 Hz with decay 0.9 per epoch, 2000 training samples, 15 epochs
(`le_brian.protocols.training.train`, one run folder per configuration under
<out>/spike_budget_runs/). After training, the test set is presented once more with the
spikes recorded to count the hidden layer's spikes per presentation.

Results: <out>/spike_budget.json (rewritten after every run; finished runs are skipped
when the script is started again with the same settings) and <out>/spike_budget.png.
--fast: T = 1 ms, budgets rate and 1 x 10 kHz, 2 epochs, 300 samples, 1 seed.
"""

import argparse
import time

import numpy as np

from brian2 import ms

from le_brian.cli.script_helpers import (add_common_arguments, add_field_argument, in_unit,
                                         resume_results, save_figure, settings_key,
                                         write_json)
from le_brian.params import TrainingParameters

T_MS = [1.0, 3.0, 10.0]
DEFAULT_TAU_S_MS = in_unit(TrainingParameters.fields()["tau_s"].default, ms)
BUDGETS = ["rate", "1x10000", "10x10000"]  # n_per_unit x r_max (Hz)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    fields = TrainingParameters.fields()
    add_field_argument(p, fields["presentation_time"], "--times", nargs="+",
                       default=[T * ms for T in T_MS], metavar="T",
                       doc="presentation times")
    p.add_argument("--budgets", nargs="+", default=BUDGETS,
                   help=f"'rate' or NxR_MAX_HZ per unit (default {BUDGETS})")
    p.add_argument("--seeds", type=int, default=3, help="seeds per configuration (default 3)")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--n-train", type=int, default=2000)
    add_field_argument(p, fields["tau_s"], doc=fields["tau_s"].doc + " (other values than "
                       "the default are written to spike_budget_tau<value in ms>.json/.png)")
    add_common_arguments(p, out="figures",
                         fast_help="CI mode: T = 1 ms, rate and 1x10000, 2 epochs, "
                                   "300 samples, 1 seed")
    p.add_argument("--restart", action="store_true", help="ignore an existing JSON")
    args = p.parse_args(argv)
    args.times, args.tau_s = in_unit(args.times, ms), in_unit(args.tau_s, ms)  # in ms
    if args.fast:
        args.times, args.budgets, args.seeds = [1.0], ["rate", "1x10000"], 1
        args.epochs, args.n_train = 2, 300
    for b in args.budgets:
        if b != "rate":
            try:
                n, r = b.split("x")
                if int(n) < 1 or float(r) <= 0:
                    raise ValueError
            except ValueError:
                p.error(f"--budgets: expected 'rate' or N x R_MAX_HZ like 10x10000, got {b!r}")
    if args.seeds < 1 or args.epochs < 1 or args.n_train < 1:
        p.error("--seeds, --epochs and --n-train must be >= 1")
    return args


def config(args, T, budget, seed):
    cfg = dict(dataset="yinyang", hidden=[100], activation="hard_sigmoid",
               output_activation="linear", learning_rates_hz=1000.0, lr_decay=0.9,
               presentation_time_ms=T, epochs=args.epochs, n_train=args.n_train,
               n_val=300, n_test=500, seed=seed, device=args.device)
    if budget != "rate":
        n, r = budget.split("x")
        cfg.update(spiking=True, n_per_unit=int(n), r_max_hz=float(r), tau_s_ms=args.tau_s)
    return cfg


def spikes_per_presentation(run_dir, n_test, T):
    """Hidden-layer spikes per test presentation of the trained network."""
    from brian2 import ms

    from le_brian.protocols.training import _load_dataset, load_network

    net, cfg = load_network(run_dir)
    data = _load_dataset(cfg)
    res = net.run(data.x_test[:n_test], T * ms, learn=False, record_spikes=True)
    return len(res.spikes["layer1"]["i"]) / n_test


def run(args, path):
    from le_brian.protocols.training import train

    data = resume_results(path, {"epochs": args.epochs, "n_train": args.n_train,
                                 "device": args.device, "tau_s_ms": args.tau_s},
                          restart=args.restart)
    runs_dir = path.parent / "spike_budget_runs"
    for T in args.times:
        for budget in args.budgets:
            for seed in range(args.seeds):
                key = f"{budget}|{T:g}|{seed}"
                if key in data["runs"]:
                    continue
                cfg = config(args, T, budget, seed)
                run_dir = runs_dir / settings_key(cfg)
                t0 = time.perf_counter()
                resume = (run_dir / "checkpoint.npz").exists()
                history = train(cfg, run_dir, resume=resume, progress=lambda _: None)
                entry = {"budget": budget, "T_ms": T, "seed": seed,
                         "test_accuracy": history[-1]["test_accuracy"],
                         "val_accuracy": [r.get("val_accuracy") for r in history],
                         "wall_s": time.perf_counter() - t0, "run_dir": str(run_dir)}
                if budget != "rate":
                    entry["spikes_per_presentation"] = spikes_per_presentation(run_dir, 100, T)
                data["runs"][key] = entry
                print(f"T = {T:g} ms  {budget:>9s}  seed {seed}: test accuracy "
                      f"{entry['test_accuracy']:.3f}"
                      + (f", {entry['spikes_per_presentation']:.0f} hidden spikes per "
                         f"presentation" if budget != "rate" else "")
                      + f"  ({entry['wall_s']:.0f} s)", flush=True)
                write_json(path, data, indent=1)
    data["summary"] = {b: [summary(data, b, T) for T in args.times] for b in args.budgets}
    write_json(path, data, indent=1)
    return data


def summary(data, budget, T):
    rows = [r for r in data["runs"].values()
            if r["budget"] == budget and abs(r["T_ms"] - T) < 1e-9]
    acc = [r["test_accuracy"] for r in rows]
    spikes = [r["spikes_per_presentation"] for r in rows if "spikes_per_presentation" in r]
    return {"T_ms": T, "mean": float(np.mean(acc)), "min": float(np.min(acc)),
            "max": float(np.max(acc)), "n": len(acc),
            "spikes_per_presentation": float(np.mean(spikes)) if spikes else None}


def plot(data, args, png):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    for budget, rows in data["summary"].items():
        T = [r["T_ms"] for r in rows]
        label = "rate model" if budget == "rate" else (
            f"{budget.split('x')[0]} x {float(budget.split('x')[1]) / 1000:g} kHz per unit")
        style = "k--" if budget == "rate" else "o-"
        (line,) = ax.plot(T, [r["mean"] for r in rows], style, label=label)
        ax.fill_between(T, [r["min"] for r in rows], [r["max"] for r in rows], alpha=0.15,
                        color=line.get_color())
        if budget != "rate":
            ax2.plot(T, [r["spikes_per_presentation"] for r in rows], "o-", label=label,
                     color=line.get_color())
    from matplotlib.ticker import NullFormatter

    for a in (ax, ax2):
        a.set_xscale("log")
        a.set_xticks(args.times, [f"{t:g}" for t in args.times])
        a.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("presentation time T (ms)")
    ax.set_ylabel(f"test accuracy after {args.epochs} epochs")
    ax.axhline(1 / 3, color="gray", ls=":", lw=1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    ax.set_title(f"Yin-Yang 4-100-3, spiking hidden layer, tau_s = {args.tau_s:g} ms "
                 f"({args.seeds} seeds)", fontsize=9)
    ax2.set_yscale("log")
    ax2.set_xlabel("presentation time T (ms)")
    ax2.set_ylabel("hidden-layer spikes per presentation (100 units)")
    ax2.legend(fontsize=8)
    ax2.set_title("spike budget", fontsize=9)
    save_figure(fig, png, dpi=100, smoke=args.fast)


def main(argv=None):
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "spike_budget" + (f"_tau{args.tau_s:g}" if args.tau_s != DEFAULT_TAU_S_MS else "")
    name += "_fast" if args.fast else ""
    path = args.out / f"{name}.json"
    data = run(args, path)
    plot(data, args, args.out / f"{name}.png")
    for budget, rows in data["summary"].items():
        print(budget, " ".join(f"{r['T_ms']:g}ms:{r['mean']:.3f}" for r in rows))
    print(f"wrote {path} and {path.with_suffix('.png')}")


if __name__ == "__main__":
    main()
