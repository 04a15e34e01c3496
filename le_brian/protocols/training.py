"""Continuous training and evaluation of `LENetwork` classifiers and regressors.

Samples are presented back to back for ``presentation_time`` each, plasticity always on,
no phases (docs/model.md §1.7). After every epoch the network is evaluated on the
validation and test splits without nudging and without plasticity: the class is the
argmax of the output averaged over the last ``readout_fraction`` of each presentation
(default: the second half), the loss is the mean squared error of that read-out against
the one-hot target.

Results go into a *run folder*::

    config.json      resolved parameters (units in the key names), seed, package version,
                     git commit
    checkpoint.npz   the last completed epoch, in ONE file written atomically (temporary
                     name, fsync, rename): parameters, dynamic variables, metrics, RNG
                     state, config and the epoch number; the only file resume reads
    metrics.json     one entry per epoch (a copy of the checkpoint's, for reading)
    weights.npz      weights and biases of that epoch (`LENetwork.load_parameters`;
                     holds its epoch number, checked against the checkpoint on load)
    curves.png       learning curves (accuracy and loss per split; written at the end)

Every epoch's metrics include ``train_accuracy`` / ``train_loss`` from the read-outs of
the nudged training presentations (cheap, and biased towards the targets by the
nudging). A crash or kill loses at most the epoch in progress; an interrupted epoch
(Ctrl-C) is never saved. ``train(..., resume=True)`` continues from the checkpoint after
checking it: a folder without one, another setting than ``epochs`` / ``device`` /
``codegen_target``, or metrics that do not end at the checkpoint's epoch are refused,
naming the difference.
"""

import json
import subprocess
import time
from pathlib import Path

import numpy as np
from brian2 import ms, second

from ..io import atomic_write as _atomic_write
from ..io import names_file, read_json, read_npz, save_figure
from ..io import write_json as _write_json

from ..networks.conv_layers import layers_from_text
from ..networks.layered import LENetwork
from ..networks.layers import Dense, Input
from ..parameter_sets import config_dict, load_model  # noqa: F401  (part of this API)
from ..params import LENetworkParameters, ParameterError, TrainingParameters

__all__ = ["training_parameters", "train", "evaluate",
           "evaluate_network", "load_network", "build_network", "load_model", "config_dict",
           "tau_mismatch", "write_checkpoint", "restore_checkpoint", "run_parameters",
           "check_resumable", "check_run_folder", "epochs_left", "load_checkpoint",
           "layer_specifications"]


#: The parameters of a training run (`le_brian.params.TrainingParameters`); the name of
#: le_brian <= 0.2.0, kept for scripts.
TrainConfig = TrainingParameters


def training_parameters(config):
    """A `TrainingParameters` from itself, a dict of field values (Quantities or their
    text forms), the JSON form of a run folder, or a 0.2.0 dict (``tau_m_ms``...)."""
    if isinstance(config, TrainingParameters):
        return config
    return TrainingParameters.from_json(dict(config))


def run_parameters(meta, path="config.json"):
    """The `TrainingParameters` of a run folder's config.json content (``parameters``
    since 0.3; ``config`` with units in the field names in 0.2.0 folders)."""
    form = meta.get("parameters", meta.get("config")) if isinstance(meta, dict) else None
    if form is None:
        raise ValueError(f"{path}: no 'parameters' entry: not a le_brian run folder")
    try:
        return training_parameters(form)
    except ParameterError as err:
        raise ValueError(f"{path}: {err}") from None


def _git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _load_dataset(cfg):
    from ..datasets import load

    data = load(cfg.dataset, seed=cfg.seed, **cfg.dataset_kwargs)
    if cfg.n_train or cfg.n_val or cfg.n_test:
        data = data.subset(n_train=cfg.n_train, n_val=cfg.n_val, n_test=cfg.n_test)
    return data


def build_network(cfg, n_in, n_out, simulator=None):
    """The `LENetwork` a configuration describes (every `LENetworkParameters` field of
    ``cfg``; the learning rates of epoch 0)."""
    cfg = training_parameters(cfg)
    kwargs = {name: getattr(cfg, name) for name in LENetworkParameters.fields()}
    kwargs["learning_rates"] = cfg.learning_rates_of_epoch(0)
    return LENetwork(layer_specifications(cfg, n_in, n_out), simulator=simulator, **kwargs)


