"""Run folders of the cortical microcircuit: ``le-brian train --model microcircuit_bars``
(or ``microcircuit_yinyang``, ``microcircuit_mimic``, or any parameter file with
``NETWORK`` and ``PROTOCOL`` dicts), and ``evaluate``, ``record``, ``plot`` on the folder
it writes. The mimic protocol (``PROTOCOL['protocol'] == 'mimic'``) is run by
`le_brian.protocols.mimic_run`.

The folder is the one of a layered run (`le_brian.protocols.training`): ``config.json``
(``"network": "Microcircuit"``, the resolved settings with unit strings, version, git
commit), ``checkpoint.npz`` (written atomically after every epoch with
`le_brian.protocols.training.write_checkpoint`: weights, all dynamic state, run index and
network time, metrics, the order RNG, config, epoch), ``metrics.json``, ``weights.npz``,
``curves.png``.

The protocols keep their published semantics and numbers, run one ``net.run`` per epoch
with the state persisting, which reproduces the one long run of
`le_brian.protocols.bars.run_bars` / `le_brian.protocols.classification.
run_classification` to the bit (rate networks; tests/test_microcircuit_cli.py):

- ``bars``: per epoch the 8 training patterns (nudged, learning) then the 8 validation
  patterns (free), orders from `epoch_orders` on the weights' RandomState; learning rates
  and the original mode's read-out lag per presentation time (`bars_learning_rates`,
  `bars_out_lag`) unless set.
- ``classification`` (a ``PROTOCOL`` with ``dataset``): per epoch the training split in
  a fresh order of ``default_rng([seed, 7])`` (nudged, learning), then the validation
  split (free).

Both: learning rates times ``lr_decay ** ((epoch - 1) // lr_decay_every)``
(`le_brian.protocols.presentation.lr_factor`; bars: `run_bars` with the same schedule).

Epoch 0 and the test split are evaluated *undisturbed*: state, weights, run index and
network time are restored afterwards, so they change none of the protocol's numbers.
"""

import json
import time
from pathlib import Path

import numpy as np
from brian2 import ms, second

from ..networks.microcircuit import Microcircuit
from ..params import MicrocircuitTrainingParameters
from ..params.groups import SPIKING_VIEW
from ..parameter_sets import model_module
from .bars import bars_learning_rates, bars_out_lag
from .presentation import epoch_orders, lr_factor
from ..io import read_json, read_npz
from .training import (CHECKPOINT, _fmt_row, _git_commit, _write_json, check_run_folder,
                       epochs_left, load_checkpoint, restore_checkpoint, write_checkpoint,
                       write_curves)

__all__ = ["is_microcircuit_model", "is_microcircuit_run", "microcircuit_config",
           "config_to_json", "config_from_json", "build_microcircuit", "train_microcircuit",
           "load_microcircuit", "evaluate_microcircuit", "record_microcircuit",
           "plot_microcircuit", "NETWORK_NAME"]

#: The ``network`` key of a microcircuit run's config.json (a layered run has none).
NETWORK_NAME = Microcircuit.kind

#: Settings of a microcircuit run: the fields of `MicrocircuitTrainingParameters`.
FIELDS = MicrocircuitTrainingParameters.fields()
_NETWORK_KEYS = tuple(k for g in MicrocircuitTrainingParameters.GROUPS[1:]
                      for k in g.fields() if k not in ("eta_up", "eta_ip", "eta_pi"))
_SPIKING_KEYS = (*SPIKING_VIEW, "spiking_output")


# ---------------------------------------------------------------- config (JSON form)
def config_to_json(cfg):
    """A resolved config (``{field: Quantity or value}``) as its JSON form (grouped,
    Quantities as text with units)."""
    return MicrocircuitTrainingParameters(**cfg).to_json()


def config_from_json(d):
    """A checked config (``{field: Quantity or value}``) from its JSON form (grouped or
    flat); unknown fields and values of the wrong kind raise ValueError naming the
    field."""
    return MicrocircuitTrainingParameters.from_json(d).values()


