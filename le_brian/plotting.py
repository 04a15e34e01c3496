"""Plots in the brian2tools style: every function takes the axes to draw on (``axes=``
with brian2tools' signatures, ``ax=`` for le_brian's older line plots; a new figure when
None), draws, labels the axes with units, and returns the axes. Times are Brian2
Quantities, drawn in ``time_unit`` (default ms); plain numbers are refused rather than
guessed.

Spikes and states (signatures of brian2tools, which does not install here):

* `plot_raster` ``(indices, times, time_unit=ms, axes=None, **kwds)``
* `plot_state`
  ``(times, values, time_unit=ms, var_unit=None, var_name=None, axes=None, **kwds)``
* `plot_rate` ``(times, rate, time_unit=ms, rate_unit=Hz, axes=None, **kwds)``
* `plot_population_raster` (result): every spiking population of a run, coloured by
  population, sample boundaries marked
* `plot_isi_histogram`, `plot_rate_distribution`, `plot_weights`, `population_rate`
* `plot_statistic_comparison` (samples, statistic, unit): distributions of one spike
  statistic, simulation vs recording(s), as ECDFs or histograms, with the scores of
  `le_brian.ephys.compare_statistics` in the title
"""

import numpy as np
from brian2 import Hz, Quantity, ms, second

