#!/usr/bin/env python
"""Paper Fig. 4-style robustness to substrate imperfections (Haider et al. 2021, Fig. 4;
docs/model.md §1.8).

Three figures, each from its own part (``--parts``, default all):

``mismatch`` (Fig. 4a analogue)
    Test accuracy against presentation time T for per-neuron tau_m and tau_r drawn from
    tau * N(1, sigma^2) (clipped to [1, 1000] ms), sigma in --sigmas, without and with
    local time-constant learning of tau_r (one pass over the training inputs before
    training, no nudging, no weight learning, eta_tau = --eta-tau), on the Yin-Yang set
    and the embedded digits (the MNIST-like subset that needs no download). The
    learning rates are scaled by T_model / T as in Fig. 2b (``lr_reference_ms``).
``step``
    The output of a 5-layer network (1-20-20-20-20-1, tanh) responding to a step input:
    exact time constants (latent equilibrium: flat from the first step), sigma = 0.3
    before and after time-constant learning, and the lagged baseline.
``noise`` (Fig. 4c analogue)
    Yin-Yang test accuracy at T = tau_m with white rate noise (per-step standard
    deviation --noise at dt; density = std * sqrt(dt)) without and with synaptic
    low-pass filtering (tau_syn = --tau-syn) of the rates and the target, and with the
    filter plus tau_r = tau_m + tau_syn and an unfiltered target (the filter delays every
    layer's input by about tau_syn; a longer prospective time constant makes up for it to
    first order, so the output no longer lags and the target needs no delay).

Every run trains in its own run folder under ``<out>/data/robustness/`` and the summary
``<out>/robustness.json`` is rewritten after every run; an interrupted sweep resumes
where it stopped (a summary of other settings is refused; --restart starts afresh;
the step part is recomputed whenever it runs).
Output: ``<out>/robustness_mismatch.png``, ``robustness_step.png``,
``robustness_noise.png``; --fast writes ``*_fast.*`` files, marked as a smoke run.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from brian2 import ms, second

from le_brian.cli.script_helpers import (add_common_arguments, add_field_argument, in_unit,
                                         resume_results, save_figure, settings_key,
                                         write_json)
from le_brian.params import Field, TrainingParameters

PARTS = ("mismatch", "step", "noise")
#: Noise part: no filter; the synaptic filter (rates and target); the filter with
#: tau_r = tau_m + tau_syn, which makes up the filter's lag to first order.
NOISE_VARIANTS = ("plain", "filtered", "compensated")
#: The step part's own time (the networks' parameters are le_brian.params fields).
STEP_DURATION = Field("step_duration", 60 * ms, "duration of the step response",
                      unit="ms", low=0)


def train_config(dataset, T_ms, seed, args, **substrate):
    """The dataset's parameter set at presentation time T, with ``substrate`` fields
    (field names, or the 0.2.0 names with units such as ``tau_syn_ms``)."""
    from brian2 import ms

    from le_brian.parameter_sets import load_model
    from le_brian.params import TrainingParameters

    cfg = TrainingParameters(**load_model(dataset))
    n_train, n_val, n_test = _split_sizes(cfg.dataset)
    return cfg.replace(
        lr_reference=cfg.presentation_time, presentation_time=T_ms * ms,
        dt=min(T_ms / 10, args.dt_max) * ms, seed=seed, device=args.device,
        codegen_target=args.codegen_target, epochs=args.epochs, eval_every=args.epochs,
        n_train=min(args.n_train, n_train) if args.n_train else None,
        n_val=min(args.n_eval, n_val) if args.n_eval else None,
        n_test=min(args.n_eval, n_test) if args.n_eval else None,
        **TrainingParameters.migrate(substrate))


def _split_sizes(dataset, _cache={}):
    """(n_train, n_val, n_test) of a dataset."""
    if dataset not in _cache:
        from le_brian.datasets import load

        data = load(dataset, seed=0)
        _cache[dataset] = (len(data.x_train), len(data.x_val), len(data.x_test))
    return _cache[dataset]


def train_run(cfg, args, name):
    """Train (or resume) one run; returns its summary entry."""
    from le_brian.protocols.training import CHECKPOINT, train

    folder = Path(args.out) / "data" / "robustness" / f"{name}_{settings_key(cfg.flat_json())}"
    t0 = time.perf_counter()
    try:
        history = train(cfg, folder, resume=(folder / CHECKPOINT).exists(),
                        progress=lambda s: None)
    except FloatingPointError as err:  # a diverging run is a result
        return {"test_accuracy": None, "diverged": str(err)}
    return {"test_accuracy": history[-1]["test_accuracy"],
            "val_accuracy": history[-1]["val_accuracy"],
            "tau_mismatch_ms_before": _initial_mismatch(cfg),
            "tau_mismatch_ms": history[-1]["tau_mismatch_ms"],
            "wall_seconds": time.perf_counter() - t0}


def _initial_mismatch(cfg):
    """Mean |tau_m - tau_r| (ms) of the run's network as drawn (before any learning)."""
    from brian2 import ms

    from le_brian.datasets import load
    from le_brian.protocols.training import build_network, tau_mismatch

    data = load(cfg.dataset, seed=0)
    net = build_network(cfg, data.n_features, data.n_outputs)
    return float(tau_mismatch(net) / ms)


