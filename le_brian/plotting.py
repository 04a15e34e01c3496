"""Plots in the brian2tools style: every function takes ``ax=`` (a new figure when None),
draws, labels the axes with units, and returns the axes. Times are Brian2 Quantities,
drawn in ``time_unit`` (default ms); plain numbers are refused rather than guessed."""

import numpy as np
from brian2 import Quantity, ms, second

__all__ = ["plot_output_trace", "plot_learning_curves", "plot_lag"]


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
