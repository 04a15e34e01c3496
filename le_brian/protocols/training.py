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
import os
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from brian2 import Hz, ms, second

from ..networks.layered import LENetwork
from ..parameter_sets import config_dict, load_model  # noqa: F401  (part of this API)

__all__ = ["TrainConfig", "train", "evaluate", "evaluate_network", "load_network",
           "build_network", "load_model", "config_dict", "tau_mismatch"]


@dataclass
class TrainConfig:
    """Everything that defines a training run (times in ms, rates in Hz in the fields'
    names, so the JSON form is self-describing).

    ``hidden`` lists the hidden layer sizes; input and output sizes come from the
    dataset. ``learning_rates_hz``: one value, or one per layer. ``lr_decay``: factor
    applied to every learning rate after each epoch. ``lr_reference_ms``: when set,
    learning rates are scaled by lr_reference / presentation_time, so that the weight
    change per sample does not depend on the presentation time. ``eval_every``: evaluate
    on the validation and test splits every this many epochs (and after the last).

    Substrate imperfections (docs/model.md §1.8): ``tau_jitter`` (sigma of the per-neuron
    tau_m and tau_r), ``tau_learning`` (None, 'tau_m' or 'tau_r') with rate
    ``eta_tau_ms`` (in ms), learned in ``tau_learning_epochs`` passes over the training
    inputs before epoch 0 (no nudging, no weight learning; own sample order from
    ``default_rng(seed + 2000)``) and, with ``tau_learning_in_training``, during training
    too; ``rate_noise_sqrt_ms`` (white-noise density in sqrt(ms)), ``tau_syn_ms`` (synaptic
    filter of the rates) and ``filter_target``.
    """

    dataset: str = "yinyang"
    hidden: list = field(default_factory=lambda: [120])
    activation: str = "tanh"
    output_activation: str = "linear"
    tau_m_ms: float = 10.0
    tau_r_ms: float = None
    prospective: bool = True
    scheme: str = "sweep"
    beta: float = 0.1
    target_type: str = "voltage"
    target_on: float = 1.0
    target_off: float = 0.0
    learning_rates_hz: object = 100.0
    lr_decay: float = 1.0
    lr_reference_ms: float = None
    presentation_time_ms: float = 1.0
    dt_ms: float = 0.1
    epochs: int = 10
    seed: int = 0
    weight_scale: float = None
    readout_fraction: float = 0.5
    eval_every: int = 1
    n_train: int = None
    n_val: int = None
    n_test: int = None
    device: str = "cpp_standalone"
    codegen_target: str = "auto"
    dataset_kwargs: dict = field(default_factory=dict)
    spiking: bool = False
    n_per_unit: int = 1
    r_max_hz: float = 10000.0
    tau_s_ms: float = 1.0
    spiking_output: bool = False
    tau_jitter: float = 0.0
    tau_learning: str = None
    eta_tau_ms: float = 0.0
    tau_learning_epochs: int = 0
    tau_learning_in_training: bool = False
    rate_noise_sqrt_ms: float = None
    tau_syn_ms: float = None
    filter_target: bool = True

    @classmethod
    def from_dict(cls, d):
        """A checked config from a dict of field values (unknown fields, wrong types and
        out-of-range values raise ValueError naming the field)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown training parameters {sorted(unknown)}; known: "
                             f"{sorted(known)}")
        cfg = cls(**d)
        cfg.check()
        return cfg

    def check(self):
        """Raise ValueError naming the first field whose value is out of range."""
        def number(name, low=None, low_open=True, integer=False, optional=False, high=None):
            v = getattr(self, name)
            if v is None and optional:
                return
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            if ok and integer:
                ok = float(v) == int(v)
            if ok and low is not None:
                ok = v > low if low_open else v >= low
            if ok and high is not None:
                ok = v <= high
            if not ok:
                bound = "" if low is None else f" {'>' if low_open else '>='} {low:g}"
                bound += "" if high is None else f" and <= {high:g}"
                raise ValueError(f"training parameter {name} must be "
                                 f"{'an integer' if integer else 'a number'}{bound}, got {v!r}")

        for name in ("tau_m_ms", "presentation_time_ms", "dt_ms", "lr_decay", "r_max_hz",
                     "tau_s_ms"):
            number(name, 0)
        number("n_per_unit", 0, integer=True)
        number("tau_jitter", 0, low_open=False)
        number("eta_tau_ms", 0, low_open=False)
        number("tau_learning_epochs", 0, low_open=False, integer=True)
        number("rate_noise_sqrt_ms", 0, low_open=False, optional=True)
        number("tau_syn_ms", 0, optional=True)
        if self.tau_learning not in (None, "tau_m", "tau_r"):
            raise ValueError(f"training parameter tau_learning must be null, 'tau_m' or "
                             f"'tau_r', got {self.tau_learning!r}")
        if self.tau_learning is None and (self.tau_learning_epochs
                                          or self.tau_learning_in_training):
            raise ValueError("training parameters tau_learning_epochs / "
                             "tau_learning_in_training need tau_learning ('tau_m' or 'tau_r')")
        for name in ("spiking", "spiking_output", "prospective", "tau_learning_in_training",
                     "filter_target"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"training parameter {name} must be true or false, got "
                                 f"{getattr(self, name)!r}")
        number("tau_r_ms", 0, low_open=False, optional=True)
        number("lr_reference_ms", 0, optional=True)
        number("beta", 0, low_open=False)
        number("readout_fraction", 0, high=1)
        for name in ("epochs", "eval_every"):
            number(name, 0, integer=True)
        for name in ("n_train", "n_val", "n_test"):
            number(name, 0, integer=True, optional=True)
        from ..engine.devices import CODEGEN_TARGETS, DEVICES
        from ..equations.activations import ACTIVATIONS
        from ..networks.layered import SCHEMES

        for name, choices in (("activation", ACTIVATIONS), ("output_activation", ACTIVATIONS),
                              ("scheme", SCHEMES), ("target_type", ("voltage", "rate")),
                              ("device", DEVICES), ("codegen_target", CODEGEN_TARGETS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"training parameter {name} must be one of "
                                 f"{sorted(choices)}, got {getattr(self, name)!r}")
        if not isinstance(self.hidden, (list, tuple)) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in self.hidden):
            raise ValueError(f"training parameter hidden must be a list of positive ints, "
                             f"got {self.hidden!r}")

    def learning_rates(self, epoch=0):
        """Learning rates (Quantities) used during ``epoch`` (0-based)."""
        n_layers = len(self.hidden) + 1
        lr = self.learning_rates_hz
        rates = list(lr) if isinstance(lr, (list, tuple)) else [lr] * n_layers
        if len(rates) != n_layers:
            raise ValueError(f"learning_rates_hz must have one value or {n_layers}, got "
                             f"{len(rates)}")
        scale = self.lr_decay ** epoch
        if self.lr_reference_ms is not None:
            scale *= self.lr_reference_ms / self.presentation_time_ms
        return [float(r) * scale * Hz for r in rates]


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
    """The `LENetwork` a configuration describes."""
    return LENetwork(
        [n_in, *cfg.hidden, n_out], activation=cfg.activation,
        output_activation=cfg.output_activation, tau_m=cfg.tau_m_ms * ms,
        tau_r=None if cfg.tau_r_ms is None else cfg.tau_r_ms * ms, prospective=cfg.prospective,
        beta=cfg.beta, target_type=cfg.target_type, learning_rates=cfg.learning_rates(0),
        dt=cfg.dt_ms * ms, seed=cfg.seed, weight_scale=cfg.weight_scale, device=cfg.device,
        codegen_target=cfg.codegen_target, scheme=cfg.scheme, simulator=simulator,
        spiking=cfg.spiking, n_per_unit=cfg.n_per_unit, r_max=cfg.r_max_hz * Hz,
        tau_s=cfg.tau_s_ms * ms, spiking_output=cfg.spiking_output,
        tau_jitter=cfg.tau_jitter, tau_learning=cfg.tau_learning, eta_tau=cfg.eta_tau_ms * ms,
        rate_noise=(None if cfg.rate_noise_sqrt_ms is None
                    else cfg.rate_noise_sqrt_ms * ms ** 0.5),
        tau_syn=None if cfg.tau_syn_ms is None else cfg.tau_syn_ms * ms,
        filter_target=cfg.filter_target)


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


def _atomic_write(path, write):
    """``write(binary file)`` into a temporary file beside ``path``, flush, fsync, then
    rename over ``path``: readers and resumed runs see the old file or the new one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_json(path, obj):
    _atomic_write(path, lambda f: f.write(json.dumps(obj, indent=2).encode()))