def _record(summary, path, part, key, run):
    summary[part][key] = run
    write_json(path, summary)
    print(f"{part:8s} {key}: test accuracy {run['test_accuracy']}", flush=True)


# ------------------------------------------------------------------ parts
def run_mismatch(args, summary, path):
    from brian2 import ms, second

    res = summary.setdefault("mismatch", {})
    for dataset in args.datasets:
        for seed in range(args.seeds):
            for T in args.times:
                for sigma in args.sigmas:
                    for learned in (False, True):
                        if learned and sigma == 0:
                            continue  # nothing to learn
                        key = f"{dataset}_T{T:g}_sigma{sigma:g}_{'tl' if learned else 'none'}" \
                              f"_seed{seed}"
                        if key in res:
                            continue
                        extra = dict(tau_jitter=sigma)
                        if learned:
                            extra.update(tau_learning="tau_r", eta_tau=args.eta_tau * second,
                                         tau_learning_epochs=1)
                        cfg = train_config(dataset, T, seed, args, **extra)
                        run = train_run(cfg, args, key)
                        run.update(dataset=dataset, T_ms=T, sigma=sigma, learned=learned,
                                   seed=seed, tau_m_ms=float(cfg.tau_m / ms))
                        _record(summary, path, "mismatch", key, run)


def run_noise(args, summary, path):
    from le_brian.substrate import noise_density
    from brian2 import ms

    res = summary.setdefault("noise", {})
    for seed in range(args.seeds):
        for std in args.noise:
            for variant in NOISE_VARIANTS:
                key = f"yinyang_noise{std:g}_{variant}_seed{seed}"
                if key in res:
                    continue
                T = args.noise_T
                dt = min(T / 10, args.dt_max)
                density = float(noise_density(std, dt * ms) / ms ** 0.5)
                extra = dict(rate_noise=density * ms ** 0.5,
                             tau_syn=None if variant == "plain" else args.tau_syn * ms)
                cfg = train_config("yinyang", T, seed, args, **extra)
                if variant == "compensated":  # the filter's lag, made up prospectively:
                    cfg = cfg.replace(tau_r=cfg.tau_m + args.tau_syn * ms,  # no output lag,
                                      filter_target=False)  # so no delayed target either
                run = train_run(cfg, args, key)
                run.update(std=std, dt_ms=dt, filtered=variant != "plain", variant=variant,
                           seed=seed, T_ms=T)
                _record(summary, path, "noise", key, run)


