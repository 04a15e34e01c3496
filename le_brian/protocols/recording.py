"""Recordings of trained networks for electrophysiology-style analysis: run a network from
a run folder on a few samples with its states (and spikes) recorded, store them in the run
folder as NWB, draw the standard panel of a run, compare its spike statistics with a
recording (``le-brian record | plot | compare``).

The NWB file (`le_brian.ephys.to_nwb`) is the run folder's ``recording.nwb``; a plain
``recording.npz`` (times in seconds, states, spikes) is written beside it so that the
panel needs no ephys libraries.
"""

import json
from pathlib import Path

import numpy as np
from brian2 import Hz, ms, second

from ..engine.validation import check_count

__all__ = ["record_run", "load_recording", "plot_run", "compare_run", "RECORDING"]

#: File name of a recording inside its run folder.
RECORDING = "recording.npz"


def record_run(run_dir, n_samples=10, split="test", spiking=None, device=None,
               record_every=None, max_neurons=None):
    """Run the network saved in ``run_dir`` on the first ``n_samples`` of a split with u,
    ub and r of every layer recorded (and the spikes when it spikes) and save
    ``recording.npz`` (and ``recording.nwb`` with the ephys extra) in ``run_dir``.

    Parameters
    ----------
    run_dir : path-like
        A folder written by ``le-brian train``.
    n_samples : int
    split : {'train', 'val', 'test'}
    spiking : dict, optional
        Record the spiking view of the trained rate network with these options
        (``n_per_unit``, ``r_max``, ``tau_s``; docs/model.md §5); default: as trained.
    device : str, optional
        Default: the run's device.
    record_every : Quantity, optional
        Recording interval (default dt).
    max_neurons : int, optional
        Record the states of at most this many neurons of every hidden layer (evenly
        spaced indices, the first and the last included); the output layer and the
        spikes are always recorded whole. Default: every neuron.

    Returns
    -------
    RunResult
    """
    from .training import _load_dataset, load_network

    run_dir = Path(run_dir)
    n_samples = check_count("n_samples", n_samples, 1)
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    net, cfg = load_network(run_dir, device=device)
    if spiking is not None:
        from .training import TrainConfig, build_network

        options = dict(spiking=True, n_per_unit=spiking.get("n_per_unit", 1),
                       r_max_hz=float(spiking.get("r_max", 10000 * Hz) / Hz),
                       tau_s_ms=float(spiking.get("tau_s", 1 * ms) / ms))
        cfg = TrainConfig.from_dict({**cfg.__dict__, **options,
                                     "device": device or cfg.device})
        params = net.get_parameters()
        net = build_network(cfg, net.layer_sizes[0], net.layer_sizes[-1])
        net.set_parameters(**params)
    data = _load_dataset(cfg)
    x = getattr(data, f"x_{split}")
    if n_samples > len(x):
        raise ValueError(f"n_samples={n_samples} but the {split} split has {len(x)} samples")
    neurons = None
    if max_neurons is not None:
        max_neurons = check_count("max_neurons", max_neurons, 1)
        neurons = {pop: np.unique(np.linspace(0, n - 1, min(n, max_neurons)).round()
                                  .astype(int))
                   for pop, n in list(net.populations().items())[:-1]}
    res = net.run(x[:n_samples], cfg.presentation_time_ms * ms, learn=False,
                  record=["u", "ub", "r"], record_every=record_every,
                  record_spikes=bool(net.spiking_populations()), record_neurons=neurons)
    labels = np.asarray(getattr(data, f"y_{split}")[:n_samples])
    arrays = {"t": np.asarray(res.t / second), "t_start": float(res.t_start / second),
              "dt": float(res.dt / second),
              "presentation_time": float(res.presentation_time / second),
              "n_samples": res.n_samples, "labels": labels}
    for pop, variables in res.states.items():
        arrays[f"neurons/{pop}"] = res.recorded_neurons[pop]
        for var, values in variables.items():
            arrays[f"state/{pop}/{var}"] = values
    for pop, s in res.spikes.items():
        arrays[f"spikes/{pop}/i"] = s["i"]
        arrays[f"spikes/{pop}/t"] = np.asarray(s["t"] / second)
        arrays[f"spikes/{pop}/n_neurons"] = s["n_neurons"]
        arrays[f"spikes/{pop}/n_per_unit"] = s["n_per_unit"]
    np.savez(run_dir / RECORDING, **arrays)
    try:
        from ..ephys import to_nwb

        to_nwb(res, run_dir / "recording.nwb", session_description=f"le_brian recording of "
               f"{run_dir.name}: {n_samples} {split} samples", network=net,
               labels=labels if labels.ndim == 1 else None)
    except ImportError:
        pass  # the npz holds everything; NWB needs the ephys extra
    return res


