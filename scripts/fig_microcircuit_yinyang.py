#!/usr/bin/env python
"""The cortical microcircuit on Yin-Yang (`le_brian.protocols.classification.
run_classification`, parameters in `le_brian.models.microcircuit_yinyang`, the
repository's models/microcircuit_yinyang.py), against backprop on the same sizes.

Per seed (weights and presentation orders; the data set is the package's seed-0 split,
5000 / 1000 / 1000):
  * ``le``: the LE microcircuit, T = 1 ms;
  * ``original``: the original microcircuit (rates from the soma u), same rates and T,
    read-out lag 0.5 ms (the bars table for 1 ms);
  * ``le_frozen_hidden``: LE with eta_up(hidden) = 0, i.e. a read-out of the random
    hidden features: the share of the accuracy that the hidden layer's learning adds;
  * ``backprop_softplus`` / ``backprop_tanh``: `le_brian.numpy_reference.backprop.
    train_backprop`, 4-120-3
    with biases, online SGD, 40 epochs, learning rates [0.1, 0.02] / [0.02, 0.02] per
    layer, decay 0.9 (chosen on the validation split): what gradient descent reaches with
    the microcircuit's rate function and with tanh.

Writes <out>/microcircuit_yinyang.json after every run (an existing file is resumed unless
--restart) and <out>/microcircuit_yinyang.png (validation curves). Cost on cpp_standalone
(2-core machine): ~15 s per microcircuit run plus ~1 min of compilation, ~40 s per
backprop run; --fast (CI, ~40 s): 1 seed, 2 epochs on 200 samples per split.
"""

import argparse
import time

import numpy as np

from le_brian.cli.script_helpers import add_common_arguments, read_json, save_figure, write_json

VARIANTS = ("le", "original", "le_frozen_hidden", "backprop_softplus", "backprop_tanh")
BACKPROP = {"backprop_softplus": ("softplus", [0.1, 0.02]),
            "backprop_tanh": ("tanh", [0.02, 0.02])}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=3, help="seeds per variant (default 3)")
    p.add_argument("--epochs", type=int, default=None,
                   help="microcircuit epochs (default: le_brian.models.microcircuit_yinyang)")
    p.add_argument("--backprop-epochs", type=int, default=40)
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    add_common_arguments(p, out="figures", out_help="output folder",
                         fast_help="CI mode: 1 seed, 2 epochs, 200 training / validation / test "
                         "samples")
    p.add_argument("--restart", action="store_true", help="ignore an existing JSON")
    args = p.parse_args(argv)
    if args.fast:
        args.seeds, args.epochs, args.backprop_epochs = 1, 2, 2
    if args.seeds < 1 or (args.epochs is not None and args.epochs < 1) \
            or args.backprop_epochs < 1:
        p.error("--seeds, --epochs and --backprop-epochs must be >= 1")
    return args


def run_variant(variant, seed, data, args):
    """One run; returns a JSON-ready dict with ``val_accuracy`` per epoch and
    ``test_accuracy``."""
    from brian2 import ms

    from le_brian.numpy_reference.backprop import train_backprop
    from le_brian.parameter_sets import model_module
    from le_brian.protocols.classification import run_classification

    params = model_module("microcircuit_yinyang")
    NETWORK, PROTOCOL = params.NETWORK, params.PROTOCOL
    on, off = PROTOCOL["targets"]
    if variant in BACKPROP:
        activation, rates = BACKPROP[variant]
        _, hist = train_backprop(data, list(NETWORK["hidden"]), activation=activation,
                                 learning_rates=rates, epochs=args.backprop_epochs, seed=seed,
                                 lr_decay=0.9, target_on=on, target_off=off)
        return {"val_accuracy": [h["val_accuracy"] for h in hist],
                "test_accuracy": hist[-1]["test_accuracy"]}
    eta_up = list(PROTOCOL["eta_up"])
    if variant == "le_frozen_hidden":
        eta_up[:-1] = [0 / ms] * (len(eta_up) - 1)
    mode = "original" if variant == "original" else "le"
    res = run_classification(
        data, PROTOCOL["presentation_time"], hidden=NETWORK["hidden"], mode=mode,
        epochs=args.epochs or PROTOCOL["epochs"], eta_up=eta_up, eta_ip=PROTOCOL["eta_ip"],
        lr_decay=PROTOCOL["lr_decay"], seed=seed, target_on=on, target_off=off,
        out_lag=0.5 * ms if mode == "original" else 0 * ms, dt=NETWORK["dt"],
        activation=NETWORK["activation"], device=args.device)
    return {"val_accuracy": res["val_accuracy"].tolist(), "test_accuracy": res["test_accuracy"],
            "run_time_s": res["run_time"], "steps": res["steps"]}


def summarize(runs, args):
    out = {}
    for variant in args.variants:
        tests = [r["test_accuracy"] for k, r in runs.items() if r["variant"] == variant]
        if tests:
            out[variant] = {"mean": float(np.mean(tests)), "std": float(np.std(tests)),
                            "n": len(tests)}
    return out


def plot(data, args, png):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.subplots()
    for i, variant in enumerate(args.variants):
        curves = [r["val_accuracy"] for r in data["runs"].values() if r["variant"] == variant]
        if not curves:
            continue
        n = min(len(c) for c in curves)
        c = np.array([c[:n] for c in curves])
        s = data["summary"][variant]
        ax.plot(np.arange(1, n + 1), c.mean(axis=0), color=f"C{i}",
                label=f"{variant} (test {s['mean']:.3f})")
        ax.fill_between(np.arange(1, n + 1), c.min(axis=0), c.max(axis=0), color=f"C{i}",
                        alpha=0.2)
    ax.axhline(1 / 3, color="gray", ls=":", lw=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation accuracy")
    ax.set_ylim(0, 1)
    ax.set_title(f"Yin-Yang 4-120-3, {args.seeds} seeds (mean, min-max)")
    ax.legend(fontsize=8)
    save_figure(fig, png, dpi=120, smoke=args.fast)


def main(argv=None):
    args = parse_args(argv)
    from le_brian.datasets import load

    args.out.mkdir(parents=True, exist_ok=True)
    name = "microcircuit_yinyang_fast" if args.fast else "microcircuit_yinyang"
    path = args.out / f"{name}.json"
    data = {"runs": {}}
    if not args.restart:
        data = read_json(path, default=data)
    dataset = load("yinyang", seed=0)
    if args.fast:
        dataset = dataset.subset(n_train=200, n_val=200, n_test=200)  # one program
    for variant in args.variants:
        for seed in range(args.seeds):
            key = f"{variant}|seed{seed}"
            if key in data["runs"]:
                continue
            t0 = time.perf_counter()
            res = run_variant(variant, seed, dataset, args)
            data["runs"][key] = {"variant": variant, "seed": seed, **res,
                                 "wall_s": time.perf_counter() - t0}
            print(f"{variant:18s} seed {seed}: test accuracy {res['test_accuracy']:.3f} "
                  f"(last validation {res['val_accuracy'][-1]:.3f}, "
                  f"{data['runs'][key]['wall_s']:.0f} s)", flush=True)
            write_json(path, data, indent=1)
    data["summary"] = summarize(data["runs"], args)
    write_json(path, data, indent=1)
    plot(data, args, path.with_suffix(".png"))
    for variant, s in data["summary"].items():
        print(f"{variant:18s} test {s['mean']:.3f} +- {s['std']:.3f} ({s['n']} seeds)")
    print(f"wrote {path} and {path.with_suffix('.png')}")


if __name__ == "__main__":
    main()