def run_step(args, summary, path):
    """The step responses (cheap: recomputed whenever the part runs)."""
    from brian2 import ms, second

    from le_brian import LENetwork

    sizes = [1, 20, 20, 20, 20, 1]
    common = dict(activation="tanh", tau_m=10 * ms, dt=0.1 * ms, seed=args.step_seed,
                  device=args.device, codegen_target=args.codegen_target)
    step, duration = np.array([[1.0]]), args.step_duration * ms
    exact = LENetwork(sizes, **common)
    lagged = LENetwork(sizes, prospective=False, **common)
    jittered = LENetwork(sizes, tau_jitter=0.3, tau_learning="tau_r",
                         eta_tau=args.eta_tau * second, **common)
    traces = {"exact": exact.run(step, duration, learn=False).output[:, 0],
              "lagged": lagged.run(step, duration, learn=False).output[:, 0],
              "before": jittered.run(step, duration, learn=False,
                                     learn_tau=False).output[:, 0]}
    mismatch_before = _mismatch(jittered)
    rng = np.random.default_rng(args.step_seed)
    jittered.reset_state()
    jittered.run(rng.uniform(-1, 1, (args.step_phase, 1)), 10 * ms, learn=False,
                 learn_tau=True)
    jittered.reset_state()
    traces["after"] = jittered.run(step, duration, learn=False, learn_tau=False).output[:, 0]
    summary["step"] = {
        "t_ms": (np.arange(len(traces["exact"])) * 0.1).tolist(),
        "traces": {k: v.tolist() for k, v in traces.items()},
        "mismatch_ms_before": mismatch_before, "mismatch_ms_after": _mismatch(jittered),
        "max_error_before": float(np.abs(traces["before"] - traces["exact"]).max()),
        "max_error_after": float(np.abs(traces["after"] - traces["exact"]).max()),
        "phase_presentations": args.step_phase}
    write_json(path, summary)
    s = summary["step"]
    print(f"step     mean |tau_m - tau_r| {s['mismatch_ms_before']:.3f} -> "
          f"{s['mismatch_ms_after']:.2e} ms; max output error {s['max_error_before']:.3f} -> "
          f"{s['max_error_after']:.2e}", flush=True)


def _mismatch(net):
    from brian2 import ms

    from le_brian.protocols.training import tau_mismatch

    return float(tau_mismatch(net) / ms)


# ------------------------------------------------------------------ tables and figures
def _accuracy(run, n_classes):
    return 1.0 / n_classes if run["test_accuracy"] is None else run["test_accuracy"]


def mismatch_table(summary, dataset, n_classes):
    """{(sigma, learned): {T: (mean, std, n)}} of the mismatch part."""
    table = {}
    for run in summary.get("mismatch", {}).values():
        if run["dataset"] != dataset:
            continue
        table.setdefault((run["sigma"], run["learned"]), {}).setdefault(
            run["T_ms"], []).append(_accuracy(run, n_classes))
    return {k: {T: (np.mean(v), np.std(v), len(v)) for T, v in sorted(d.items())}
            for k, d in table.items()}


def _n_classes(dataset):
    from le_brian.datasets import load
    from le_brian.parameter_sets import load_model

    return load(load_model(dataset)["dataset"]).n_outputs


def plot_mismatch(summary, args, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.4 * len(args.datasets), 4.2), layout="constrained")
    axes = fig.subplots(1, len(args.datasets), squeeze=False)[0]
    for ax, dataset in zip(axes, args.datasets):
        table = mismatch_table(summary, dataset, _n_classes(dataset))
        for k, sigma in enumerate(args.sigmas):
            for learned, style in ((False, "--"), (True, "-")):
                row = table.get((sigma, learned))
                if not row:
                    continue
                T = np.array(list(row))
                mean, std = (np.array([row[t][i] for t in row]) for i in (0, 1))
                label = f"sigma {sigma:g}" + (", tau learning" if learned else "")
                ax.errorbar(T, mean, yerr=std, ls=style, marker="o" if learned else "s",
                            ms=4, capsize=3, color=f"C{k}", label=label)
        n_div = sum(r["test_accuracy"] is None for r in summary.get("mismatch", {}).values()
                    if r["dataset"] == dataset)
        if n_div:
            ax.text(0.3, 0.5, f"{n_div} run(s) diverged, counted at chance",
                    transform=ax.transAxes, fontsize=8)
        ax.axvline(10.0, color="k", ls=":", lw=0.8)
        ax.text(10.0, 0.5, "tau_m ", ha="right", transform=ax.get_xaxis_transform())
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("presentation time T (ms)")
        ax.set_ylabel("test accuracy (fraction)")
        ax.set_title(f"{dataset}: tau ~ tau_m N(1, sigma^2), mean ± s.d. of {args.seeds} "
                     "seeds", fontsize=9)
        ax.legend(fontsize=7, loc="lower center", ncol=2)
    save_figure(fig, path, smoke=args.fast)


