#!/usr/bin/env python
"""Paper Fig. 2a-style Fourier synthesis: 50 sinusoids (10-500 Hz) -> 30 tanh -> 1 linear
learns a 20 Hz sawtooth in [-1, 1] online (docs/model.md §3.1), LE against the lagged
baseline. tau_m = 10 ms, dt = 0.005 ms, beta = 0.1; nudging (and so plasticity) off in
the final test phase.

The signal is fed in chunks of ``--chunk`` ms: on cpp_standalone one compiled program runs
every chunk (build once, run many), and the per-chunk errors give the learning curve.

Writes <out>/fourier_synthesis.png and <out>/fourier_synthesis.json (default --out:
./figures).
"""

import argparse
import time

import numpy as np

from brian2 import Hz, ms

from le_brian.cli.script_helpers import (add_common_arguments, add_field_argument, in_unit,
                                         plain_settings, save_figure, write_json)
from le_brian.params import Field, LENetworkParameters

#: The script's own times (the network's parameters are le_brian.params fields).
TIMES = {name: Field(name, default, doc, unit="ms", low=0) for name, default, doc in (
    ("train", 2000 * ms, "training time"), ("test", 200 * ms, "test time"),
    ("chunk", 50 * ms, "signal time per run call"))}


def signals(t, n_inputs=50, f_min=10.0, f_max=500.0, f_target=20.0, seed=0):
    """Inputs sin(2 pi f_i t + phase_i) (phases seeded) and the sawtooth target (t in s)."""
    rng = np.random.default_rng(seed)
    freqs = np.linspace(f_min, f_max, n_inputs)
    phases = rng.uniform(0, 2 * np.pi, n_inputs)
    x = np.sin(2 * np.pi * np.outer(t, freqs) + phases)
    y = (2 * ((t * f_target) % 1.0) - 1)[:, None]
    return x, y


def run(args):
    from le_brian import LENetwork

    dt = float(args.dt)  # seconds
    chunk = int(round(float(args.chunk / args.dt)))
    n_train = int(round(float(args.train / args.chunk)))
    n_test = int(round(float(args.test / args.chunk)))
    results = {}
    for name, prospective in (("LE", True), ("lagged", False)):
        net = LENetwork([50, 30, 1], activation="tanh", output_activation="linear",
                        tau_m=args.tau_m, prospective=prospective, beta=args.beta,
                        dt=args.dt, seed=args.seed,
                        learning_rates=[args.eta_hidden, args.eta_output],
                        device=args.device)
        curve, traces = [], {}
        t0 = time.perf_counter()
        for c in range(n_train + n_test):
            t = (c * chunk + np.arange(chunk)) * dt
            x, y = signals(t, seed=args.seed)
            train = c < n_train
            res = net.run(x, args.dt, targets=y if train else None, learn=train)
            curve.append({"t_ms": float(t[-1] * 1e3), "mse": float(np.mean((res.output - y) ** 2)),
                          "phase": "train" if train else "test"})
            if c in (0, n_train - 1, n_train + n_test - 1):
                key = {0: "start", n_train - 1: "end of training"}.get(c, "test")
                traces[key] = (t * 1e3, res.output[:, 0], y[:, 0])
        results[name] = {"curve": curve, "traces": traces,
                         "wall_seconds": time.perf_counter() - t0,
                         "test_mse": float(np.mean([p["mse"] for p in curve if p["phase"] == "test"]))}
        print(f"{name:7s} test MSE {results[name]['test_mse']:.4f} "
              f"(wall {results[name]['wall_seconds']:.1f} s)", flush=True)
    return results


def plot(results, path, args):
    from matplotlib.figure import Figure

    from le_brian.plotting import plot_output_trace

    fig = Figure(figsize=(15, 6), layout="constrained")
    axes = fig.subplots(2, 4)
    for row, name in enumerate(("LE", "lagged")):
        for col, key in enumerate(("start", "end of training", "test")):
            ax = axes[row, col]
            t, out, tgt = results[name]["traces"][key]
            show = slice(0, min(len(t), int(round(100 / in_unit(args.dt, ms)))))
            plot_output_trace(np.asarray(t[show]) * ms, out[show], tgt[show], ax=ax, label=name)
            ax.set_title(f"{name}: {key}")
        ax = axes[row, 3]
        curve = results[name]["curve"]
        ax.semilogy([p["t_ms"] for p in curve], [p["mse"] for p in curve], "o-")
        ax.axvline(in_unit(args.train, ms), color="k", lw=0.8, ls=":")
        ax.set_xlabel("time (ms)")
        ax.set_ylabel("MSE per chunk (dimensionless)")
        ax.set_title(f"{name}: error (test after {in_unit(args.train, ms):g} ms)")
    fig.suptitle(f"Fourier synthesis, tau_m = {in_unit(args.tau_m, ms):g} ms, "
                 f"dt = {in_unit(args.dt, ms):g} ms")
    save_figure(fig, path, dpi=110, smoke=args.fast)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    fields = LENetworkParameters.fields()
    for field in TIMES.values():
        add_field_argument(p, field)
    add_field_argument(p, fields["dt"], default=0.005 * ms)
    add_field_argument(p, fields["tau_m"])
    add_field_argument(p, fields["beta"])
    for layer in ("hidden", "output"):
        add_field_argument(p, fields["learning_rates"], f"--eta-{layer}", default=300 * Hz,
                           doc=f"learning rate of the {layer} layer")
    add_field_argument(p, fields["seed"])
    add_common_arguments(p, out="figures", out_help="output folder",
                         fast_help="short run (CI smoke test)")
    args = p.parse_args(argv)
    if args.fast:
        args.train, args.test, args.dt = 200 * ms, 50 * ms, 0.05 * ms
    results = run(args)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    name = "fourier_synthesis_fast" if args.fast else "fourier_synthesis"
    plot(results, out / f"{name}.png", args)
    summary = {k: {"test_mse": v["test_mse"], "curve": v["curve"], "wall_seconds": v["wall_seconds"]}
               for k, v in results.items()}
    summary["settings"] = plain_settings(args)  # numbers in ms / Hz, as always
    write_json(out / f"{name}.json", summary, indent=2)
    print(f"wrote {out / name}.png")
    return results


if __name__ == "__main__":
    main()