def _save_checkpoint(out, epoch, net, history, rng, cfg):
    """One atomic checkpoint: parameters, network state, metrics, RNG state, config and
    the epoch number; then the convenience copies weights.npz (with its epoch) and
    metrics.json, which a resumed run never reads."""
    arrays = {f"{kind}_{k + 1}": a for kind, v in net.get_parameters().items()
              for k, a in enumerate(v)}
    arrays.update({f"state/{p}/{v}": a for p, d in net.get_state().items()
                   for v, a in d.items() if a is not None})
    arrays.update(epoch=np.array(epoch), rng=np.array(json.dumps(rng.bit_generator.state)),
                  run_index=np.array(net.run_index),
                  network_time_s=np.array(float(net.t / second)),
                  metrics=np.array(json.dumps(history)), config=np.array(json.dumps(asdict(cfg))))
    _atomic_write(out / CHECKPOINT, lambda f: np.savez(f, **arrays))
    _atomic_write(out / "weights.npz", lambda f: net.save_parameters(f, epoch=np.array(epoch)))
    _write_json(out / "metrics.json", history)


def _config_differences(saved, requested):
    """Settings that differ; a field a checkpoint predates counts at its default (a run
    folder of an older version resumes as long as the new field keeps its default)."""
    defaults = json.loads(json.dumps(asdict(TrainConfig())))
    saved = {**{k: v for k, v in defaults.items() if k not in saved}, **saved}
    keys = sorted(set(saved) | set(requested))
    return {k: (saved.get(k), requested.get(k)) for k in keys
            if k not in RESUMABLE_CHANGES and saved.get(k) != requested.get(k)}