def plot_step(summary, args, path):
    from matplotlib.figure import Figure

    from le_brian.plotting import plot_state
    from brian2 import ms

    s = summary["step"]
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.subplots()
    t = np.array(s["t_ms"]) * ms
    labels = {"exact": "exact tau_r = tau_m (LE)", "lagged": "lagged (tau_r = 0)",
              "before": f"sigma 0.3, before tau learning ({s['mismatch_ms_before']:.2f} ms)",
              "after": f"sigma 0.3, after tau learning ({s['mismatch_ms_after']:.1e} ms)"}
    styles = {"exact": dict(color="k", lw=2.5, alpha=0.4), "lagged": dict(color="C3"),
              "before": dict(color="C1"), "after": dict(color="C0", ls="--")}
    for key in ("exact", "lagged", "before", "after"):
        plot_state(t, np.array(s["traces"][key]), var_name="output r_5", axes=ax,
                   label=labels[key], **styles[key])
    ax.set_title("5-layer network, step input at t = 0 (mean |tau_m - tau_r| in brackets)",
                 fontsize=9)
    ax.legend(fontsize=8)
    save_figure(fig, path, smoke=args.fast)


def noise_table(summary, variant):
    """{std: (mean, std, n, n_diverged)} of one variant of the noise part (a diverged run
    counts at chance, 1/3)."""
    rows = {}
    for run in summary.get("noise", {}).values():
        if run.get("variant", "filtered" if run["filtered"] else "plain") == variant:
            rows.setdefault(run["std"], []).append(run)
    return {k: (np.mean([_accuracy(r, 3) for r in v]), np.std([_accuracy(r, 3) for r in v]),
                len(v), sum(r["test_accuracy"] is None for r in v)) for k, v in rows.items()}


def plot_noise(summary, args, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.4, 4.0), layout="constrained")
    ax = fig.subplots()
    labels = {"plain": "no filter",
              "filtered": f"synaptic filter tau_syn = {args.tau_syn:g} ms (rates, target)",
              "compensated": "filter, tau_r = tau_m + tau_syn, target unfiltered"}
    for variant, color in zip(NOISE_VARIANTS, ("C3", "C0", "C2")):
        rows = noise_table(summary, variant)
        if not rows:
            continue
        std = np.array(sorted(rows))
        ax.errorbar(std, [rows[s][0] for s in std], yerr=[rows[s][1] for s in std],
                    marker="o", capsize=3, color=color, label=labels[variant])
        diverged = [s for s in std if rows[s][3]]
        if diverged:
            ax.plot(diverged, [1 / 3] * len(diverged), "x", color=color, ms=10,
                    label=f"{labels[variant]}: runs diverged (counted at chance)")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"rate noise: standard deviation per step of dt (dt = "
                  f"{min(args.noise_T / 10, args.dt_max):g} ms)")
    ax.set_ylabel("test accuracy (fraction)")
    ax.set_title(f"Yin-Yang, T = {args.noise_T:g} ms, mean ± s.d. of {args.seeds} seeds",
                 fontsize=9)
    ax.legend(fontsize=8)
    save_figure(fig, path, smoke=args.fast)