# ---------------------------------------------------------------- resolution
def is_microcircuit_model(name):
    """Whether parameter set ``name`` (or a .py path) describes a microcircuit protocol
    (``NETWORK`` and ``PROTOCOL`` dicts, no ``TRAINING``)."""
    module = model_module(name)
    return (not hasattr(module, "TRAINING") and isinstance(getattr(module, "NETWORK", None),
                                                           dict)
            and isinstance(getattr(module, "PROTOCOL", None), dict))


def microcircuit_config(model, overrides=None, settings=None):
    """The resolved, checked config of a microcircuit run.

    Parameters
    ----------
    model : str
        A parameter set of `le_brian.models` or a .py file with ``NETWORK`` and
        ``PROTOCOL`` dicts (`le_brian.models.microcircuit_bars` is one).
    overrides : dict, optional
        Field values as Quantities (e.g. ``{'presentation_time': 2*ms, 'epochs': 3}``).
    settings : dict, optional
        Field values in the JSON form (``{'eta_up': ['0.05 / ms', '0.01 / ms']}``),
        applied last (``--set``).

    Learning rates and ``out_lag`` not given by the model or the overrides follow the
    presentation time (`bars_learning_rates`, `bars_out_lag`); ``eta_pi`` defaults to 0.

    Raises
    ------
    ValueError
        Not a microcircuit model, an unknown field, a value of the wrong kind.
    """
    if not is_microcircuit_model(model):
        raise ValueError(f"model {model!r} is not a microcircuit parameter set (a module with "
                         "NETWORK and PROTOCOL dicts)")
    module = model_module(model)
    network, protocol = dict(module.NETWORK), dict(module.PROTOCOL)
    kind = protocol.get("protocol", "classification" if "dataset" in protocol else "bars")
    if kind == "mimic":  # the student is the run's network
        network.update(getattr(module, "STUDENT", {}))
    sizes = network.pop("layer_sizes", None)
    hidden = list(network.pop("hidden", sizes[1:-1] if sizes else [30]))
    shape = {"bars": (9, 3), "mimic": (1, 1)}.get(kind)
    if sizes and shape and (sizes[0], sizes[-1]) != shape:
        raise ValueError(f"model {model!r}: the {kind} protocol has {shape[0]} input(s) and "
                         f"{shape[1]} output(s), got layer_sizes {list(sizes)}")
    on, off = protocol.get("targets", (FIELDS["target_on"].default,
                                       FIELDS["target_off"].default))
    given = {"model": model, "protocol": kind,
             "dataset": protocol.get("dataset"), "hidden": hidden, "target_on": on,
             "target_off": off,
             **{k: protocol[k] for k in ("presentation_time", "epochs", "lr_decay",
                                         "lr_decay_every", "n_train",
                                         "n_val", "n_test", "eta_up", "eta_ip", "eta_pi",
                                         "out_lag", *MicrocircuitTrainingParameters.GROUPS[0]
                                         .MIMIC) if k in protocol}}
    unknown = set(network) - set(FIELDS)
    if unknown:
        raise ValueError(f"model {model!r}: unknown NETWORK entries {sorted(unknown)}")
    given.update(network)
    given.update(overrides or {})
    given.update(settings or {})  # --set: text forms, checked by the fields
    given = MicrocircuitTrainingParameters.migrate(given)
    rates = [p + k for k in ("eta_up", "eta_ip", "eta_pi") for p in ("", "self_prediction_")]
    for k in rates:  # lists (a Quantity list from a model file)
        if given.get(k) is not None and not isinstance(given[k], (list, tuple)):
            given[k] = [given[k]]
    base = MicrocircuitTrainingParameters(**{k: v for k, v in given.items()
                                             if k not in ("eta_up", "eta_ip", "eta_pi",
                                                          "out_lag")})
    T = base.presentation_time
    derived = {**bars_learning_rates(T), "eta_pi": [0 / ms] * len(base.hidden)}
    for k, v in derived.items():
        given.setdefault(k, v)
    if "out_lag" not in given and kind != "mimic":  # mimic: the network's default
        given["out_lag"] = bars_out_lag(T, base.mode)
    cfg = MicrocircuitTrainingParameters(**given).values()
    if cfg["tau_0"] is None:
        cfg["tau_0"] = cfg["dt"]
    return cfg


