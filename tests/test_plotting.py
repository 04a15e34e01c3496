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


# ------------------------------------------------------------ rasters, states, rates
def _spiking_run():
    import numpy as np
    from brian2 import Hz

    from le_brian import Microcircuit

    net = Microcircuit([9, 6, 3], spiking=True, r_max=1000 * Hz, seed=1, device="runtime",
                       codegen_target="numpy")
    x = np.random.default_rng(0).random((3, 9))
    return net.run(x, 2 * ms, record_spikes=True, record={"pyr1": ["u", "v_B"]})


def test_plot_raster_state_rate_follow_brian2tools():
    """brian2tools' signatures: axes in, axes out; the drawn data equal the input in the
    requested unit; labels carry units; plain numbers for times are refused."""
    import numpy as np
    from brian2 import Hz, mV, second

    from le_brian.plotting import plot_raster, plot_rate, plot_state

    fig, ax = plt.subplots()
    times = np.array([1.0, 2.5, 4.0]) * ms
    assert plot_raster([0, 2, 1], times, axes=ax) is ax
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), [1.0, 2.5, 4.0])
    np.testing.assert_array_equal(line.get_ydata(), [0, 2, 1])
    assert ax.get_xlabel() == "time (ms)" and ax.get_ylabel() == "neuron index"
    with pytest.raises(TypeError, match="Quantity in units of time"):
        plot_raster([0], [1.0])
    with pytest.raises(ValueError, match="same length"):
        plot_raster([0, 1], times)
    ax2 = plot_state(np.arange(3) * ms, np.array([1.0, 2.0, 3.0]) * mV, var_name="v",
                     time_unit=second)
    np.testing.assert_allclose(ax2.lines[0].get_xdata(), [0, 0.001, 0.002])
    np.testing.assert_allclose(ax2.lines[0].get_ydata(), [1, 2, 3])
    assert ax2.get_ylabel() == "v (mV)" and ax2.get_xlabel() == "time (s)"
    ax3 = plot_state(np.arange(3) * ms, np.zeros((3, 2)), var_name="u")
    assert ax3.get_ylabel() == "u (dimensionless)" and len(ax3.lines) == 2
    ax4 = plot_rate(np.arange(3) * ms, np.array([5, 10, 20]) * Hz)
    np.testing.assert_array_equal(ax4.lines[0].get_ydata(), [5, 10, 20])
    assert ax4.get_ylabel() == "rate (Hz)"
    with pytest.raises(TypeError, match="frequency"):
        plot_rate(np.arange(3) * ms, np.ones(3))
    plt.close("all")


def test_population_rate_and_distributions():
    """population_rate: counts / (n_neurons bin) in Hz (4 spikes of 2 neurons in a 1 ms
    bin: 2 kHz); a Gaussian smoothing keeps the total; ISI and rate histograms count."""
    import numpy as np
    from brian2 import Hz

    from le_brian.plotting import plot_isi_histogram, plot_rate_distribution, population_rate

    t, rate = population_rate(np.array([0.1, 0.2, 0.3, 0.4, 2.5]) * ms, 2, 0 * ms, 3 * ms,
                              bin_size=1 * ms)
    np.testing.assert_allclose(np.asarray(t / ms), [0.5, 1.5, 2.5])
    np.testing.assert_allclose(np.asarray(rate / Hz), [2000, 0, 500])
    _, smooth = population_rate(np.arange(0, 100, 0.5) * ms, 1, 0 * ms, 100 * ms,
                                smooth=3 * ms)
    np.testing.assert_allclose(np.asarray(smooth / Hz), 2000, rtol=1e-9)  # edges too
    ax = plot_isi_histogram([np.array([0, 1, 3]) * ms, np.array([0, 2]) * ms], bins=3)
    assert sum(p.get_height() for p in ax.patches) == 3
    assert ax.get_xlabel() == "inter-spike interval (ms)"
    ax = plot_rate_distribution(np.array([1, 2, 3, 10]) * Hz, bins=2)
    assert sum(p.get_height() for p in ax.patches) == 4
    plt.close("all")


