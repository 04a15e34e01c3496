"""Test accuracy against presentation time T: the machinery of the paper's Fig. 2b-e
analogues (``scripts/fig_accuracy_vs_presentation_time.py``, dense networks, and
``scripts/fig_conv.py``, LeNet-5 / HIGGS).

For every (dataset, T, seed) the LE network and the lagged baseline (the same network
with ``prospective=False``: rates read from u) train in their own run folder
(`le_brian.protocols.training.train`, resumed if it exists), and error backpropagation
of the same architecture (online SGD, no dynamics: one value per seed) trains once per
seed: `le_brian.numpy_reference.train_backprop` for dense models,
`le_brian.numpy_reference.train_backprop_conv` for models with ``conv`` layers, with the
model module's ``BACKPROP`` dict (``learning_rate``, ``lr_decay``, ``epochs``).

At each T the Euler step is ``dt = min(T / 10, dt_max)`` and the learning rates are
scaled by ``T_model / T`` (``lr_reference``), so that the weight change per sample is
the same at every T. The options object (the scripts' parsed command-line options) carries
``datasets``, ``times`` (ms), ``seeds``, ``epochs`` (0: the model's), ``n_train`` /
``n_eval`` (0: all), ``dt_max`` (ms), ``device``, ``codegen_target``, ``restart``,
``out``, ``scheduler`` / ``workers`` (Dask) and ``fast``. Nothing here reads the command
line (the scripts use `le_brian.cli.script_helpers`). A summary's runs of a dataset, and
its run folders, belong to the model's parameters they were made with (`model_key`): after
an edit of the model file (e.g. its learning rates) they are run again.
"""

import sys
import time
from pathlib import Path

import numpy as np
from brian2 import ms

from ..io import save_figure, settings_key, write_json
from ..params import TrainingParameters

__all__ = ["VARIANTS", "le_config", "run_settings", "run_le", "backprop_parameters",
           "backprop_layers", "run_backprop", "load_data", "available_datasets",
           "sweep", "table", "print_table", "n_classes", "plot", "model_key"]

#: The LE network and its lagged baseline (``prospective=False``).
VARIANTS = ("LE", "lagged")


def le_config(model, T_ms, seed, epochs, device, prospective, dt_max_ms=0.5,
              codegen_target="auto"):
    """The `TrainingParameters` of one LE / lagged run: model ``model`` (a ``TRAINING``
    dict) at presentation time ``T_ms`` (ms), dt = min(T / 10, ``dt_max_ms``), learning
    rates scaled to the model's T, evaluated after the last epoch only (``epochs`` 0:
    the model's)."""
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
    if getattr(args, "n_val", None) is not None:  # scripts with a validation-size option
        settings["n_val"] = args.n_val
    return settings


def run_le(dataset, model, T_ms, seed, variant, args, data, data_dir="accuracy_vs_T"):
    """Train (or resume) one LE / lagged run in
    ``<out>/data/<data_dir>/<dataset>/<variant>_T<T>ms_seed<seed>_<settings hash>``;
    returns its test / validation accuracy and wall times (a diverging run:
    ``test_accuracy`` None and the message)."""
    from .training import CHECKPOINT, train

    cfg = le_config(model, T_ms, seed, args.epochs, args.device, variant == "LE", args.dt_max,
                    args.codegen_target)
    # the folder name carries the settings and the model's parameters: a run of other
    # settings (or of a model file edited since) never resumes it
    key = settings_key({**run_settings(args), "model": _model_json(model)})
    folder = (Path(args.out) / "data" / data_dir / dataset
              / f"{variant}_T{T_ms:g}ms_seed{seed}_{key}")
    t0 = time.perf_counter()
    try:
        history = train(cfg, folder, resume=(folder / CHECKPOINT).exists(),
                        progress=lambda s: None, data=data)
    except FloatingPointError as e:  # a diverging run is a result, not a crash
        return {"test_accuracy": None, "diverged": str(e)}
    last = history[-1]
    return {"test_accuracy": last["test_accuracy"], "val_accuracy": last.get("val_accuracy"),
            "wall_seconds": time.perf_counter() - t0,
            "train_seconds_per_epoch": float(np.mean([r["train_seconds"] for r in history[1:]]))}


def _model_json(model):
    """A model's ``TRAINING`` dict as plain JSON (unit strings), for hashing."""
    return TrainingParameters(**model).flat_json()


def model_key(model, model_bp):
    """A short hash of a dataset's LE parameters (``TRAINING`` dict) and backprop settings
    (``BACKPROP`` dict): a summary's runs of a dataset are reused only while it matches
    (a model file edited since, e.g. its learning rates, reruns them)."""
    return settings_key({"le": _model_json(model), "backprop": model_bp})