def layer_specifications(cfg, n_in, n_out):
    """The architecture of a configuration: ``[n_in, *hidden, n_out]``, or with ``conv``
    ``[Input(image_shape), <conv layers>, Dense(h) ..., Dense(n_out)]``."""
    if cfg.conv is None:
        return [n_in, *cfg.hidden, n_out]
    shape = tuple(cfg.image_shape)
    if int(np.prod(shape)) != n_in:
        raise ValueError(f"image_shape {shape} has {int(np.prod(shape))} units but the data "
                         f"have {n_in} features")
    return [Input(shape), *layers_from_text(cfg.conv), *map(Dense, cfg.hidden), Dense(n_out)]


def tau_mismatch(net):
    """Mean ``|tau_m - tau_r|`` over the neurons of ``net`` (Quantity)."""
    return float(np.mean(np.concatenate([np.abs(np.asarray((m - r) / ms))
                                         for m, r in zip(net.tau_m, net.tau_r)]))) * ms


def _record_every(net, presentation_time):
    steps = int(round(float(presentation_time / net.dt)))
    every = max(1, steps // 20)
    while steps % every:
        every -= 1
    return every * net.dt


def evaluate_network(net, x, labels_or_targets, presentation_time, readout_fraction=0.5,
                     target_on=1.0, target_off=0.0, dataset=None):
    """Evaluate without nudging or plasticity.

    The read-out of a sample is the output rate averaged over the last
    ``readout_fraction`` of its presentation. Labels (1D int array) are compared with
    the argmax of the read-out (or, for a binary `Dataset` with one output unit, with
    the read-out thresholded halfway between ``target_off`` and ``target_on``).

    Returns dict ``accuracy`` (classification) and ``loss`` (MSE of the read-out against
    the targets), and the read-out ``outputs`` (n_samples, n_out).
    """
    res = net.run(x, presentation_time, learn=False,
                  record_every=_record_every(net, presentation_time))
    out = res.sample_means(readout_fraction)
    y = np.asarray(labels_or_targets)
    metrics = {}
    if y.ndim == 1:
        if dataset is not None:
            targets = dataset.targets(y, on=target_on, off=target_off)
            predicted = dataset.predict_classes(out, on=target_on, off=target_off)
        else:
            targets = np.full((len(y), out.shape[1]), float(target_off))
            targets[np.arange(len(y)), y] = target_on
            predicted = out.argmax(axis=1)
        metrics["accuracy"] = float(np.mean(predicted == y))
    else:
        targets = y
    metrics["loss"] = float(np.mean((out - targets) ** 2))
    metrics["outputs"] = out
    return metrics


#: The one file a resumed run reads (written atomically after every epoch).
CHECKPOINT = "checkpoint.npz"

#: Settings a resumed run may change (more epochs; another device gives the same
#: numbers to rounding). Any other difference is refused.
RESUMABLE_CHANGES = ("epochs", "device", "codegen_target")


def _save_checkpoint(out, epoch, net, history, rng, cfg):
    """The layered run's checkpoint (`write_checkpoint` with the sample-order RNG and the
    parameters' JSON form)."""
    write_checkpoint(out, epoch, net, history, rng.bit_generator.state, cfg.to_json())


def write_checkpoint(out, epoch, net, history, rng_state, config):
    """One atomic checkpoint of any le_brian network (`LENetwork`, `Microcircuit`):
    parameters, network state, run index and network time, metrics, RNG state
    (JSON-able), config (JSON-able) and the epoch number; then the convenience copies
    weights.npz (with its epoch) and metrics.json, which a resumed run never reads."""
    arrays = {f"{kind}_{k + 1}": a for kind, v in net.get_parameters().items()
              for k, a in enumerate(v)}
    arrays.update({f"state/{p}/{v}": a for p, d in net.get_state().items()
                   for v, a in d.items() if a is not None})
    arrays.update(epoch=np.array(epoch), rng=np.array(json.dumps(rng_state)),
                  run_index=np.array(net.run_index),
                  network_time_s=np.array(float(net.t / second)),
                  metrics=np.array(json.dumps(history)), config=np.array(json.dumps(config)))
    _atomic_write(out / CHECKPOINT, lambda f: np.savez(f, **arrays))
    _atomic_write(out / "weights.npz", lambda f: net.save_parameters(f, epoch=np.array(epoch)))
    _write_json(out / "metrics.json", history)


def config_differences(saved, requested):
    """Settings that differ between a checkpoint's config ``saved`` (the JSON form any
    version wrote; 0.2.0: ``tau_m_ms``...; a field it predates counts at its default)
    and ``requested`` (a `le_brian.params.ParameterSet`), compared in the flat JSON form;
    `RESUMABLE_CHANGES` left out. Returns ``{name: (saved, requested)}``."""
    try:
        saved = type(requested).from_json(saved).flat_json()
    except ParameterError as err:
        raise ValueError(f"the checkpoint's settings cannot be read: {err}") from None
    requested = requested.flat_json()
    keys = sorted(set(saved) | set(requested))
    return {k: (saved.get(k), requested.get(k)) for k in keys
            if k not in RESUMABLE_CHANGES and saved.get(k) != requested.get(k)}


def check_run_folder(out_dir, resume):
    """The run folder as a Path: a new run refuses a folder that holds one, a resumed run
    one that holds none."""
    out = Path(out_dir)
    if not resume and (out / CHECKPOINT).exists():
        raise FileExistsError(f"{out} already holds a run; pass resume=True (--resume) to "
                              "continue it or choose another folder")
    if resume and not (out / CHECKPOINT).is_file():
        raise FileNotFoundError(f"--resume: {out} holds no run to resume ({CHECKPOINT} not "
                                "found)")
    return out


def epochs_left(out, last, epochs, progress):
    """Whether a run resumed after epoch ``last`` has epochs left to train; fewer
    ``epochs`` than completed are refused (the folder is left as it is)."""
    if epochs < last:
        raise ValueError(f"--resume: {out} has completed {last} epochs, more than "
                         f"epochs = {epochs}; ask for more epochs to continue it")
    if epochs == last:
        progress(f"{out}: all {last} epochs are complete; nothing to resume")
        return False
    progress(f"resuming {out} after epoch {last}")
    return True


def check_resumable(out, saved, requested):
    """Refuse to resume ``out`` with other settings than it was trained with (one line
    naming every difference)."""
    diff = config_differences(saved, requested)
    if diff:
        raise ValueError(f"--resume: {out} was trained with other settings: " + ", ".join(
            f"{k} = {a!r} there, {b!r} now" for k, (a, b) in diff.items())
            + f" (only {', '.join(RESUMABLE_CHANGES)} may change)")


@names_file(lambda out, *a: out / CHECKPOINT, "checkpoint")
def load_checkpoint(out, net, cfg):
    """Restore ``net`` (any network class) from the run folder's checkpoint after
    checking that it belongs to the requested ``cfg`` (a `le_brian.params.ParameterSet`);
    returns (epoch, history, the JSON form of the RNG state)."""
    path = out / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"{out} holds no run to resume ({CHECKPOINT} not found)")
    try:
        f = read_npz(path, "checkpoint")
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: unreadable checkpoint ({err})") from None
    with f:
        check_resumable(out, json.loads(str(f["config"])), cfg)
        epoch, history = restore_checkpoint(f, path, net)
        return epoch, history, json.loads(str(f["rng"]))