# ---------------------------------------------------------------- network and data
def build_microcircuit(cfg, n_in, n_out, simulator=None):
    """The `Microcircuit` a resolved config describes (weights drawn from its seed)."""
    kw = {k: cfg[k] for k in _NETWORK_KEYS}
    if cfg["spiking"]:
        kw.update(spiking=True, **{k: cfg[k] for k in _SPIKING_KEYS})
    return Microcircuit([n_in, *cfg["hidden"], n_out], eta_up=list(cfg["eta_up"]),
                        eta_ip=list(cfg["eta_ip"]), eta_pi=list(cfg["eta_pi"]),
                        simulator=simulator, **kw)


class _Bars:
    """The bars patterns as a dataset: every split is the same 8 patterns."""

    name, task, n_features, n_outputs = "bars", "classification", 9, 3

    def __init__(self):
        from ..datasets import bars_patterns

        x, labels = bars_patterns()
        for split in ("train", "val", "test"):
            setattr(self, f"x_{split}", x)
            setattr(self, f"y_{split}", labels)

    def targets(self, labels, on=1.0, off=0.0):
        y = np.full((len(labels), self.n_outputs), float(off))
        y[np.arange(len(labels)), labels] = on
        return y


def _load_data(cfg, run_dir=None):
    if cfg["protocol"] == "bars":
        return _Bars()
    if cfg["protocol"] == "mimic":  # the teacher's data, saved in the run folder
        from .mimic_run import MimicData

        return MimicData.load(run_dir)
    from ..datasets import load

    data = load(cfg["dataset"], seed=cfg["seed"])
    if data.task != "classification":
        raise ValueError(f"dataset {cfg['dataset']!r} is not a classification dataset")
    if cfg["n_train"] or cfg["n_val"] or cfg["n_test"]:
        data = data.subset(n_train=cfg["n_train"], n_val=cfg["n_val"], n_test=cfg["n_test"])
    return data


def _free_run(net, data, cfg, x, labels, record_spikes):
    """Patterns neither nudged nor learning (targets given: they pass the target filter,
    as in the protocols' validation runs); returns (accuracy, result)."""
    off = np.zeros(len(x), dtype=bool)
    res = net.run(x, cfg["presentation_time"], targets=data.targets(
        labels, on=cfg["target_on"], off=cfg["target_off"]), nudge=off, learn=off, record={},
        record_spikes=record_spikes)
    return float(np.mean(res.predictions() == np.asarray(labels))), res


def _undisturbed(net, run):
    """``run()`` with the network's state, weights, run index and time restored after."""
    state, params, n_runs, t = net.get_state(), net.get_parameters(), net.run_index, net.t
    try:
        return run()
    finally:
        net.set_state(state)
        net.set_parameters(**params)
        net.restore_history(n_runs, t)


def _spike_counts(results, net):
    """Spikes per presentation and mean rate (Hz per neuron) of spiking runs."""
    n_spikes = sum(len(s["i"]) for r in results for s in r.spikes.values())
    n_pres = sum(r.n_samples for r in results)
    n_neurons = sum(s["n_neurons"] for s in results[0].spikes.values())
    steps = sum(r.n_samples * r.steps_per_sample for r in results)
    return {"spikes_per_presentation": n_spikes / n_pres,
            "mean_rate_hz": n_spikes / (n_neurons * steps * float(net.dt / second))}


def _rng_state(rng):
    if isinstance(rng, np.random.RandomState):
        st = rng.get_state(legacy=False)
        return {**st, "state": {"key": st["state"]["key"].tolist(), "pos": st["state"]["pos"]}}
    return rng.bit_generator.state


def _set_rng_state(rng, state):
    if isinstance(rng, np.random.RandomState):
        rng.set_state({**state, "state": {"key": np.array(state["state"]["key"], np.uint32),
                                          "pos": state["state"]["pos"]}})
    else:
        rng.bit_generator.state = state