def report(summary, args):
    """The issue's report: accuracy at sigma 0.3 with / without tau learning against
    sigma 0 at T = tau_m."""
    lines = []
    for dataset in args.datasets:
        table = mismatch_table(summary, dataset, _n_classes(dataset))
        for T in args.times:
            cells = []
            for key in ((0.0, False), (max(args.sigmas), False), (max(args.sigmas), True)):
                m = table.get(key, {}).get(T)
                cells.append("    -    " if m is None else f"{m[0]:.3f} ± {m[1]:.3f}")
            lines.append(f"{dataset:8s} T = {T:5g} ms   sigma 0: {cells[0]}   "
                         f"sigma {max(args.sigmas):g}: {cells[1]}   with tau learning: "
                         f"{cells[2]}")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    p.add_argument("--datasets", nargs="+", default=["yinyang", "digits"],
                   help="parameter sets of the mismatch part (default: yinyang digits)")
    fields = TrainingParameters.fields()
    add_field_argument(p, fields["presentation_time"], "--times", nargs="+", metavar="T",
                       default=[1 * ms, 3 * ms, 10 * ms], doc="presentation times")
    p.add_argument("--sigmas", nargs="+", type=float, default=[0.0, 0.1, 0.2, 0.3])
    add_field_argument(p, fields["eta_tau"], default=0.02 * second, plain_numbers="s")
    p.add_argument("--noise", nargs="+", type=float, default=[0.0, 0.1, 0.2, 0.4],
                   help="rate-noise standard deviations per step (default 0 0.1 0.2 0.4)")
    add_field_argument(p, fields["presentation_time"], "--noise-T", default=10 * ms,
                       doc="presentation time of the noise part", metavar="T")
    add_field_argument(p, fields["tau_syn"], default=2 * ms)
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    p.add_argument("--epochs", type=int, default=20, help="epochs per run (default 20)")
    p.add_argument("--n-train", type=int, default=2000,
                   help="training samples per run (default 2000, or all of a smaller set; "
                   "0: all)")
    p.add_argument("--n-eval", type=int, default=500,
                   help="validation and test samples (default 500, or all; 0: all)")
    add_field_argument(p, fields["dt"], "--dt-max", default=0.5 * ms,
                       doc="largest Euler step (dt = min(T/10, dt_max))")
    p.add_argument("--step-phase", type=int, default=300,
                   help="10 ms presentations of the step part's tau-learning phase")
    p.add_argument("--step-seed", type=int, default=2)
    add_field_argument(p, STEP_DURATION)
    p.add_argument("--plot-only", action="store_true",
                   help="draw the mismatch and noise figures from the summary, run nothing")
    p.add_argument("--restart", action="store_true",
                   help="ignore the summary's finished runs (and a summary of other settings)")
    add_common_arguments(p, out="figures", out_help="output folder",
                         fast_help="CI smoke run: yinyang, T = 2 ms, sigma 0 and 0.3, noise "
                         "0 and 0.2, 1 seed, 1 epoch, 40 samples, eta_tau 0.2 s", codegen_target=True)
    args = p.parse_args(argv)
    # the script's numbers: times in ms, eta_tau in s (as in its JSON settings)
    args.times, args.noise_T, args.tau_syn, args.dt_max, args.step_duration = (
        in_unit(getattr(args, k), ms) for k in ("times", "noise_T", "tau_syn", "dt_max",
                                                 "step_duration"))
    args.eta_tau = in_unit(args.eta_tau, second)
    if args.fast:
        args.datasets, args.times, args.sigmas, args.noise = ["yinyang"], [2.0], [0.0, 0.3], \
            [0.0, 0.2]
        args.seeds, args.epochs, args.n_train, args.n_eval = 1, 1, 40, 20
        args.noise_T, args.step_phase, args.step_duration, args.eta_tau = 2.0, 20, 20.0, 0.2
    suffix = "_fast" if args.fast else ""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {k: getattr(args, k) for k in ("eta_tau", "epochs", "n_train", "n_eval",
                                              "dt_max", "device", "tau_syn", "noise_T")}
    path = out / f"robustness{suffix}.json"
    summary = resume_results(path, settings, restart=args.restart, empty={})
    if "step" in args.parts:
        if not args.plot_only or "step" not in summary:
            run_step(args, summary, path)
        plot_step(summary, args, out / f"robustness_step{suffix}.png")
    if "mismatch" in args.parts:
        if not args.plot_only:
            run_mismatch(args, summary, path)
        plot_mismatch(summary, args, out / f"robustness_mismatch{suffix}.png")
        print("\n".join(report(summary, args)))
    if "noise" in args.parts:
        if not args.plot_only:
            run_noise(args, summary, path)
        plot_noise(summary, args, out / f"robustness_noise{suffix}.png")
        for variant in NOISE_VARIANTS:
            rows = noise_table(summary, variant)
            print(f"noise {variant:12s} " + "   ".join(
                f"{s:g}: {rows[s][0]:.3f} ± {rows[s][1]:.3f} ({rows[s][3]} div.)"
                for s in sorted(rows)))
    print(f"wrote {out}/robustness_*{suffix}.png")
    return summary


if __name__ == "__main__":
    main()