def restore_checkpoint(f, path, net):
    """Parameters, dynamic state, run index and network time of ``net`` from an open
    checkpoint ``f`` (of `write_checkpoint`) after checking that its metrics end at its
    epoch; returns (epoch, metrics)."""
    epoch, history = int(f["epoch"]), json.loads(str(f["metrics"]))
    if not history or history[-1]["epoch"] != epoch:
        raise ValueError(f"{path}: metrics end at epoch "
                         f"{history[-1]['epoch'] if history else None}, checkpoint at "
                         f"epoch {epoch}: not a consistent checkpoint")
    shapes = net._parameter_shapes()
    net.set_parameters(**{kind: [f[f"{kind}_{k + 1}"] for k in range(len(v))]
                          for kind, v in shapes.items()})
    state = {}
    for key in f.files:
        if key.startswith("state/"):
            _, pop, var = key.split("/", 2)
            state.setdefault(pop, {})[var] = f[key]
    net.set_state(state)
    if "run_index" in f:  # the random draws (spikes, rate noise) continue
        net.restore_history(int(f["run_index"]), float(f["network_time_s"]) * second)
    return epoch, history


def load_network(run_dir, device=None, codegen_target=None):
    """Rebuild the network of a run folder with its last saved weights."""
    run_dir = Path(run_dir)
    cfg_path = run_dir / "config.json"
    if not cfg_path.exists():
        raise FileNotFoundError(f"{cfg_path} not found: not a le_brian run folder")
    meta = read_json(cfg_path)
    if not isinstance(meta, dict) or not {"n_in", "n_out"} <= set(meta):
        raise ValueError(f"{cfg_path}: damaged run configuration (expected parameters, n_in, "
                         f"n_out)")
    if meta.get("network") == "Microcircuit":  # microcircuit run folders
        from .microcircuit_run import load_microcircuit

        return load_microcircuit(run_dir, device=device, codegen_target=codegen_target)
    cfg = run_parameters(meta, cfg_path)
    if device:
        cfg = cfg.replace(device=device)
    if codegen_target:
        cfg = cfg.replace(codegen_target=codegen_target)
    net = build_network(cfg, meta["n_in"], meta["n_out"])
    wpath = run_dir / "weights.npz"
    if not wpath.exists():
        raise FileNotFoundError(f"{wpath} not found: the run saved no weights yet")
    net.load_parameters(wpath)
    ckpt = run_dir / CHECKPOINT
    if ckpt.exists():  # weights.npz must be the checkpoint's epoch
        with read_npz(ckpt, "checkpoint") as c, read_npz(wpath, "parameter file") as w:
            if "epoch" in w and int(w["epoch"]) != int(c["epoch"]):
                raise ValueError(f"{wpath} is of epoch {int(w['epoch'])}, {ckpt} of epoch "
                                 f"{int(c['epoch'])}: the run folder is inconsistent")
    return net, cfg