# ---------------------------------------------------------------- training
def train_microcircuit(model, out_dir, overrides=None, settings=None, resume=False,
                       progress=print):
    """Train a microcircuit as ``model`` (`microcircuit_config`) describes into the run
    folder ``out_dir`` (see the module doc); ``resume=True`` continues its checkpoint
    (only ``epochs``, ``device``, ``codegen_target`` may change).

    Returns
    -------
    list of dict
        Metrics per epoch (epoch 0: before training): ``val_accuracy``,
        ``train_accuracy`` (nudged read-outs), ``test_accuracy`` (classification, at
        evaluation epochs), spiking: ``spikes_per_presentation``, ``mean_rate_hz``.

    Raises
    ------
    FileExistsError / FileNotFoundError / ValueError
        A run in ``out_dir`` without ``resume``, nothing to resume, other settings.
    """
    cfg = microcircuit_config(model, overrides, settings)
    text = config_to_json(cfg)
    out = check_run_folder(out_dir, resume)
    if cfg["protocol"] == "mimic":
        from .mimic_run import train_mimic

        return train_mimic(cfg, text, out, resume=resume, progress=progress)
    data = _load_data(cfg)
    net = build_microcircuit(cfg, data.n_features, data.n_outputs)
    bars = cfg["protocol"] == "bars"
    rng = net.rng if bars else np.random.default_rng([cfg["seed"], 7])
    history, start = [], 0
    if resume:
        last, history = _load_checkpoint(out, net, rng, text)
        if not epochs_left(out, last, cfg["epochs"], progress):
            return history
        start = last + 1
    out.mkdir(parents=True, exist_ok=True)
    _write_config(out, text, data)
    spikes = cfg["spiking"]

    def test_row(with_val):
        row = {}
        splits = (("val", "test") if with_val else ("test",)) if not bars else ("val",)
        for split in splits:
            row[f"{split}_accuracy"] = _undisturbed(net, lambda: _free_run(
                net, data, cfg, getattr(data, f"x_{split}"), getattr(data, f"y_{split}"),
                False)[0])
        return row

    if start == 0:
        history = [{"epoch": 0, "train_seconds": 0.0, **test_row(True)}]
        write_checkpoint(out, 0, net, history, _rng_state(rng), text)
        progress(_fmt_row(history[0]))
    for epoch in range(max(start, 1), cfg["epochs"] + 1):
        f = lr_factor(epoch, cfg["lr_decay"], cfg["lr_decay_every"])
        net.set_learning_rates(eta_up=[e * f for e in cfg["eta_up"]],
                               eta_ip=[e * f for e in cfg["eta_ip"]],
                               eta_pi=[e * f for e in cfg["eta_pi"]])
        t0 = time.perf_counter()
        if bars:
            order, train = epoch_orders(rng, len(data.x_train), len(data.x_val), 1)
            res = net.run(data.x_train[order], cfg["presentation_time"],
                          targets=data.targets(data.y_train[order], cfg["target_on"],
                                               cfg["target_off"]),
                          nudge=train, learn=train, record={}, record_spikes=spikes)
            hit = res.predictions() == data.y_train[order]
            row = {"train_accuracy": float(np.mean(hit[train])),
                   "val_accuracy": float(np.mean(hit[~train]))}
            runs = [res]
        else:
            order = rng.permutation(len(data.x_train))
            res = net.run(data.x_train[order], cfg["presentation_time"],
                          targets=data.targets(data.y_train[order], cfg["target_on"],
                                               cfg["target_off"]),
                          record={}, record_spikes=spikes)
            val, vres = _free_run(net, data, cfg, data.x_val, data.y_val, spikes)
            row = {"train_accuracy": float(np.mean(res.predictions() == data.y_train[order])),
                   "val_accuracy": val}
            runs = [res, vres]
        row = {"epoch": epoch, "train_seconds": time.perf_counter() - t0, **row}
        if spikes:
            row.update(_spike_counts(runs, net))
        if not bars and (epoch % cfg["eval_every"] == 0 or epoch == cfg["epochs"]):
            row.update(test_row(False))
        history.append(row)
        write_checkpoint(out, epoch, net, history, _rng_state(rng), text)
        progress(_fmt_row(row))
    write_curves(out / "curves.png", history)
    return history