def test_population_raster_and_weights_of_a_spiking_run():
    """Every spiking population stacked in network order, one colour each, named on the
    y axis; one dotted line per sample onset (and the end); spikes offset by the sizes
    below. Weights drawn with a symmetric colour scale."""
    import numpy as np

    from le_brian.plotting import POPULATION_COLORS, plot_population_raster, plot_weights

    res = _spiking_run()
    ax = plot_population_raster(res)
    pops = list(res.spikes)
    assert pops == ["pyr1", "int1", "out"]
    sizes = [res.spikes[p]["n_neurons"] for p in pops]
    # the y axis is the neuron index within each population (first and last ticked);
    # the populations are named beside it
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        v for n in sizes for v in ("0", str(n - 1))]
    assert ax.get_ylabel() == "neuron index (within its population)"
    assert [t.get_text() for t in ax.texts] == pops
    spike_lines = [ln for ln in ax.lines if ln.get_marker() == "."]
    assert [ln.get_color() for ln in spike_lines] == list(POPULATION_COLORS[:3])
    np.testing.assert_array_equal(spike_lines[1].get_ydata(), res.spikes["int1"]["i"] + 6)
    onsets = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert len(onsets) == 4
    with pytest.raises(ValueError, match="record_spikes"):
        plot_population_raster(type("R", (), {"spikes": {}})())
    # window=(start, stop): only the spikes and onsets in [start, stop), x limits set
    start = res.t_start + res.presentation_time
    stop = start + res.presentation_time
    ax = plot_population_raster(res, window=(start, stop))
    lo, hi = float(start / ms), float(stop / ms)
    spike_lines = [ln for ln in ax.lines if ln.get_marker() == "."]
    for line, pop in zip(spike_lines, pops):
        t = np.asarray(res.spikes[pop]["t"] / ms)
        np.testing.assert_array_equal(line.get_xdata(), t[(t >= lo) & (t < hi)])
    assert ax.get_xlim() == (lo, hi)
    assert len([ln for ln in ax.lines if ln.get_linestyle() == ":"]) == 2
    with pytest.raises(ValueError, match="start < stop"):
        plot_population_raster(res, window=(stop, start))
    w = np.array([[1.0, -3.0], [0.5, 2.0]])
    ax = plot_weights(w, name="W_up1")
    assert ax.images[0].get_clim() == (-3.0, 3.0)
    plt.close("all")


def test_integer_ticks_and_legends_for_new_users():
    """Epoch axes and weight heatmaps tick integers only (no 0.5 epochs, no neuron
    1.5); several traces get a legend naming each column (or the labels given)."""
    import numpy as np

    from le_brian.plotting import plot_learning_curves, plot_state, plot_weights

    ax = plot_learning_curves({"a": [{"epoch": e, "loss": 1.0 / (e + 1)} for e in range(3)]},
                              metric="loss")
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks)
    ax = plot_weights(np.arange(6.0).reshape(3, 2))
    for axis_ticks, lim in ((ax.get_xticks(), ax.get_xlim()), (ax.get_yticks(), ax.get_ylim())):
        shown = [t for t in axis_ticks if min(lim) <= t <= max(lim)]
        assert shown and all(float(t).is_integer() for t in shown), axis_ticks
    t = np.arange(5) * 0.1 * ms
    ax = plot_state(t, np.ones((5, 3)), var_name="u")
    assert [x.get_text() for x in ax.get_legend().get_texts()] == [
        "neuron 0", "neuron 1", "neuron 2"]
    ax = plot_state(t, np.ones((5, 2)), var_name="u", labels=["class 0", "class 1"])
    assert [x.get_text() for x in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    assert plot_state(t, np.ones(5), var_name="u").get_legend() is None
    with pytest.raises(ValueError, match="labels must name the 2 columns"):
        plot_state(t, np.ones((5, 2)), labels=["a"])
    plt.close("all")