def train(config, out_dir, resume=False, progress=print, data=None):
    """Train an LE network as ``config`` (`le_brian.params.TrainingParameters` or a dict)
    describes.

    Parameters
    ----------
    config : le_brian.params.groups.TrainingParameters or dict
        Field values (Quantities or text forms such as ``"10 ms"``); see
        `training_parameters`.
    out_dir : path
        The run folder (created). With ``resume=True`` an existing run continues from its
        last completed epoch; otherwise an existing run folder is an error.
    progress : callable
        Receives one line per epoch.
    data : Dataset, optional
        Use this dataset instead of loading ``config.dataset``.

    Returns
    -------
    list of dict
        Metrics per epoch (epoch 0 = before training).
    """
    cfg = training_parameters(config)
    out = check_run_folder(out_dir, resume)
    out.mkdir(parents=True, exist_ok=True)
    data = data if data is not None else _load_dataset(cfg)
    classification = data.task == "classification"
    T = cfg.presentation_time
    y_train = (data.targets(data.y_train, on=cfg.target_on, off=cfg.target_off)
               if classification else data.y_train)
    from .. import __version__

    meta = {"network": "LENetwork", "parameters": cfg.to_json(),
            "n_in": data.n_features, "n_out": data.n_outputs,
            "le_brian_version": __version__, "git_commit": _git_commit(),
            "dataset": {"name": data.name, "n_train": len(data.x_train),
                        "n_val": len(data.x_val), "n_test": len(data.x_test)}}
    net = build_network(cfg, data.n_features, data.n_outputs)
    rng = np.random.default_rng(cfg.seed + 1000)
    history, start = [], 0
    if resume:
        last, history, rng.bit_generator.state = load_checkpoint(out, net, cfg)
        if not epochs_left(out, last, cfg.epochs, progress):
            return history
        start = last + 1
    _write_json(out / "config.json", meta)  # the settings the run now continues with

    def _evaluate(epoch, train_seconds):
        row = {"epoch": epoch, "train_seconds": train_seconds,
               "tau_mismatch_ms": float(tau_mismatch(net) / ms)}
        t0 = time.perf_counter()
        for split, x, y in (("val", data.x_val, data.y_val), ("test", data.x_test, data.y_test)):
            if len(x) == 0:
                continue
            m = evaluate_network(net, x, y, T, cfg.readout_fraction, cfg.target_on,
                                 cfg.target_off, data)
            for k, v in m.items():
                if k != "outputs":
                    row[f"{split}_{k}"] = v
        row["eval_seconds"] = time.perf_counter() - t0
        return row

    learn_tau = cfg.tau_learning_in_training if cfg.tau_learning else None
    initial_mismatch = float(tau_mismatch(net) / ms)
    if start == 0 and cfg.tau_learning_epochs:
        tau_rng = np.random.default_rng(cfg.seed + 2000)
        t0 = time.perf_counter()
        for k in range(cfg.tau_learning_epochs):
            net.run(data.x_train[tau_rng.permutation(len(data.x_train))], T, learn=False,
                    learn_tau=True, record_every=_record_every(net, T))
        progress(f"time-constant learning: {cfg.tau_learning_epochs} passes in "
                 f"{time.perf_counter() - t0:.1f} s, mean |tau_m - tau_r| "
                 f"{float(tau_mismatch(net) / ms):.4g} ms")
    if start == 0:
        row = _evaluate(0, 0.0)
        row["tau_mismatch_ms_initial"] = initial_mismatch  # before a time-constant phase
        history = [row]
        _save_checkpoint(out, 0, net, history, rng, cfg)
        progress(_fmt_row(row))
    for epoch in range(max(start, 1), cfg.epochs + 1):
        net.set_learning_rates(cfg.learning_rates_of_epoch(epoch - 1))
        order = rng.permutation(len(data.x_train))
        t0 = time.perf_counter()
        res = net.run(data.x_train[order], T, targets=y_train[order],
                      record_every=_record_every(net, T), learn_tau=learn_tau)
        seconds = time.perf_counter() - t0
        if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
            row = _evaluate(epoch, seconds)
        else:
            row = {"epoch": epoch, "train_seconds": seconds}
        row.update(_training_metrics(res.sample_means(cfg.readout_fraction),
                                     data.y_train[order], y_train[order], data, cfg))
        history.append(row)
        _save_checkpoint(out, epoch, net, history, rng, cfg)
        progress(_fmt_row(row))
    write_curves(out / "curves.png", history)
    return history