def _write_config(out, text, data):
    """config.json of a microcircuit run folder (parameters, sizes, version, commit)."""
    from .. import __version__

    _write_json(out / "config.json", {
        "network": NETWORK_NAME, "parameters": text, "n_in": data.n_features,
        "n_out": data.n_outputs, "le_brian_version": __version__, "git_commit": _git_commit(),
        "dataset": {"name": data.name, "n_train": len(data.x_train), "n_val": len(data.x_val),
                    "n_test": len(data.x_test)}})


def _load_checkpoint(out, net, rng, text):
    epoch, history, rng_state = load_checkpoint(
        out, net, MicrocircuitTrainingParameters.from_json(text))
    _set_rng_state(rng, rng_state)
    return epoch, history


# ---------------------------------------------------------------- run folder tools
def _meta(run_dir):
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: not a le_brian run folder")
    return read_json(path)


def is_microcircuit_run(run_dir):
    """Whether ``run_dir`` holds a microcircuit run (config.json names the class)."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        return False
    meta = _meta(run_dir)
    return isinstance(meta, dict) and meta.get("network") == NETWORK_NAME


def load_microcircuit(run_dir, device=None, codegen_target=None):
    """The network of a microcircuit run folder at its last completed epoch (weights and
    dynamic state from the checkpoint) and the run's config."""
    run_dir = Path(run_dir)
    meta = _meta(run_dir)
    cfg = config_from_json(meta.get("parameters", meta.get("config")))
    cfg["device"] = device or cfg["device"]
    cfg["codegen_target"] = codegen_target or cfg["codegen_target"]
    net = build_microcircuit(cfg, meta["n_in"], meta["n_out"])
    path = run_dir / CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the run saved no epoch yet")
    with read_npz(path, "checkpoint") as f:
        restore_checkpoint(f, path, net)
    return net, cfg


def evaluate_microcircuit(run_dir, split="test", device=None, progress=print):
    """Accuracy of a microcircuit run's network on a split (bars: the 8 patterns, any
    split), neither nudged nor learning, from the state of its last epoch."""
    net, cfg = load_microcircuit(run_dir, device=device)
    if cfg["protocol"] == "mimic":
        from .mimic_run import evaluate_mimic

        return evaluate_mimic(run_dir, split, device, progress)
    data = _load_data(cfg)
    acc, res = _free_run(net, data, cfg, getattr(data, f"x_{split}"),
                         getattr(data, f"y_{split}"), bool(net.spiking_populations()))
    m = {"accuracy": acc}
    if net.spiking_populations():
        m.update(_spike_counts([res], net))
    progress(f"{run_dir}: {split} " + "  ".join(f"{k} {v:.4f}" for k, v in m.items()))
    return m


#: What `record_microcircuit` records per population kind.
RECORDED = {"pyr": ["u", "v_B", "v_A"], "int": ["u"], "out": ["u", "w"]}


def record_microcircuit(run_dir, n_samples=10, split="test", spiking=None, device=None,
                        record_every=None, max_neurons=None, overwrite=False):
    """`le_brian.protocols.recording.record_run` for a microcircuit run folder: soma u,
    basal v_B and apical v_A of the pyramidal cells, interneuron u, output u and w (and
    the spikes of every spiking population), neither nudged nor learning, from the state
    of the last epoch. Bars: the 8 patterns in turn (pattern k % 8 as sample k)."""
    from .recording import write_recording

    net, cfg = load_microcircuit(run_dir, device=device)
    if spiking is not None:
        # options not given: as trained (a rate run holds the microcircuit's defaults)
        options = {"spiking": True, **{k: spiking.get(k, cfg[k]) for k in _SPIKING_KEYS}}
        rate = net
        net = build_microcircuit({**cfg, **options}, rate.layer_sizes[0], rate.layer_sizes[-1])
        net.set_parameters(**rate.get_parameters())
        # a spiking view other than the trained one starts with every neuron free
        same = cfg["spiking"] and all(options[k] is cfg[k] or bool(options[k] == cfg[k])
                                      for k in _SPIKING_KEYS)
        net.set_state({p: {v: a for v, a in d.items()
                           if same or v not in ("ref_left", "ref_counts")}
                       for p, d in rate.get_state().items()})
        net.restore_history(rate.run_index, rate.t)
    data = _load_data(cfg, run_dir)
    x, labels = getattr(data, f"x_{split}"), np.asarray(getattr(data, f"y_{split}"))
    if cfg["protocol"] in ("bars", "mimic"):  # the patterns in turn
        x, labels = np.resize(x, (n_samples, x.shape[1])), np.resize(labels, n_samples)
    elif n_samples > len(x):
        raise ValueError(f"n_samples={n_samples} but the {split} split has {len(x)} samples")
    x, labels = x[:n_samples], labels[:n_samples]
    record = {p: RECORDED[p.rstrip("0123456789")] for p in net.populations()}
    neurons = None
    if max_neurons is not None:
        neurons = {p: np.unique(np.linspace(0, n - 1, min(n, max_neurons)).round().astype(int))
                   for p, n in net.populations().items() if p != "out"}
    off = np.zeros(n_samples, dtype=bool)
    res = net.run(x, cfg["presentation_time"], targets=data.targets(
        labels, on=cfg["target_on"], off=cfg["target_off"]), nudge=off, learn=off,
        record=record, record_every=record_every,
        record_spikes=bool(net.spiking_populations()), record_neurons=neurons)
    write_recording(run_dir, res, net, labels, f"{n_samples} {split} samples",
                    overwrite=overwrite)
    return res