def backprop_parameters(name):
    """The ``BACKPROP`` dict of parameter set ``name`` (`le_brian.parameter_sets`)."""
    from ..parameter_sets import model_module

    mod = model_module(name)
    if not hasattr(mod, "BACKPROP"):
        raise ValueError(f"model {name!r} defines no BACKPROP parameters for the baseline")
    return mod.BACKPROP


def backprop_layers(model, n_out):
    """The layer tuples of `le_brian.numpy_reference.BackpropConvNet` for a model with
    ``conv`` layers (``TRAINING`` dict): input image, the conv / pooling layers, the
    hidden dense layers and the output."""
    from ..engine.conv_geometry import parse_layers

    def pair(v):
        return (int(v), int(v))

    out = [("input", tuple(int(v) for v in model["image_shape"]))]
    for spec in parse_layers(model["conv"]):
        if spec[0] == "conv":
            _, channels, k, stride, pad = spec
            out.append(("conv", channels, pair(k), pair(stride), pair(pad)))
        else:
            kind, size, stride, pad = spec
            out.append((f"{kind}pool", pair(size), pair(size if stride is None else stride),
                        pair(pad)))
    return out + [("dense", int(n)) for n in model.get("hidden", ())] + [("dense", n_out)]


def run_backprop(model_bp, model, seed, data, epochs):
    """One backprop run (one value per seed) of the model's architecture on ``data``,
    ``epochs`` epochs (0: the ``BACKPROP`` dict's, else 10); dense models through
    `le_brian.numpy_reference.train_backprop`, conv models through
    `le_brian.numpy_reference.train_backprop_conv` (same online schedule)."""
    epochs = epochs or model_bp.get("epochs", 10)
    t0 = time.perf_counter()
    if model.get("conv"):
        from ..numpy_reference import train_backprop_conv

        _, history = train_backprop_conv(
            backprop_layers(model, data.n_outputs), data.x_train, data.y_train,
            data.x_test, data.y_test, model.get("activation", "tanh"),
            model.get("output_activation", "linear"), model_bp["learning_rate"],
            epochs=epochs, seed=seed, lr_decay=model_bp.get("lr_decay", 1.0))
        return {"test_accuracy": history[-1]["test_accuracy"],
                "wall_seconds": time.perf_counter() - t0}
    from ..numpy_reference.backprop import train_backprop

    _, history = train_backprop(
        data, model["hidden"], model.get("activation", "tanh"),
        model.get("output_activation", "linear"), model_bp["learning_rate"],
        epochs=epochs, seed=seed, lr_decay=model_bp.get("lr_decay", 1.0))
    return {"test_accuracy": history[-1]["test_accuracy"]}


def load_data(model, seed, n_train=0, n_eval=0, n_val=None):
    """The model's dataset drawn with ``seed``, cut to ``n_train`` training and
    ``n_eval`` validation / test samples (0: all; ``n_val`` given: that many validation
    samples, 0 none). HIGGS reads only the rows it needs."""
    from ..datasets import load

    kwargs = {}
    if model["dataset"] == "higgs" and n_train and n_eval:
        kwargs["n_rows"] = 5 * (n_train + 2 * n_eval)  # test 1/5, then train / val
    data = load(model["dataset"], seed=seed, **kwargs)
    n_val = n_eval if n_val is None else n_val
    if n_train or n_eval or n_val != n_eval:
        data = data.subset(
            n_train=min(n_train, len(data.x_train)) if n_train else None,
            n_val=min(n_val, len(data.x_val)) if (n_val or n_val != n_eval) else None,
            n_test=min(n_eval, len(data.x_test)) if n_eval else None)
    return data


def available_datasets(names, args, log=print):
    """The parameter sets of ``names`` whose data can be read; for each other one a
    single line (the loader's message) goes to ``log``."""
    from ..parameter_sets import load_model

    keep = []
    for name in names:
        try:
            load_data(load_model(name), 0, args.n_train, args.n_eval,
                      getattr(args, "n_val", None))
        except (FileNotFoundError, ImportError) as e:
            log(f"{name}: skipped, data not found ({str(e).splitlines()[0]})")
            continue
        keep.append(name)
    return keep


def _le_runs_on_dask(dataset, model, data_sizes, args, summary, summary_path):
    """The LE / lagged runs of ``dataset`` not in ``res`` yet as one `le_brian.sweep` of
    the ``train`` protocol (``--scheduler`` / ``--workers``; points under
    <out>/data/accuracy_vs_T_sweep/<dataset>, resumable); a diverged point counts as
    diverged, as in this process. Another failure stops the script (exit 1)."""
    from .. import sweep as le_sweep
    from ..sweep.protocols import train_parameters

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
        if getattr(args, "n_val", None) is not None:
            cfg["n_val"] = min(args.n_val, n_eval)
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
    return float(TrainingParameters(**model).tau_m / ms)