def load_recording(run_dir):
    """``recording.npz`` of a run folder as a dict (``t`` and spike times as Quantities,
    ``states[pop][var]``, ``neurons[pop]`` (the neuron index of every column),
    ``spikes[pop]``).

    Raises
    ------
    FileNotFoundError
        If the folder holds no recording (naming ``le-brian record``)."""
    path = Path(run_dir) / RECORDING
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} holds no recording ({RECORDING}); make one with "
                                f"le-brian record {run_dir}")
    with np.load(path) as f:
        out = {"t": f["t"] * second, "t_start": float(f["t_start"]) * second,
               "dt": float(f["dt"]) * second,
               "presentation_time": float(f["presentation_time"]) * second,
               "n_samples": int(f["n_samples"]), "states": {}, "spikes": {},
               "neurons": {}}
        for key in f.files:
            parts = key.split("/")
            if parts[0] == "neurons":
                out["neurons"][parts[1]] = f[key]
            elif parts[0] == "state":
                out["states"].setdefault(parts[1], {})[parts[2]] = f[key]
            elif parts[0] == "spikes":
                out["spikes"].setdefault(parts[1], {})[parts[2]] = f[key]
    for s in out["spikes"].values():
        s["t"] = s["t"] * second
        s["n_neurons"], s["n_per_unit"] = int(s["n_neurons"]), int(s["n_per_unit"])
        s["unit"] = s["i"] // s["n_per_unit"]
    return out


def plot_run(run_dir, out=None):
    """The standard panel of a run folder: learning curves (metrics.json), the weight
    matrices (weights.npz) and, when it holds a recording, the output layer's u and ub,
    the raster of every spiking population, the ISI histogram and the firing-rate
    distribution. Written as ``panel.png`` and ``panel.pdf`` (or ``out``); returns the
    paths."""
    from matplotlib.figure import Figure

    from .. import plotting
    from ..cli.script_helpers import save_figure

    run_dir = Path(run_dir)
    metrics = run_dir / "metrics.json"
    if not metrics.is_file():
        raise FileNotFoundError(f"{run_dir} holds no run (metrics.json not found)")
    history = json.loads(metrics.read_text())
    with np.load(run_dir / "weights.npz") as f:
        weights = [f[k] for k in sorted((k for k in f.files if k.startswith("weights_")),
                                        key=lambda k: int(k.split("_")[1]))]
    rec = load_recording(run_dir) if (run_dir / RECORDING).is_file() else None
    n_rows = 2 if rec is None else 4
    fig = Figure(figsize=(12, 3.2 * n_rows), layout="constrained")
    grid = fig.subplots(n_rows, 2)
    plotting.plot_learning_curves({"validation": history}, metric="val_accuracy",
                                  ax=grid[0, 0], ylabel="validation accuracy")
    plotting.plot_learning_curves({"validation": history}, metric="val_loss", ax=grid[0, 1],
                                  ylabel="validation loss (MSE)")
    for k, ax in enumerate(grid[1, :2]):
        if k < len(weights):
            plotting.plot_weights(weights[k], name=f"W{k + 1}", axes=ax)
            ax.set_title(f"W{k + 1} {weights[k].shape}")
    if rec is not None:
        out_pop = sorted(rec["states"])[-1]
        for ax, var in zip(grid[2], ("u", "ub")):
            plotting.plot_state(rec["t"], rec["states"][out_pop][var], var_name=f"{var} "
                                f"({out_pop})", axes=ax)
        if rec["spikes"]:
            result = _RecordedRun(rec)
            plotting.plot_population_raster(result, axes=grid[3, 0])
            trains = [s["t"][s["i"] == j] for s in rec["spikes"].values()
                      for j in range(s["n_neurons"])]
            plotting.plot_isi_histogram(trains, axes=grid[3, 1], bins=40)
        else:
            for ax in grid[3]:
                ax.text(0.5, 0.5, "rate network: no spikes (le-brian record --spiking)",
                        ha="center", va="center", transform=ax.transAxes)
                ax.set_axis_off()
    return save_figure(fig, out or run_dir / "panel.png", dpi=90, pdf=True)


class _RecordedRun:
    """What `le_brian.plotting.plot_population_raster` reads, from a recording file."""

    def __init__(self, rec):
        self.spikes = rec["spikes"]
        self.t, self.t_start, self.dt = rec["t"], rec["t_start"], rec["dt"]
        self.presentation_time, self.n_samples = rec["presentation_time"], rec["n_samples"]