def plot_microcircuit(run_dir, out=None):
    """The standard panel of a microcircuit run: accuracy per epoch (train: nudged
    read-outs; validation; test), spikes per presentation, and with a recording the soma,
    basal and apical potentials of pyramidal cell 0 of layer 1 and the raster of the
    pyramidal cells and interneurons. PNG and PDF; returns the paths."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .. import plotting
    from .recording import RECORDING, _RecordedRun, load_recording

    run_dir = Path(run_dir)
    metrics = run_dir / "metrics.json"
    if not metrics.is_file():
        raise FileNotFoundError(f"{run_dir} holds no run (metrics.json not found)")
    history = json.loads(metrics.read_text())
    rec = load_recording(run_dir) if (run_dir / RECORDING).is_file() else None
    fig = Figure(figsize=(12, 6.4), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.subplots(2, 2)
    for split, label in (("train", "train (nudged)"), ("val", "validation"), ("test", "test")):
        for metric, ylabel in (("accuracy", "accuracy (fraction)"),
                               ("loss", "mean squared error (mimic)")):
            if any(f"{split}_{metric}" in r for r in history):
                plotting.plot_learning_curves({label: history}, metric=f"{split}_{metric}",
                                              ax=grid[0, 0], ylabel=ylabel)
    if any("spikes_per_presentation" in r for r in history):
        plotting.plot_learning_curves({"training": history}, metric="spikes_per_presentation",
                                      ax=grid[0, 1], ylabel="spikes per presentation")
    elif rec is not None:
        plotting.plot_state(rec["t"], rec["states"]["out"]["w"], var_name="w (out)",
                            axes=grid[0, 1])
    if rec is not None:
        ax = grid[1, 0]
        for var, name in (("u", "soma u"), ("v_B", "basal v_B"), ("v_A", "apical v_A")):
            plotting.plot_state(rec["t"], rec["states"]["pyr1"][var][:, :1], axes=ax,
                                label=name)
        ax.set_ylabel(f"pyr1 neuron {int(rec['neurons']['pyr1'][0])} (potential)")
        ax.legend(fontsize="small")
        pops = [p for p in rec["spikes"] if p != "out"]
        if pops:
            plotting.plot_population_raster(_RecordedRun(rec), populations=pops,
                                            axes=grid[1, 1])
    for ax, missing in ((grid[0, 1], not grid[0, 1].has_data()),
                        (grid[1, 0], rec is None), (grid[1, 1], not grid[1, 1].has_data())):
        if missing:
            ax.text(0.5, 0.5, "no recording: le-brian record RUN" if rec is None else
                    "rate network: no spikes (le-brian record RUN --spiking)",
                    ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
    png = Path(out) if out is not None else run_dir / "panel.png"
    paths = [png.with_suffix(".png"), png.with_suffix(".pdf")]
    for p in paths:
        fig.savefig(p, dpi=90)
    return paths
