#!/usr/bin/env python
"""Paper Fig. 2b-style: test accuracy against presentation time T, from T << tau_m to
T >> tau_m, for the LE network, the lagged baseline (same network, rates read from u)
and error backpropagation (same architecture, online SGD; it has no dynamics, so one
value per seed, drawn as a band).

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
import sys
import time
from pathlib import Path

import numpy as np

from brian2 import ms

from le_brian.cli.script_helpers import (add_common_arguments, add_field_argument,
                                         add_sweep_arguments, in_unit, resume_results,
                                         save_figure, settings_key, uses_sweep, write_json)
from le_brian.params import TrainingParameters

VARIANTS = ("LE", "lagged")


def le_config(model, T_ms, seed, epochs, device, prospective, dt_max_ms=0.5,
              codegen_target="auto"):
    cfg = TrainingParameters(**model)
    changes = dict(lr_reference=cfg.presentation_time, presentation_time=T_ms * ms,
                   dt=min(T_ms / 10, dt_max_ms) * ms, seed=seed, device=device,
                   prospective=prospective, codegen_target=codegen_target,
                   eval_every=max(1, epochs))  # evaluate at the end only
    if epochs:
        changes["epochs"] = epochs
    return cfg.replace(**changes)


def run_settings(args):
    """Everything besides the grid (datasets, times, seeds, variants) that changes a run."""
    settings = {"epochs": args.epochs, "n_train": args.n_train, "n_eval": args.n_eval,
                "dt_max_ms": args.dt_max, "device": args.device}
    if args.codegen_target != "auto":  # (summaries made before the option stay valid)
        settings["codegen_target"] = args.codegen_target
    return settings


def run_le(dataset, model, T_ms, seed, variant, args, data):
    from le_brian.protocols.training import CHECKPOINT, train

    cfg = le_config(model, T_ms, seed, args.epochs, args.device, variant == "LE", args.dt_max,
                    args.codegen_target)
    # the folder name carries the settings: a run of other settings never resumes it
    folder = (Path(args.out) / "data" / "accuracy_vs_T" / dataset
              / f"{variant}_T{T_ms:g}ms_seed{seed}_{settings_key(run_settings(args))}")
    t0 = time.perf_counter()
    try:
        history = train(cfg, folder, resume=(folder / CHECKPOINT).exists(),
                        progress=lambda s: None, data=data)
    except FloatingPointError as e:  # a diverging run is a result, not a crash
        return {"test_accuracy": None, "diverged": str(e)}
    last = history[-1]
    return {"test_accuracy": last["test_accuracy"], "val_accuracy": last["val_accuracy"],
            "wall_seconds": time.perf_counter() - t0,
            "train_seconds_per_epoch": float(np.mean([r["train_seconds"] for r in history[1:]]))}


def run_backprop(model_bp, model, seed, data, epochs):
    from le_brian.numpy_reference.backprop import train_backprop

    _, history = train_backprop(
        data, model["hidden"], model.get("activation", "tanh"),
        model.get("output_activation", "linear"), model_bp["learning_rate"],
        epochs=epochs or model_bp.get("epochs", 10), seed=seed,
        lr_decay=model_bp.get("lr_decay", 1.0))
    return {"test_accuracy": history[-1]["test_accuracy"]}


def le_runs_on_dask(dataset, model, data_sizes, args, summary, summary_path):
    """The LE / lagged runs of ``dataset`` not in ``res`` yet as one `le_brian.sweep` of
    the ``train`` protocol (``--scheduler`` / ``--workers``; points under
    <out>/data/accuracy_vs_T_sweep/<dataset>, resumable); a diverged point counts as
    diverged, as in this process. Another failure stops the script (exit 1)."""
    from le_brian import sweep as le_sweep
    from le_brian.sweep.protocols import train_parameters

    res = summary[dataset]
    todo = [(T, seed, variant) for seed in range(args.seeds) for T in args.times
            for variant in VARIANTS if f"{variant}_T{T:g}_seed{seed}" not in res["runs"]]
    if not todo:
        return
    n_train, n_eval = data_sizes
    points = []
    for T, seed, variant in todo:
        cfg = le_config(model, T, seed, args.epochs, args.device, variant == "LE",
                        args.dt_max, args.codegen_target).flat_json()
        if args.n_train:
            cfg["n_train"] = min(args.n_train, n_train)
        if args.n_eval:
            cfg["n_val"] = cfg["n_test"] = min(args.n_eval, n_eval)
        points.append(train_parameters(cfg))
    names = sorted({k for p in points for k in p})
    fixed = {k: points[0][k] for k in names
             if all(k in p and p[k] == points[0][k] for p in points)}
    zipped = {k: [p[k] for p in points] for k in names if k not in fixed}
    spec = {"protocol": "train", "fixed": fixed, "zip": zipped}
    folder = Path(args.out) / "data" / "accuracy_vs_T_sweep" / dataset
    result = le_sweep.run(spec, scheduler=args.scheduler, workers=args.workers, out=folder,
                          figure=False)
    failed = []
    for (T, seed, variant), row in zip(todo, result.rows):
        if row["status"] == "ok":
            r = {"test_accuracy": row["test_accuracy"], "val_accuracy": row["val_accuracy"],
                 "wall_seconds": row["wall_s"]}
        elif row.get("error", "").startswith("FloatingPointError"):
            r = {"test_accuracy": None, "diverged": row["error"]}
        else:
            failed.append(row["point"])
            continue
        r.update(T_ms=T, seed=seed, variant=variant)
        res["runs"][f"{variant}_T{T:g}_seed{seed}"] = r
    write_json(summary_path, summary)
    print(f"{dataset}: dask sweep of {result.n_points} runs, compiles per worker "
          f"{result.compiles}, {result.wall_s:.1f} s", flush=True)
    if failed:
        print(f"error: runs failed (error.json in {folder / 'points'}): {failed}",
              file=sys.stderr)
        raise SystemExit(1)


def _tau_m_ms(model):
    from brian2 import ms

    from le_brian.params import TrainingParameters

    return float(TrainingParameters(**model).tau_m / ms)


def sweep(args):
    from le_brian.datasets import load
    from le_brian.parameter_sets import load_model

    summary_path = Path(args.out) / f"{args.name}.json"
    summary = resume_results(summary_path, run_settings(args), restart=args.restart, empty={})
    for dataset in args.datasets:
        model = load_model(dataset)
        model_bp = _backprop_params(dataset)
        res = summary.setdefault(dataset, {"tau_m_ms": _tau_m_ms(model),
                                           "runs": {}})
        if uses_sweep(args):
            sizes = load(model["dataset"], seed=0)
            le_runs_on_dask(dataset, model, (len(sizes.x_train), len(sizes.x_val)), args,
                            summary, summary_path)
        for seed in range(args.seeds):
            data = load(model["dataset"], seed=seed)
            if args.n_train or args.n_eval:
                data = data.subset(
                    n_train=min(args.n_train, len(data.x_train)) if args.n_train else None,
                    n_val=min(args.n_eval, len(data.x_val)) if args.n_eval else None,
                    n_test=min(args.n_eval, len(data.x_test)) if args.n_eval else None)
            key = f"backprop_seed{seed}"
            if key not in res["runs"]:
                res["runs"][key] = run_backprop(model_bp, model, seed, data, args.epochs)
                write_json(summary_path, summary)
            for T_ms in args.times:
                for variant in VARIANTS:
                    key = f"{variant}_T{T_ms:g}_seed{seed}"
                    if key in res["runs"] and not args.restart:
                        continue
                    r = run_le(dataset, model, T_ms, seed, variant, args, data)
                    r.update(T_ms=T_ms, seed=seed, variant=variant)
                    res["runs"][key] = r
                    write_json(summary_path, summary)
                    print(f"{dataset:8s} {variant:7s} T={T_ms:7g} ms seed {seed}: test "
                          f"accuracy {r['test_accuracy']}", flush=True)
    return summary


def _backprop_params(name):
    """The ``BACKPROP`` dict of parameter set ``name`` (`le_brian.parameter_sets`)."""
    from le_brian.parameter_sets import model_module

    mod = model_module(name)
    if not hasattr(mod, "BACKPROP"):
        raise ValueError(f"model {name!r} defines no BACKPROP parameters for the baseline")
    return mod.BACKPROP


def table(summary, dataset, times, n_classes):
    """{variant: [(mean, std, n_runs, n_diverged) per T]} and backprop (mean, std, n).
    A diverged run (FloatingPointError) counts at chance level, 1 / n_classes."""
    runs = summary[dataset]["runs"].values()
    out = {}
    for variant in VARIANTS:
        rows = []
        for T in times:
            sel = [r for r in runs if r.get("variant") == variant and r["T_ms"] == T]
            acc = [1.0 / n_classes if r["test_accuracy"] is None else r["test_accuracy"]
                   for r in sel]
            n_div = sum(r["test_accuracy"] is None for r in sel)
            rows.append((np.mean(acc) if acc else np.nan, np.std(acc) if acc else np.nan,
                         len(acc), n_div))
        out[variant] = rows
    bp = [r["test_accuracy"] for k, r in summary[dataset]["runs"].items()
          if k.startswith("backprop")]
    out["backprop"] = (np.mean(bp), np.std(bp), len(bp))
    return out


def _n_classes(dataset):
    from le_brian.datasets import load
    from le_brian.parameter_sets import load_model

    return load(load_model(dataset)["dataset"]).n_outputs


def plot(summary, args, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5 * len(args.datasets), 4.2), layout="constrained")
    axes = fig.subplots(1, len(args.datasets), squeeze=False)
    times = np.array(args.times)
    for ax, dataset in zip(axes[0], args.datasets):
        n_classes = _n_classes(dataset)
        tab = table(summary, dataset, args.times, n_classes)
        m, s, n = tab["backprop"]
        ax.axhspan(m - s, m + s, color="0.8", label=f"backprop (n={n})")
        ax.axhline(m, color="0.4", lw=1)
        for variant, color in (("LE", "C0"), ("lagged", "C3")):
            mean = np.array([r[0] for r in tab[variant]])
            std = np.array([r[1] for r in tab[variant]])
            ax.errorbar(times, mean, yerr=std, color=color, marker="o", capsize=3,
                        label=f"{variant} (mean ± s.d., {args.seeds} seeds)")
            diverged = np.array([r[3] for r in tab[variant]]) > 0
            if diverged.any():
                ax.plot(times[diverged], np.full(diverged.sum(), 1.0 / n_classes), "x",
                        color=color, ms=9, label=f"{variant}: runs diverged (counted at chance)")
        tau = summary[dataset]["tau_m_ms"]
        ax.axvline(tau, color="k", ls=":", lw=0.8)
        ax.text(tau, 0.02, " tau_m", transform=ax.get_xaxis_transform())
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("presentation time T (ms)")
        ax.set_ylabel("test accuracy (fraction)")
        ax.set_title(dataset)
        ax.legend(loc="lower right", fontsize=8)
    save_figure(fig, path, dpi=110, smoke=args.fast)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["yinyang", "mnist5k"],
                   help="parameter sets in le_brian.models (default: yinyang mnist5k)")
    fields = TrainingParameters.fields()
    add_field_argument(p, fields["presentation_time"], "--times", nargs="+", metavar="T",
                       default=[T * ms for T in (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)],
                       doc="presentation times")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    p.add_argument("--epochs", type=int, default=0,
                   help="epochs per run (default: the model's)")
    p.add_argument("--n-train", type=int, default=0, help="use only N training samples")
    p.add_argument("--n-eval", type=int, default=0,
                   help="use only N validation and N test samples")
    add_field_argument(p, fields["dt"], "--dt-max", default=0.5 * ms,
                       doc="largest Euler step (dt = min(T/10, dt_max))")
    p.add_argument("--restart", "--rerun", dest="restart", action="store_true",
                   help="ignore the summary's finished runs (and a summary of other settings); "
                        "--restart as in the other figure scripts")
    add_common_arguments(p, out="figures", out_help="output folder",
                         fast_help="CI smoke run: yinyang, T in {0.3, 10} ms, 1 seed, 1 epoch, "
                         "300 training and 200 evaluation samples", codegen_target=True)
    add_sweep_arguments(p)
    args = p.parse_args(argv)
    args.times, args.dt_max = in_unit(args.times, ms), in_unit(args.dt_max, ms)  # in ms
    if args.fast:
        args.datasets, args.times, args.seeds, args.epochs, args.n_train, args.n_eval = \
            ["yinyang"], [0.3, 10.0], 1, 1, 300, 200
    args.name = ("accuracy_vs_presentation_time_fast" if args.fast
                 else "accuracy_vs_presentation_time")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = sweep(args)
    plot(summary, args, out / f"{args.name}.png")
    for dataset in args.datasets:
        tab = table(summary, dataset, args.times, _n_classes(dataset))
        print(f"\n{dataset}: backprop {tab['backprop'][0]:.3f} ± {tab['backprop'][1]:.3f}")
        print("   T (ms)   " + "   ".join(f"{v:>24s}" for v in VARIANTS))
        for k, T in enumerate(args.times):
            print(f"{T:9g}   " + "   ".join(
                f"{tab[v][k][0]:8.3f} ± {tab[v][k][1]:.3f} ({tab[v][k][3]} div.)"
                for v in VARIANTS))
    print(f"wrote {out / args.name}.png")
    return summary


if __name__ == "__main__":
    main()