def compare_run(run_dir, recording, units_column=None, out=None, population=None,
                bin_size=5 * ms):
    """Spike statistics of a run folder's recording (its ``recording.nwb``) next to those
    of a recording's Units table (all its units, or per ``units_column`` group): a table
    (``compare.csv`` and returned rows) and a figure of the distributions overlaid with
    the Kolmogorov-Smirnov distance per statistic and the PSTHs (``compare.png``).

    Rate, ISI CV, CV2, LV and the pairwise correlation coefficients always; the Fano
    factor over trials and the PSTH when the file has a trials table (le_brian writes
    one trial per sample; a recording's trials are its stimulus presentations), the
    windows as long as its shortest trial.

    Parameters
    ----------
    run_dir, recording : path-like
    units_column : str, optional
        Group the recording's units by this column of its Units table.
    out : path-like, optional
        Output folder (default ``run_dir``).
    population : str, optional
        Only this simulated population (e.g. ``'layer1'``, ``'pyr1'``); default every
        spiking population together.
    bin_size : Quantity
        Bin of the correlation coefficients (and the PSTH, at most a tenth of a trial).

    Raises
    ------
    FileNotFoundError / ValueError
        No recording in the run folder, or a recording without units (naming the file),
        an unknown population.
    """
    import csv

    import quantities as pq
    from matplotlib.figure import Figure

    from .. import ephys
    from ..cli.script_helpers import save_figure
    from ..engine.validation import as_time

    run_dir = Path(run_dir)
    sim_file = run_dir / "recording.nwb"
    if not sim_file.is_file():
        raise FileNotFoundError(f"{run_dir} holds no recording.nwb; make one with le-brian "
                                f"record {run_dir} --spiking (needs the ephys extra)")
    recording = Path(recording)
    if not recording.is_file():
        raise FileNotFoundError(f"{recording} not found")
    bin_q = float(as_time("bin_size", bin_size)) * pq.s
    sim_groups = ephys.read_nwb_units(sim_file, units_column="population")
    if population is not None and population not in sim_groups:
        raise ValueError(f"{sim_file}: no spiking population {population!r}; recorded: "
                         f"{sorted(sim_groups)}")
    sim_trains = (sim_groups[population] if population is not None
                  else [st for trains in sim_groups.values() for st in trains])
    rec_groups = ephys.read_nwb_units(recording, units_column=units_column)

    def statistics_of(trains, path):
        trials = ephys.read_nwb_trials(path)
        if trials is None:
            return ephys.spike_statistics(trains, bin_size=bin_q)
        onsets, durations = trials
        return ephys.spike_statistics(trains, sample_onsets=onsets * pq.s,
                                      sample_duration=durations.min() * pq.s, bin_size=bin_q)

    sim = statistics_of(sim_trains, sim_file)
    rows, stats = [], {}
    for label, trains in rec_groups.items():
        stats[label] = statistics_of(trains, recording)
        for row in ephys.compare_statistics(sim, stats[label]):
            rows.append({"recording_group": label, **row})
    out = Path(out) if out is not None else run_dir
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "compare.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    keys = list(dict.fromkeys(r["statistic"] for r in rows))
    with_psth = "psth" in sim or any("psth" in st for st in stats.values())
    fig = Figure(figsize=(2.6 * (len(keys) + with_psth), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(keys) + with_psth))
    for ax, key in zip(axes, keys):
        values = [sim[key][np.isfinite(sim[key])]]
        labels = ["simulation"]
        for label, st in stats.items():
            values.append(st[key][np.isfinite(st[key])])
            labels.append(f"recording {label}")
        ax.hist(values, bins=20, label=labels, density=True, histtype="step")
        ks = [r["ks_distance"] for r in rows if r["statistic"] == key]
        ax.set_xlabel(f"{key} ({ephys.STATISTIC_UNITS[key]})".replace("(1)",
                                                                     "(dimensionless)"))
        ax.set_title(f"KS distance {', '.join(f'{d:.2f}' for d in ks)}", fontsize=9)
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=7)
    if with_psth:
        ax = axes[-1]
        for label, st in [("simulation", sim), *((f"recording {k}", v) for k, v in
                                                 stats.items())]:
            if "psth" in st:
                t, rate = st["psth"]
                window = t[-1] + (t[1] - t[0]) if len(t) > 1 else 1.0
                ax.step(t / window, rate, where="post", label=label)
        ax.set_xlabel("time in trial (fraction)")
        ax.set_ylabel("PSTH (Hz)")
        ax.set_title("aligned to trial onsets", fontsize=9)
    save_figure(fig, out / "compare.png", dpi=90)
    return rows