__all__ = ["plot_output_trace", "plot_learning_curves", "plot_lag", "plot_raster", "plot_state",
           "plot_rate", "plot_population_raster", "plot_isi_histogram",
           "plot_rate_distribution", "plot_weights", "population_rate",
           "plot_statistic_comparison"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _in_unit(t, time_unit):
    """Times (a Quantity) as floats in ``time_unit``; plain numbers raise TypeError."""
    if not isinstance(t, Quantity) or t.dim != second.dim:
        raise TypeError(f"times must be a Quantity in units of time (e.g. t*ms), got "
                        f"{type(t).__name__}")
    return np.asarray(t / time_unit, dtype=float)


def _unit_name(time_unit):
    return str(time_unit.in_best_unit()).split()[-1] if float(time_unit / second) != 1 \
        else "s"


def plot_output_trace(t, output, target=None, ax=None, label="output", color=None, unit="1",
                      time_unit=ms, **kwargs):
    """Output (and target) against time.

    Parameters
    ----------
    t : Quantity
        Times, shape (n,).
    output : array (n,) or (n, k)
    target : array (n,) or (n, k), optional
        Drawn dashed in black.
    time_unit : Quantity
        Unit of the time axis (default ms).

    Raises
    ------
    TypeError
        If ``t`` is not a time Quantity.
    """
    tm = _in_unit(t, time_unit)
    ax = _axes(ax)
    lines = ax.plot(tm, output, label=label, color=color, **kwargs)
    if target is not None:
        ax.plot(tm, target, "k--", lw=1, label="target")
    ax.set_xlabel(f"time ({_unit_name(time_unit)})")
    ax.set_ylabel(f"output ({unit})" if unit != "1" else "output (dimensionless)")
    if lines and label:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_learning_curves(histories, metric="test_mse", ax=None, ylabel=None, logy=False):
    """Learning curves, one line per entry of ``histories`` (``name -> list of dicts``
    with key ``metric`` per epoch), drawn against each entry's ``epoch`` (0 = before
    training); entries without the metric are skipped."""
    ax = _axes(ax)
    for name, hist in histories.items():
        rows = [h for h in hist if metric in h]
        epochs = [h.get("epoch", k + 1) for k, h in enumerate(rows)]
        ax.plot(epochs, [h[metric] for h in rows], "o-", label=name)
    ax.set_xlabel("epoch")
    _integer_ticks(ax.xaxis)
    ax.set_ylabel(ylabel or metric.replace("_", " "))
    if logy:
        ax.set_yscale("log")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_lag(t, outputs, ax=None, time_unit=ms):
    """Step responses (``name -> (n,) array``) against time (a Quantity), to show the lag."""
    tm = _in_unit(t, time_unit)
    ax = _axes(ax)
    for name, y in outputs.items():
        ax.plot(tm, y, label=name)
    ax.set_xlabel(f"time ({_unit_name(time_unit)})")
    ax.set_ylabel("output (dimensionless)")
    ax.legend(loc="best", fontsize="small")
    return ax


def _integer_ticks(axis):
    """Ticks of ``axis`` only at integers (epochs, neuron indices)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


#: Largest number of lines `plot_state` labels in a legend.
MAX_LEGEND_LINES = 12


def _check_quantity(name, value, unit, what):
    if not isinstance(value, Quantity) or value.dim != unit.dim:
        raise TypeError(f"{name} must be a Quantity in units of {what}, got "
                        f"{type(value).__name__}")


def _unit_label(unit, fallback):
    if unit is None:
        return fallback
    return str(unit.in_best_unit()).split()[-1] if float(unit) != 1 else fallback


def plot_raster(indices, times, time_unit=ms, axes=None, **kwds):
    """Spikes as dots: neuron index against spike time (brian2tools' signature).

    Parameters
    ----------
    indices : array of int
        Neuron index of every spike.
    times : Quantity
        Spike times (same length).
    time_unit : Quantity
        Unit of the time axis.
    axes : matplotlib.axes.Axes, optional
    **kwds
        Passed to ``axes.plot`` (default black dots).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        If ``times`` is not a time Quantity. ValueError if the lengths differ.
    """
    tm = _in_unit(times, time_unit)
    indices = np.asarray(indices)
    if indices.shape != tm.shape:
        raise ValueError(f"indices and times must have the same length, got "
                         f"{indices.shape} and {tm.shape}")
    axes = _axes(axes)
    style = dict(marker=".", ls="", color="k", markersize=2)
    style.update(kwds)
    axes.plot(tm, indices, **style)
    axes.set_xlabel(f"time ({_unit_name(time_unit)})")
    axes.set_ylabel("neuron index")
    return axes


def plot_state(times, values, time_unit=ms, var_unit=None, var_name=None, axes=None,
               labels=None, **kwds):
    """A state variable against time (brian2tools' signature); ``values`` (n,) or
    (n, k), a Quantity or dimensionless numbers (le_brian's potentials and rates).

    Several columns get a legend (at most `MAX_LEGEND_LINES`): ``labels`` (one per
    column), default ``'neuron j'``; a ``label=`` keyword labels a single line."""
    tm = _in_unit(times, time_unit)
    if isinstance(values, Quantity) and not values.is_dimensionless:
        if var_unit is None:
            var_unit = values.get_best_unit()
        y = np.asarray(values / var_unit, dtype=float)
        unit_text = _unit_label(var_unit, str(values.dim))
    else:
        y = np.asarray(values, dtype=float)
        unit_text = "dimensionless" if var_unit is None else _unit_label(var_unit, "1")
    if y.shape[0] != tm.shape[0]:
        raise ValueError(f"values must have one row per time ({tm.shape[0]}), got {y.shape}")
    axes = _axes(axes)
    lines = axes.plot(tm, y, **kwds)
    columns = y.shape[1] if y.ndim == 2 else 1
    if labels is not None and len(labels) != columns:
        raise ValueError(f"labels must name the {columns} columns of values, got "
                         f"{len(labels)}")
    if "label" not in kwds and columns > 1 and columns <= MAX_LEGEND_LINES:
        for line, text in zip(lines, labels if labels is not None else
                              [f"neuron {j}" for j in range(columns)]):
            line.set_label(text)
        axes.legend(loc="best", fontsize="small", ncol=min(columns, 5))
    axes.set_xlabel(f"time ({_unit_name(time_unit)})")
    axes.set_ylabel(f"{var_name or 'value'} ({unit_text})")
    return axes


def plot_rate(times, rate, time_unit=ms, rate_unit=Hz, axes=None, **kwds):
    """A (population) rate against time (brian2tools' signature); ``rate`` in Hz."""
    tm = _in_unit(times, time_unit)
    _check_quantity("rate", rate, Hz, "frequency (e.g. r*Hz)")
    axes = _axes(axes)
    axes.plot(tm, np.asarray(rate / rate_unit, dtype=float), **kwds)
    axes.set_xlabel(f"time ({_unit_name(time_unit)})")
    axes.set_ylabel(f"rate ({_unit_label(rate_unit, 'Hz')})")
    return axes


def population_rate(times, n_neurons, t_start, t_stop, bin_size=1 * ms, smooth=None):
    r"""Population rate of spikes ``times`` of ``n_neurons`` neurons in bins of
    ``bin_size``, optionally smoothed by a Gaussian of width ``smooth`` (normalised by the
    kernel's mass inside [t_start, t_stop], so the edges do not dip); Quantities in,
    Quantities out: ``(bin centres, rate in Hz)``, rate = count / (n_neurons bin_size).
    """
    for name, v in (("times", times), ("t_start", t_start), ("t_stop", t_stop),
                    ("bin_size", bin_size)):
        _check_quantity(name, v, second, "time")
    if not (isinstance(n_neurons, (int, np.integer)) and n_neurons > 0):
        raise ValueError(f"n_neurons must be a positive int, got {n_neurons!r}")
    width = float(bin_size / second)
    edges = np.arange(float(t_start / second), float(t_stop / second) + width / 2, width)
    counts = np.histogram(np.asarray(times / second), bins=edges)[0].astype(float)
    rate = counts / (n_neurons * width)
    if smooth is not None:
        _check_quantity("smooth", smooth, second, "time")
        sigma = float(smooth / second) / width
        k = np.arange(-int(4 * sigma) - 1, int(4 * sigma) + 2)
        kernel = np.exp(-0.5 * (k / sigma) ** 2)
        # normalised by the kernel's part inside the window: no dip at the edges
        rate = (np.convolve(rate, kernel, mode="same")
                / np.convolve(np.ones_like(rate), kernel, mode="same"))
    return (edges[:-1] + width / 2) * second, rate * Hz


POPULATION_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple",
                     "tab:brown", "tab:pink", "tab:olive")


def plot_population_raster(result, populations=None, time_unit=ms, axes=None,
                           sample_boundaries=True, window=None, **kwds):
    """Raster of every spiking population of a run (``result.spikes``), stacked bottom
    to top in network order and coloured by population: the y axis is the neuron index
    within each population (ticks at its first and last neuron where it takes at least
    12 % of the axis), the populations' names are written beside it on the right, the
    sample (pattern) onsets are vertical lines. ``window`` (start, stop), two times,
    draws only the spikes and onsets in [start, stop).

    Raises
    ------
    ValueError
        If the run recorded no spikes (``record_spikes=``), or ``window`` is not two
        increasing times."""
    if not getattr(result, "spikes", None):
        raise ValueError("the run holds no spikes: run a spiking network with "
                         "record_spikes=True")
    lo, hi = -np.inf, np.inf
    if window is not None:
        if len(window) != 2:
            raise ValueError(f"window must be (start, stop), two times, got {window!r}")
        lo, hi = (float(_in_unit(w, time_unit)) for w in window)
        if not hi > lo:
            raise ValueError(f"window must have start < stop, got {window!r}")
    populations = list(result.spikes) if populations is None else list(populations)
    axes = _axes(axes)
    offset, ticks, names = 0, {}, []
    for k, pop in enumerate(populations):
        s = result.spikes[pop]
        color = POPULATION_COLORS[k % len(POPULATION_COLORS)]
        t = _in_unit(s["t"], time_unit)
        keep = (t >= lo) & (t < hi)
        plot_raster(np.asarray(s["i"])[keep] + offset, t[keep] * time_unit,
                    time_unit=time_unit, axes=axes, color=color, **kwds)
        ticks[offset] = (s["n_neurons"], "0")
        ticks[offset + s["n_neurons"] - 1] = (s["n_neurons"], str(s["n_neurons"] - 1))
        names.append((offset + (s["n_neurons"] - 1) / 2, pop, color))
        offset += s["n_neurons"]
        axes.axhline(offset - 0.5, color="0.8", lw=0.5)
    # tick a population's first and last index where it has room (>= 12% of the axis)
    shown = {y: text for y, (n, text) in ticks.items() if n >= 0.12 * offset}
    axes.set_yticks(list(shown), list(shown.values()))
    axes.set_ylabel("neuron index (within its population)")
    side = axes.get_yaxis_transform()  # x in axes coordinates, y in data
    for y, pop, color in names:
        axes.text(1.005, y, pop, transform=side, color=color, ha="left", va="center",
                  fontsize="small")
    axes.set_ylim(-0.5, offset - 0.5)
    if sample_boundaries:
        T = float(result.presentation_time / time_unit)
        t0 = float(result.t_start / time_unit)
        for n in range(result.n_samples + 1):
            if lo <= t0 + n * T <= hi:
                axes.axvline(t0 + n * T, color="k", lw=0.8, ls=":", zorder=3)
    if window is not None:
        axes.set_xlim(lo, hi)
    return axes


def plot_isi_histogram(trains, bins=50, time_unit=ms, axes=None, **kwds):
    """Histogram of the inter-spike intervals of ``trains`` (an iterable of spike-time
    Quantities, one per neuron), in ``time_unit``."""
    isis = [np.diff(np.sort(_in_unit(t, time_unit))) for t in trains]
    isis = np.concatenate(isis) if isis else np.zeros(0)
    axes = _axes(axes)
    axes.hist(isis, bins=bins, **kwds)
    axes.set_xlabel(f"inter-spike interval ({_unit_name(time_unit)})")
    axes.set_ylabel("count")
    return axes


def plot_rate_distribution(rates, bins=30, rate_unit=Hz, axes=None, **kwds):
    """Histogram of firing rates (a Quantity in Hz, one per neuron)."""
    _check_quantity("rates", rates, Hz, "frequency")
    axes = _axes(axes)
    axes.hist(np.asarray(rates / rate_unit, dtype=float), bins=bins, **kwds)
    axes.set_xlabel(f"firing rate ({_unit_label(rate_unit, 'Hz')})")
    axes.set_ylabel("neurons")
    return axes


def plot_weights(weights, name="W", axes=None, cmap="RdBu_r", **kwds):
    """A weight matrix (n_post, n_pre) as an image, symmetric colour scale, colour bar."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2:
        raise ValueError(f"weights must be a 2D (n_post, n_pre) array, got shape {w.shape}")
    axes = _axes(axes)
    bound = float(np.abs(w).max()) or 1.0
    image = axes.imshow(w, cmap=cmap, vmin=-bound, vmax=bound, aspect="auto",
                        interpolation="nearest", **kwds)
    axes.figure.colorbar(image, ax=axes, label=f"{name} (dimensionless)")
    axes.set_xlabel("presynaptic neuron")
    axes.set_ylabel("postsynaptic neuron")
    _integer_ticks(axes.xaxis)
    _integer_ticks(axes.yaxis)
    return axes


def plot_statistic_comparison(samples, statistic, unit="1", scores=None, kind="ecdf",
                              axes=None, **kwds):
    """Distributions of one spike statistic (e.g. firing rate, ISI CV) of a simulation
    and of one or more recordings, overlaid.

    Parameters
    ----------
    samples : dict
        ``label -> values`` (1D arrays, one value per train or pair; NaN left out), the
        first entry drawn first (e.g. ``{'simulation': ..., 'recording': ...}``).
    statistic : str
        Its name, for the x label.
    unit : str
        Its unit (``'1'``: dimensionless), for the x label.
    scores : list of dict, optional
        Rows of `le_brian.ephys.compare_statistics` for this statistic (with an optional
        ``recording_group``): one title line each with the KS distance, the Wasserstein
        distance (in ``unit``) and Cohen's d with its 95 % interval.
    kind : {'ecdf', 'hist'}
        Empirical CDFs (steps; y: fraction of values <= x) or density histograms
        (20 bins).
    axes : matplotlib.axes.Axes, optional
    **kwds
        Passed to ``axes.step`` / ``axes.hist``.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        An unknown ``kind``, or no finite value in any sample.
    """
    if kind not in ("ecdf", "hist"):
        raise ValueError(f"kind must be 'ecdf' or 'hist', got {kind!r}")
    finite = {k: np.asarray(v, dtype=float)[np.isfinite(np.asarray(v, dtype=float))]
              for k, v in samples.items()}
    if not any(len(v) for v in finite.values()):
        raise ValueError(f"plot_statistic_comparison: no finite value of {statistic}")
    axes = _axes(axes)
    unit_text = "dimensionless" if unit in ("1", "") else unit
    if kind == "hist":
        shown = {k: v for k, v in finite.items() if len(v)}
        axes.hist(list(shown.values()), bins=20, density=True, histtype="step",
                  label=list(shown), **kwds)
        axes.set_ylabel(f"density (1/{unit})" if unit_text != "dimensionless"
                        else "density")
    else:
        for label, v in finite.items():
            if len(v):
                x = np.sort(v)
                axes.step(np.concatenate([[x[0]], x]),
                          np.arange(len(x) + 1) / len(x), where="post", label=label, **kwds)
        axes.set_ylabel("fraction of values <= x")
        axes.set_ylim(0, 1.02)
    axes.set_xlabel(f"{statistic} ({unit_text})")
    lines = []
    for row in scores or ():
        group = row.get("recording_group")
        w_unit = "" if unit_text == "dimensionless" else f" {unit}"
        lines.append(f"{group + ': ' if group else ''}KS {row['ks_distance']:.2f}, "
                     f"W {row['wasserstein']:.3g}{w_unit}, d {row['cohens_d']:.2f} "
                     f"[{row['cohens_d_low']:.2f}, {row['cohens_d_high']:.2f}]")
    if lines:
        axes.set_title("\n".join(lines), fontsize="small")
    axes.legend(loc="best", fontsize="x-small")
    return axes
