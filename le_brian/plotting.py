"""Plots in the brian2tools style: every function takes ``ax=`` (a new figure when None),
draws, labels the axes with units, and returns the axes."""

import numpy as np

__all__ = ["plot_output_trace", "plot_learning_curves", "plot_lag"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _ms(t):
    """Times as float milliseconds (accepts Quantities or seconds)."""
    return np.asarray(t / 1e-3 if not hasattr(t, "dim") else np.asarray(t) * 1e3, dtype=float)


def plot_output_trace(t, output, target=None, ax=None, label="output", color=None, unit="1",
                      **kwargs):
    """Output (and target) against time.

    Parameters
    ----------
    t : Quantity or array (s)
        Times, shape (n,).
    output : array (n,) or (n, k)
    target : array (n,) or (n, k), optional
        Drawn dashed in black.
    """
    ax = _axes(ax)
    tm = _ms(t)
    lines = ax.plot(tm, output, label=label, color=color, **kwargs)
    if target is not None:
        ax.plot(tm, target, "k--", lw=1, label="target")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"output ({unit})" if unit != "1" else "output (dimensionless)")
    if lines and label:
        ax.legend(loc="best", fontsize="small")
    return ax


def plot_learning_curves(histories, metric="test_mse", ax=None, ylabel=None, logy=False):
    """Learning curves, one line per entry of ``histories`` (``name -> list of dicts``
    with key ``metric`` per epoch)."""
    ax = _axes(ax)
    for name, hist in histories.items():
        values = [h[metric] for h in hist]
        ax.plot(np.arange(1, len(values) + 1), values, "o-", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel or metric.replace("_", " "))
    if logy:
        ax.set_yscale("log")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_lag(t, outputs, ax=None):
    """Step responses (``name -> (n,) array``) against time, to show the lag."""
    ax = _axes(ax)
    for name, y in outputs.items():
        ax.plot(_ms(t), y, label=name)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("output (dimensionless)")
    ax.legend(loc="best", fontsize="small")
    return ax