def sweep(args, summary, summary_path, data_dir="accuracy_vs_T", log_backprop=False):
    """Run every missing (dataset, T, seed, variant) of ``args`` and the backprop runs,
    recording each in ``summary`` (``summary[dataset]['runs']``, keys
    ``<variant>_T<T>_seed<seed>`` and ``backprop_seed<seed>``) and rewriting
    ``summary_path`` after every run. ``args.scheduler`` / ``args.workers``: the LE and
    lagged runs go through one Dask sweep per dataset; ``data_dir``: the run folders'
    parent under ``<out>/data``; ``log_backprop``: print a line per backprop run too.
    Returns ``summary``."""
    from ..parameter_sets import load_model

    for dataset in args.datasets:
        model = load_model(dataset)
        model_bp = backprop_parameters(dataset)
        res = summary.setdefault(dataset, {"tau_m_ms": _tau_m_ms(model), "runs": {}})
        key = model_key(model, model_bp)
        if res.get("model_key") != key:
            if res["runs"]:
                print(f"{dataset}: its model's parameters differ from those of the runs in "
                      f"{summary_path}: they are run again", flush=True)
            res.update(model_key=key, runs={})
        if args.scheduler is not None or args.workers is not None:
            sizes = load_data(model, 0)
            _le_runs_on_dask(dataset, model, (len(sizes.x_train), len(sizes.x_val)), args,
                             summary, summary_path)
        for seed in range(args.seeds):
            data = load_data(model, seed, args.n_train, args.n_eval,
                             getattr(args, "n_val", None))
            key = f"backprop_seed{seed}"
            if key not in res["runs"]:
                res["runs"][key] = run_backprop(model_bp, model, seed, data, args.epochs)
                write_json(summary_path, summary)
                if log_backprop:
                    print(f"{dataset:8s} backprop seed {seed}: test accuracy "
                          f"{res['runs'][key]['test_accuracy']}", flush=True)
            for T_ms in args.times:
                for variant in VARIANTS:
                    key = f"{variant}_T{T_ms:g}_seed{seed}"
                    if key in res["runs"] and not args.restart:
                        continue
                    r = run_le(dataset, model, T_ms, seed, variant, args, data, data_dir)
                    r.update(T_ms=T_ms, seed=seed, variant=variant)
                    res["runs"][key] = r
                    write_json(summary_path, summary)
                    print(f"{dataset:8s} {variant:7s} T={T_ms:7g} ms seed {seed}: test "
                          f"accuracy {r['test_accuracy']}", flush=True)
    return summary


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


def print_table(summary, args, classes=None):
    """Print, per dataset of ``args.datasets``, backprop's mean ± s.d. and the LE / lagged
    mean ± s.d. (and diverged runs) at every T."""
    for dataset in args.datasets:
        tab = table(summary, dataset, args.times,
                    classes[dataset] if classes else n_classes(dataset))
        print(f"\n{dataset}: backprop {tab['backprop'][0]:.3f} ± {tab['backprop'][1]:.3f}")
        print("   T (ms)   " + "   ".join(f"{v:>24s}" for v in VARIANTS))
        for k, T in enumerate(args.times):
            print(f"{T:9g}   " + "   ".join(
                f"{tab[v][k][0]:8.3f} ± {tab[v][k][1]:.3f} ({tab[v][k][3]} div.)"
                for v in VARIANTS))


def n_classes(dataset):
    """Number of classes of parameter set ``dataset``'s data (a binary task: 2)."""
    from ..datasets import load
    from ..parameter_sets import load_model

    n = load(load_model(dataset)["dataset"]).n_outputs
    return 2 if n == 1 else n


def plot(summary, args, path, datasets=None, classes=None):
    """One panel per dataset: LE and lagged (mean ± s.d. over seeds) against T, backprop
    as a band, tau_m marked; saved to ``path`` (`le_brian.io.save_figure`, marked as a
    smoke run with ``args.fast``). ``classes``: {dataset: number of classes} (default:
    read from the data)."""
    from matplotlib.figure import Figure

    datasets = args.datasets if datasets is None else datasets
    fig = Figure(figsize=(5.5 * len(datasets), 4.2), layout="constrained")
    axes = fig.subplots(1, len(datasets), squeeze=False)
    times = np.array(args.times)
    for ax, dataset in zip(axes[0], datasets):
        n_cls = classes[dataset] if classes else n_classes(dataset)
        tab = table(summary, dataset, args.times, n_cls)
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
                ax.plot(times[diverged], np.full(diverged.sum(), 1.0 / n_cls), "x",
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
