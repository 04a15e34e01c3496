"""Plot helpers: time axes from Quantities in the unit asked for (never guessed from
plain numbers), learning curves against the recorded epoch."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from brian2 import ms, second  # noqa: E402

from le_brian.plotting import plot_lag, plot_learning_curves, plot_output_trace  # noqa: E402


def test_output_trace_time_axis_in_ms():
    """8 samples of 1 ms at dt = 0.1 ms span 0 to 7.9 ms on an axis labelled ms (the demo
    once drew 0-7900)."""
    t = np.arange(80) * 0.1 * ms
    ax = plot_output_trace(t, np.sin(np.arange(80)), np.zeros(80))
    x = ax.lines[0].get_xdata()
    assert x[0] == 0 and x[-1] == pytest.approx(7.9)
    assert ax.get_xlabel() == "time (ms)"
    ax = plot_output_trace(t, np.zeros(80), time_unit=second)
    assert ax.lines[0].get_xdata()[-1] == pytest.approx(7.9e-3)
    assert ax.get_xlabel() == "time (s)"
    with pytest.raises(TypeError, match="Quantity in units of time"):
        plot_output_trace(np.arange(80) * 0.1, np.zeros(80))
    with pytest.raises(TypeError):
        plot_lag(np.arange(3), {"a": np.zeros(3)})
    plt.close("all")


def test_learning_curves_against_recorded_epoch():
    hist = {"LE": [{"epoch": 0, "test_mse": 1.0}, {"epoch": 1, "test_mse": 0.5},
                   {"epoch": 2, "train_seconds": 1.0}, {"epoch": 3, "test_mse": 0.2}]}
    ax = plot_learning_curves(hist, metric="test_mse")
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [0, 1, 3])
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [1.0, 0.5, 0.2])
    plt.close("all")