def _training_metrics(outputs, labels, targets, data, cfg):
    """Accuracy and loss of the read-outs of the nudged training presentations (a cheap
    view of training; the nudging pulls them towards the targets)."""
    row = {"train_loss": float(np.mean((outputs - targets) ** 2))}
    if data.task == "classification":
        predicted = data.predict_classes(outputs, on=cfg.target_on, off=cfg.target_off)
        row["train_accuracy"] = float(np.mean(predicted == labels))
    return row


def write_curves(path, history):
    """Learning curves of a run (accuracy and loss per split against the epoch) as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ..plotting import plot_learning_curves

    fig = Figure(figsize=(10, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("accuracy", "loss")):
        unit = "fraction" if metric == "accuracy" else "MSE"
        for split in ("train", "val", "test"):
            rows = [{"epoch": r["epoch"], metric: r[f"{split}_{metric}"]} for r in history
                    if f"{split}_{metric}" in r]
            if rows:
                plot_learning_curves({split: rows}, metric=metric, ax=ax,
                                     ylabel=f"{metric} ({unit})")
        ax.set_title(f"{metric} per epoch (train: nudged read-outs)")
    save_figure(fig, path, dpi=100)
    return path


def _fmt_row(row):
    parts = [f"epoch {row['epoch']:3d}"]
    for k in ("train_accuracy", "val_accuracy", "test_accuracy", "train_loss", "val_loss",
              "test_loss"):
        if k in row:
            parts.append(f"{k} {row[k]:.4f}")
    if row.get("train_seconds"):
        parts.append(f"train {row['train_seconds']:.1f} s")
    return "  ".join(parts)


def evaluate(run_dir, split="test", device=None, progress=print):
    """Evaluate the saved network of a run folder on a split; returns the metrics."""
    from .microcircuit_run import evaluate_microcircuit, is_microcircuit_run

    if is_microcircuit_run(run_dir):  # hook: microcircuit run folders
        return evaluate_microcircuit(run_dir, split=split, device=device, progress=progress)
    net, cfg = load_network(run_dir, device=device)
    data = _load_dataset(cfg)
    x, y = {"train": (data.x_train, data.y_train), "val": (data.x_val, data.y_val),
            "test": (data.x_test, data.y_test)}[split]
    m = evaluate_network(net, x, y, cfg.presentation_time, cfg.readout_fraction,
                         cfg.target_on, cfg.target_off, data)
    m.pop("outputs")
    progress(f"{run_dir}: {split} " + "  ".join(f"{k} {v:.4f}" for k, v in m.items()))
    return m
