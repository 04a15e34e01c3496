"""Recordings of trained networks for electrophysiology-style analysis: run a network from
a run folder on a few samples with its states (and spikes) recorded, store them in the run
folder as NWB, draw the standard panel of a run, compare its spike statistics with a
recording (``le-brian record | plot | compare``).

The NWB file (`le_brian.ephys.to_nwb`) is the run folder's ``recording.nwb``; a plain
``recording.npz`` (times in seconds, states, spikes) is written beside it so that the
panel needs no ephys libraries. Both are written atomically and never overwritten
unless asked; both are checked when read back (a damaged file is a ValueError naming
it).
"""

import csv
import io
from pathlib import Path

import numpy as np
from brian2 import ms, second

from ..engine.validation import check_count
from ..io import atomic_write, check_overwrite, read_json, read_npz, save_figure

__all__ = ["record_run", "write_recording", "load_recording", "plot_run", "compare_run",
           "RECORDING"]

#: File name of a recording inside its run folder.
RECORDING = "recording.npz"


def record_run(run_dir, n_samples=10, split="test", spiking=None, device=None,
               record_every=None, max_neurons=None, overwrite=False):
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
    overwrite : bool
        Replace an existing recording (default: refuse, before anything runs).

    Returns
    -------
    RunResult
        A rate network's recording holds its states and trials (the NWB file has no
        Units table); spikes need ``spiking=`` and an activation a firing rate can take.

    Raises
    ------
    FileExistsError
        ``recording.npz`` or ``recording.nwb`` exists and not ``overwrite``.
    """
    from .microcircuit_run import is_microcircuit_run, record_microcircuit
    from .training import _load_dataset, load_network

    run_dir = Path(run_dir)
    n_samples = check_count("n_samples", n_samples, 1)
    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    nwb_path = _nwb_path(run_dir)
    for path in (run_dir / RECORDING, nwb_path):
        if path is not None:
            check_overwrite(path, overwrite, "pass overwrite=True (--overwrite)")
    if is_microcircuit_run(run_dir):  # microcircuit run folders
        return record_microcircuit(run_dir, n_samples, split, spiking, device, record_every,
                                   max_neurons, overwrite=overwrite)
    net, cfg = load_network(run_dir, device=device)
    if spiking is not None:
        from .training import build_network

        cfg = cfg.replace(spiking=True, device=device or cfg.device, **spiking)
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
    res = net.run(x[:n_samples], cfg.presentation_time, learn=False,
                  record=["u", "ub", "r"], record_every=record_every,
                  record_spikes=bool(net.spiking_populations()), record_neurons=neurons)
    labels = np.asarray(getattr(data, f"y_{split}")[:n_samples])
    write_recording(run_dir, res, net, labels, f"{n_samples} {split} samples",
                    overwrite=overwrite)
    return res


def write_recording(run_dir, res, net, labels, what, overwrite=False):
    """``recording.npz`` (and, with the ephys extra, ``recording.nwb``) of a recorded run
    of ``net`` (any network class) in ``run_dir``, each written atomically; ``what``
    describes the samples; existing files are refused unless ``overwrite``."""
    run_dir = Path(run_dir)
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
    nwb_path = _nwb_path(run_dir)
    if nwb_path is not None:  # first: a failed export leaves no new npz behind
        from ..ephys import to_nwb

        to_nwb(res, nwb_path, session_description=f"le_brian recording of "
               f"{run_dir.name}: {what}", network=net,
               labels=labels if labels.ndim == 1 else None, overwrite=overwrite)
    atomic_write(run_dir / RECORDING, lambda f: np.savez(f, **arrays), overwrite=overwrite)


def _nwb_path(run_dir):
    """``run_dir/recording.nwb``, or None without the ephys extra (the npz holds
    everything)."""
    try:
        from ..ephys import require_ephys

        require_ephys()
    except ImportError:
        return None
    return Path(run_dir) / "recording.nwb"


def load_recording(run_dir):
    """``recording.npz`` of a run folder as a dict (``t`` and spike times as Quantities,
    ``states[pop][var]``, ``neurons[pop]`` (the neuron index of every column),
    ``spikes[pop]``).

    Raises
    ------
    FileNotFoundError
        If the folder holds no recording (naming ``le-brian record``).
    ValueError
        Naming the file: damaged (truncated, not an npz, a missing member, wrong dtype
        or shape, non-finite times, spike indices outside the population)."""
    path = Path(run_dir) / RECORDING
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} holds no recording ({RECORDING}); make one with "
                                f"le-brian record {run_dir}")
    f = read_npz(path, "le_brian recording")
    t = f.array("t", "f", ndim=1, finite=True)
    out = {"t": t * second, "t_start": f.scalar("t_start", "f") * second,
           "dt": f.scalar("dt", "f") * second,
           "presentation_time": f.scalar("presentation_time", "f") * second,
           "n_samples": int(f.scalar("n_samples", "iu")), "states": {}, "spikes": {},
           "neurons": {}}
    for key in f:
        parts = key.split("/")
        if parts[0] == "neurons" and len(parts) == 2:
            out["neurons"][parts[1]] = f.array(key, "iu", ndim=1)
        elif parts[0] == "state" and len(parts) == 3:
            a = f.array(key, "f", ndim=2)
            if len(a) != len(t):
                raise ValueError(f"{path}: {key!r} has {len(a)} rows, t has {len(t)}")
            out["states"].setdefault(parts[1], {})[parts[2]] = a
        elif parts[0] == "spikes" and len(parts) == 3:
            out["spikes"].setdefault(parts[1], {})[parts[2]] = key
    for pop, keys in out["spikes"].items():
        s = {"i": f.array(f"spikes/{pop}/i", "iu", ndim=1),
             "t": f.array(f"spikes/{pop}/t", "f", ndim=1, finite=True) * second,
             "n_neurons": int(f.scalar(f"spikes/{pop}/n_neurons", "iu")),
             "n_per_unit": int(f.scalar(f"spikes/{pop}/n_per_unit", "iu"))}
        if len(s["i"]) != len(s["t"]) or s["n_per_unit"] < 1 or s["n_neurons"] < 1 or (
                len(s["i"]) and s["i"].max() >= s["n_neurons"]):
            raise ValueError(f"{path}: the spikes of {pop!r} are inconsistent ({len(s['i'])} "
                             f"indices, {len(s['t'])} times, {s['n_neurons']} neurons)")
        s["unit"] = s["i"] // s["n_per_unit"]
        out["spikes"][pop] = s
    return out


def rate_run_note(run_dir):
    """What to do for spikes from the run folder of a rate network (one place for the
    panel, ``compare`` and the CLI)."""
    from ..equations import ACTIVATIONS

    allowed = ", ".join(sorted(n for n, a in ACTIVATIONS.items() if a.nonnegative))
    return (f"a rate network: no spikes. Spikes need a network trained with a non-negative "
            f"activation ({allowed}): `le-brian record {run_dir} --spiking` records its "
            "spiking view; a tanh/linear network's recording is its states")


def plot_run(run_dir, out=None):
    """The standard panel of a run folder: learning curves (metrics.json), the weight
    matrices (weights.npz) and, when it holds a recording, the output layer's u and ub,
    the raster of every spiking population, the ISI histogram and the firing-rate
    distribution. Written as ``panel.png`` and ``panel.pdf`` (or ``out``); returns the
    paths."""
    from matplotlib.figure import Figure

    from .. import plotting

    from .microcircuit_run import is_microcircuit_run, plot_microcircuit

    run_dir = Path(run_dir)
    if is_microcircuit_run(run_dir):  # hook: microcircuit run folders
        return plot_microcircuit(run_dir, out)
    metrics = run_dir / "metrics.json"
    if not metrics.is_file():
        raise FileNotFoundError(f"{run_dir} holds no run (metrics.json not found)")
    history = read_json(metrics)
    if not isinstance(history, list) or not all(isinstance(r, dict) and "epoch" in r
                                                for r in history):
        raise ValueError(f"{metrics}: expected a list of per-epoch rows with 'epoch'")
    if out is not None:  # checked before anything is drawn
        check_figure_path(out)
    f = read_npz(run_dir / "weights.npz", "le_brian parameter file")
    names = sorted((k for k in f if k.split("_")[0] == "weights"
                    and k.split("_")[-1].isdigit()), key=lambda k: int(k.split("_")[1]))
    weights = [f.array(k, "f", ndim=2) for k in names]
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
            values = rec["states"][out_pop][var]
            index = rec["neurons"].get(out_pop, np.arange(values.shape[1]))
            plotting.plot_state(rec["t"], values, var_name=f"{var} ({out_pop})", axes=ax,
                                labels=[f"output unit {j}" for j in index])
        if rec["spikes"]:
            result = _RecordedRun(rec)
            plotting.plot_population_raster(result, axes=grid[3, 0])
            trains = [s["t"][s["i"] == j] for s in rec["spikes"].values()
                      for j in range(s["n_neurons"])]
            plotting.plot_isi_histogram(trains, axes=grid[3, 1], bins=40)
        else:
            import textwrap

            for ax in grid[3]:
                ax.set_axis_off()
            grid[3, 0].text(0, 0.5, textwrap.fill(rate_run_note(run_dir.name), 70),
                            ha="left", va="center", transform=grid[3, 0].transAxes)
    if out is not None:
        return save_figure(fig, out, dpi=90)
    return save_figure(fig, run_dir / "panel.png", dpi=90, pdf=True)


def check_figure_path(path):
    """ValueError naming ``path`` when Matplotlib cannot write its suffix."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    suffix = Path(path).suffix
    supported = FigureCanvasAgg(Figure()).get_supported_filetypes()
    if suffix and suffix[1:].lower() not in supported:
        raise ValueError(f"{path}: cannot write a figure as {suffix!r}; supported "
                         f"suffixes: {', '.join('.' + s for s in sorted(supported))}")
    return path


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
    (``compare.csv`` and returned rows: per statistic the Kolmogorov-Smirnov distance,
    the Wasserstein distance and Cohen's d with its 95 % interval,
    `le_brian.ephys.compare_statistics`) and a figure with one panel per statistic
    (empirical CDFs of the simulation and the recording, the three scores in the
    title; `le_brian.plotting.plot_statistic_comparison`) and the PSTHs
    (``compare.png``).

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
    import quantities as pq
    from matplotlib.figure import Figure

    from .. import ephys
    from ..plotting import plot_statistic_comparison
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
    io_, nwb = ephys._nwb_file(sim_file)
    with io_:
        has_units = nwb.units is not None
    if not has_units:
        raise ValueError(f"{sim_file}: {rate_run_note(run_dir)}")
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
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(out / "compare.csv", lambda f: f.write(text.getvalue()), text=True)
    keys = list(dict.fromkeys(r["statistic"] for r in rows))
    with_psth = "psth" in sim or any("psth" in st for st in stats.values())
    n_lines = len(stats)
    fig = Figure(figsize=(3.4 * (len(keys) + with_psth), 3.0 + 0.25 * n_lines),
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(keys) + with_psth))
    for ax, key in zip(axes, keys):
        samples = {"simulation": sim[key], **{f"recording {label}": st[key]
                                              for label, st in stats.items() if key in st}}
        plot_statistic_comparison(samples, key, ephys.STATISTIC_UNITS[key],
                                  scores=[r for r in rows if r["statistic"] == key],
                                  axes=ax)
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