def _load_checkpoint(out, net, cfg):
    """Restore ``net`` from the run folder's checkpoint after checking that it belongs to
    the requested ``cfg``; returns (epoch, history, rng state)."""
    path = out / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"{out} holds no run to resume ({CHECKPOINT} not found)")
    try:
        f = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"{path}: unreadable checkpoint ({err})") from None
    with f:
        saved = json.loads(str(f["config"]))
        diff = _config_differences(saved, json.loads(json.dumps(asdict(cfg))))
        if diff:
            raise ValueError(f"--resume: {out} was trained with other settings: " + ", ".join(
                f"{k} = {a!r} there, {b!r} now" for k, (a, b) in diff.items())
                + f" (only {', '.join(RESUMABLE_CHANGES)} may change)")
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
        return epoch, history, json.loads(str(f["rng"]))


def load_network(run_dir, device=None, codegen_target=None):
    """Rebuild the network of a run folder with its last saved weights."""
    run_dir = Path(run_dir)
    cfg_path = run_dir / "config.json"
    if not cfg_path.exists():
        raise FileNotFoundError(f"{cfg_path} not found: not a le_brian run folder")
    meta = json.loads(cfg_path.read_text())
    cfg = TrainConfig.from_dict(meta["config"])
    if device:
        cfg.device = device
    if codegen_target:
        cfg.codegen_target = codegen_target
    net = build_network(cfg, meta["n_in"], meta["n_out"])
    wpath = run_dir / "weights.npz"
    if not wpath.exists():
        raise FileNotFoundError(f"{wpath} not found: the run saved no weights yet")
    net.load_parameters(wpath)
    ckpt = run_dir / CHECKPOINT
    if ckpt.exists():  # weights.npz must be the checkpoint's epoch
        with np.load(ckpt, allow_pickle=False) as c, np.load(wpath) as w:
            if "epoch" in w and int(w["epoch"]) != int(c["epoch"]):
                raise ValueError(f"{wpath} is of epoch {int(w['epoch'])}, {ckpt} of epoch "
                                 f"{int(c['epoch'])}: the run folder is inconsistent")
    return net, cfg


def train(config, out_dir, resume=False, progress=print, data=None):
    """Train an LE network as ``config`` (a `TrainConfig` or dict) describes.

    Parameters
    ----------
    config : TrainConfig or dict
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
    cfg = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(dict(config))
    out = Path(out_dir)
    if not resume and (out / CHECKPOINT).exists():
        raise FileExistsError(f"{out} already holds a run; pass resume=True (--resume) to "
                              "continue it or choose another folder")
    if resume and not (out / CHECKPOINT).is_file():
        raise FileNotFoundError(f"--resume: {out} holds no run to resume ({CHECKPOINT} not "
                                "found)")
    out.mkdir(parents=True, exist_ok=True)
    data = data if data is not None else _load_dataset(cfg)
    classification = data.task == "classification"
    T = cfg.presentation_time_ms * ms
    y_train = (data.targets(data.y_train, on=cfg.target_on, off=cfg.target_off)
               if classification else data.y_train)
    from .. import __version__

    meta = {"config": asdict(cfg), "n_in": data.n_features, "n_out": data.n_outputs,
            "le_brian_version": __version__, "git_commit": _git_commit(),
            "dataset": {"name": data.name, "n_train": len(data.x_train),
                        "n_val": len(data.x_val), "n_test": len(data.x_test)}}
    net = build_network(cfg, data.n_features, data.n_outputs)
    rng = np.random.default_rng(cfg.seed + 1000)
    history, start = [], 0
    if resume:
        last, history, rng.bit_generator.state = _load_checkpoint(out, net, cfg)
        start = last + 1
        progress(f"resuming {out} after epoch {last}")
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
        net.set_learning_rates(cfg.learning_rates(epoch - 1))
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
    fig.savefig(path, dpi=100)
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
    net, cfg = load_network(run_dir, device=device)
    data = _load_dataset(cfg)
    x, y = {"train": (data.x_train, data.y_train), "val": (data.x_val, data.y_val),
            "test": (data.x_test, data.y_test)}[split]
    m = evaluate_network(net, x, y, cfg.presentation_time_ms * ms, cfg.readout_fraction,
                         cfg.target_on, cfg.target_off, data)
    m.pop("outputs")
    progress(f"{run_dir}: {split} " + "  ".join(f"{k} {v:.4f}" for k, v in m.items()))
    return m
