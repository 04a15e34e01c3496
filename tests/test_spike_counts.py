"""Spike counts drawn per unit (``spike_draw='counts'``, docs/model.md §5.5) and the
prospective trace (``prospective_trace``, §5.2): the binomial draw against the binomial
distribution, a constant-rate unit against the closed forms of the dead-time process,
the trace against a NumPy re-implementation of its update, its step response against
the closed form, the same spikes on runtime and cpp_standalone, the memory refusal."""

import json

import numpy as np
import pytest
from brian2 import Hz, ms, second
from scipy import stats

from le_brian import LENetwork, Microcircuit
from le_brian.engine.spiking import spike_seed
from le_brian.equations.spike_counts import le_binomial_numpy
from test_refractory import check_dead_time_statistics  # the dead-time closed forms
from test_spiking import _constant_rate_net  # a layer at a constant rate phi

RT = dict(device="runtime", codegen_target="numpy")
DT = 1e-4


@pytest.mark.parametrize("n, p", [(1000, 0.002), (40, 0.7), (3000, 0.4), (1, 0.3)])
def test_binomial_draw_has_the_binomial_distribution(n, p):
    """40,000 draws: mean and variance of Binomial(n, p) within 5 standard errors, and
    the histogram passes a chi-square test against the pmf (cells with >= 5 expected).
    (3000, 0.4) takes several chunks (-m log(1 - q) <= 500), (40, 0.7) the complement."""
    c = le_binomial_numpy(11, np.arange(40_000), 7, n, p)
    assert np.all(c == np.round(c)) and c.min() >= 0 and c.max() <= n
    mean, var = n * p, n * p * (1 - p)
    assert abs(c.mean() - mean) < 5 * np.sqrt(var / len(c))
    assert abs(c.var() - var) < 5 * var * np.sqrt(2 / len(c)) + 1e-12
    k = np.arange(n + 1)
    expected = stats.binom.pmf(k, n, p) * len(c)
    keep = expected >= 5
    observed = np.bincount(c.astype(int), minlength=n + 1)
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    obs, exp = obs[exp > 0], exp[exp > 0]
    assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-4


def test_binomial_draw_edges():
    """p <= 0 or n = 0: no spike; p >= 1: all n; n rounds to the nearest integer."""
    out = le_binomial_numpy(1, 2, np.arange(6), [5, 0, 5, 5, 4.6, 3],
                            [0.5, 0.5, 0.0, 1.0, 1.5, -0.1])
    assert out[1] == 0 and out[2] == 0 and out[3] == 5 and out[4] == 5 and out[5] == 0


def test_counted_unit_matches_the_dead_time_closed_forms():
    """As test_refractory's constant-rate test, with the count drawn per unit: phi 0.5,
    r_max 400 Hz, t_ref 2 ms, 50 units x 10 neurons, 0.4 s. Rate p'/(1 + n_ref p')/dt =
    200 Hz, no ISI below t_ref + dt, P(ISI = t_ref + dt) = p', ISI CV sqrt(1 - p')(1 -
    n_ref p) = 0.590; the units' counts (``spike_counts``) equal the spikes recorded."""
    phi, r_max, n_ref, n_units, n_per_unit, T = 0.5, 400.0, 20, 50, 10, 0.4
    net = _constant_rate_net(phi, n_units, n_per_unit=n_per_unit, r_max=r_max * Hz,
                             t_ref=2 * ms, spike_draw="counts", **RT)
    res = net.run(np.zeros((1, 1)), T * second, learn=False, record_spikes=True)
    s = res.spikes["layer1"]
    n = s["n_neurons"]
    assert n == n_units * n_per_unit and s["i"].max() < n
    np.testing.assert_array_equal(np.bincount(s["unit"], minlength=n_units),
                                  res.spike_counts["layer1"])
    check_dead_time_statistics(s, phi, r_max, n_ref, T)


def test_trace_equals_a_numpy_reimplementation_and_xp_has_no_lag():
    """A counted unit's trace x and prospective trace xp, recorded every step, equal the
    update written out in NumPy from the same binomial counts (le_binomial_numpy with the
    run's seed): c_k ~ Binomial(n, r_max phi dt), x_k = (1 - dt/tau_s) x_{k-1} +
    c_k/(n r_max tau_s), xp_k = x_k - x_{k-1} + c_k/(n r_max dt). Then a step of phi from
    0.2 to 0.8 (second run): averaged over 400 units, x follows the closed form
    0.8 - 0.6 (1 - dt/tau_s)^(k+1) while xp is within 0.6 dt/tau_s of 0.8 from the step's
    first update (its closed form 0.8 + 0.6 (dt/tau_s) (1 - dt/tau_s)^k)."""
    n_units, n, r_max, tau_s = 400, 500, 200.0, 2e-3
    net = _constant_rate_net(0.2, n_units, n_per_unit=n, r_max=r_max * Hz,
                             tau_s=tau_s * ms * 1e3, spike_draw="counts",
                             prospective_trace=True, **RT)
    net.reset_state()
    net.set_state({"layer1": {"u": np.full(n_units, 0.2), "x": np.full(n_units, 0.2)}})
    res = net.run(np.zeros((1, 1)), 5 * ms, learn=False, record={1: ["x", "xp", "r"]})
    x_rec, xp_rec = res.states["layer1"]["x"], res.states["layer1"]["xp"]
    seed = spike_seed(3, 0, "layer1")
    x = np.full(n_units, 0.2)
    for k in range(x_rec.shape[0]):
        c = le_binomial_numpy(seed, k, np.arange(n_units), n, r_max * 0.2 * DT)
        x_new = (1 - DT / tau_s) * x + c / (n * r_max * tau_s)
        np.testing.assert_allclose(x_rec[k], x_new, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(xp_rec[k], x_new - x + c / (n * r_max * DT), atol=1e-9)
        x = x_new
    # the step
    net.set_parameters(biases=[np.full(n_units, 0.8), np.zeros(1)])
    net.set_state({"layer1": {"u": np.full(n_units, 0.8), "x": np.full(n_units, 0.2)}})
    res = net.run(np.zeros((1, 1)), 3 * ms, learn=False, record={1: ["x", "xp"]})
    mx = res.states["layer1"]["x"].mean(axis=1)
    mxp = res.states["layer1"]["xp"].mean(axis=1)
    k = np.arange(len(mx))
    a = 1 - DT / tau_s
    closed = 0.8 - 0.6 * a ** (k + 1)
    # E[xp_k] = phi + E[x_k] - E[x_{k-1}] = 0.8 + 0.6 (1 - a) a^k: within dt/tau_s of the
    # new rate from the first step
    closed_p = 0.8 + 0.6 * (1 - a) * a ** k
    # SD of a mean over 400 units: x ~ sqrt(0.8/(n r_max tau_s 2)/400) = 0.0032, xp (one
    # step of spikes) ~ sqrt(0.8/(n r_max dt)/400) = 0.014
    assert np.max(np.abs(mx - closed)) < 5 * 0.0032
    assert np.max(np.abs(mxp - closed_p)) < 5 * 0.014
    assert abs(np.mean(mxp - closed_p)) < 5 * 0.014 / np.sqrt(len(mxp))
    assert closed[0] < 0.3 and mx[:5].max() < 0.5  # x lags by ~tau_s, xp does not
    assert mxp[:5].min() > 0.7


def test_rate_limit_holds_at_low_r_max_with_many_neurons():
    """The same budget n_per_unit r_max = 20 kHz as 1 x 20 kHz (p = r_max phi dt = 0.6)
    and 2000 x 10 Hz (p = 0.0003): the trace's mean is phi in both and its variance
    phi (1 - p) / (n r_max tau_s (2 - dt/tau_s)) (a Bernoulli neuron's (1 - p)): 200 units
    x 0.15 s (a sample every 2 ms, two trace times) each, within 15 %; many slow neurons
    deviate from
    the rate model no more than few fast ones."""
    phi, tau_s = 0.3, 1e-3
    for n, r_max in ((1, 20000.0), (2000, 10.0)):
        net = _constant_rate_net(phi, 200, n_per_unit=n, r_max=r_max * Hz,
                                 tau_s=1 * ms, spike_draw="counts", **RT)
        res = net.run(np.zeros((1, 1)), 150 * ms, learn=False, record={1: ["x"]},
                      record_every=2 * ms)
        x = res.states["layer1"]["x"][5:]
        p = r_max * phi * DT
        var = phi * (1 - p) / (n * r_max * tau_s * (2 - DT / tau_s))
        assert abs(x.mean() - phi) < 5 * np.sqrt(var / x.size * 2)
        assert x.var() == pytest.approx(var, rel=0.15)


def test_counts_memory_is_estimated_without_brian2_neurons(monkeypatch):
    """n_per_unit = 10**9 on 36 units is 3.6e10 neurons: refused with the estimate
    (16 bytes per counted neuron: 536.4 GiB) under a 64G limit, before building."""
    monkeypatch.setenv("LE_BRIAN_MAX_MEMORY", "64G")
    with pytest.raises(ValueError, match=r"n_per_unit = 1000000000 on 36 units .*neurons "
                       r"drawn as unit counts\) needs about 536\.4 GiB"):
        Microcircuit([9, 30, 3], spiking=True, n_per_unit=10**9, r_max=10 * Hz,
                     spike_draw="counts", **RT)
    Microcircuit([9, 30, 3], spiking=True, n_per_unit=10**7, r_max=10 * Hz,
                 spike_draw="counts", **RT)  # 5.4 GiB: allowed


def test_bad_spike_draw_is_refused():
    with pytest.raises(ValueError, match="spike_draw must be one of"):
        LENetwork([2, 3, 1], spiking=True, spike_draw="poisson", **RT)
    with pytest.raises(TypeError, match="parameter prospective_trace must be true or false, "
                       "got .yes."):
        LENetwork([2, 3, 1], spiking=True, prospective_trace="yes", **RT)


def test_counted_dead_time_is_state_that_a_restored_network_continues():
    """get_state carries the units' dead-time ring (``ref_counts``, (n_ref, units)): a
    network given it, the parameters and the history draws the second run's counts of
    the uninterrupted network."""
    make = dict(n_per_unit=50, r_max=300 * Hz, t_ref=1 * ms, spike_draw="counts", **RT)
    a = _constant_rate_net(0.6, 10, **make)
    a.run(np.zeros((1, 1)), 4 * ms, learn=False)
    state = a.get_state()
    assert state["layer1"]["ref_counts"].shape == (10, 10)
    assert state["layer1"]["ref_counts"].sum() > 0
    b = _constant_rate_net(0.6, 10, **make)
    b.set_state(state)
    b.restore_history(a.run_index, a.t)
    ra = a.run(np.zeros((1, 1)), 4 * ms, learn=False)
    rb = b.run(np.zeros((1, 1)), 4 * ms, learn=False)
    np.testing.assert_array_equal(ra.spike_counts["layer1"], rb.spike_counts["layer1"])
    with pytest.raises(ValueError, match=r"ref_counts'\] must hold whole numbers"):
        b.set_state({"layer1": {"ref_counts": np.full((10, 10), 0.5)}})


@pytest.mark.standalone
def test_same_counts_on_runtime_and_standalone():
    """A counting LENetwork (t_ref) and Microcircuit (prospective trace, max_rate): the same spikes
    (neuron and time) and traces on runtime (numpy) and cpp_standalone over two runs."""
    x = np.random.default_rng(0).random((3, 4))
    runs = {}
    for dev in ("runtime", "cpp_standalone"):
        net = LENetwork([4, 6, 3], activation="sigmoid", output_activation="sigmoid",
                        spiking=True, n_per_unit=300, r_max=80 * Hz, t_ref=2 * ms, seed=5,
                        spike_draw="counts", device=dev, codegen_target="numpy")
        runs[dev] = [net.run(x, 5 * ms, learn=False, record_spikes=True) for _ in range(2)]
        mc = Microcircuit([4, 5, 3], spiking=True, n_per_unit=400, r_max=50 * Hz,
                          spike_draw="counts", prospective_trace=True, max_rate=60 * Hz,
                          seed=2, device=dev, codegen_target="numpy")
        runs[dev].append(mc.run(x, 10 * ms, record_spikes=["pyr1", "out"],
                                record={"pyr1": ["xp"]}))
    for a, b in zip(runs["runtime"], runs["cpp_standalone"]):
        assert sum(len(s["i"]) for s in a.spikes.values()) > 20
        for pop in a.spikes:
            np.testing.assert_array_equal(a.spikes[pop]["i"], b.spikes[pop]["i"])
            np.testing.assert_allclose(np.asarray(a.spikes[pop]["t"]),
                                       np.asarray(b.spikes[pop]["t"]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(runs["runtime"][2].states["pyr1"]["xp"],
                               runs["cpp_standalone"][2].states["pyr1"]["xp"], atol=1e-12)


def test_cortical_preset_trains_from_the_command_line(tmp_path):
    """``le-brian train --model microcircuit_bars_cortical`` (1000 neurons per unit at
    20 Hz phi, t_ref 2 ms, tau_s 1 ms, counts drawn per unit) writes the preset's values
    into the run's config and the units' dead-time rings (20 steps x units, at most 1000
    spikes) into its checkpoint."""
    from le_brian.cli import main
    from le_brian.models.microcircuit_bars_cortical import (CORTICAL, ETA_SCALE, LR_DECAY,
                                                            LR_DECAY_EVERY)

    run = tmp_path / "run"
    assert main(["train", "--model", "microcircuit_bars_cortical", "--epochs", "1",
                 "--set", "presentation_time=2ms", "--device", "runtime",
                 "--codegen-target", "numpy", "--out", str(run)]) == 0
    config = (run / "config.json").read_text()
    r_max, tau_s = float(CORTICAL["r_max"] / Hz), float(CORTICAL["tau_s"] / ms)
    for text in ('"n_per_unit": 1000', f'"r_max": "{r_max:g} Hz"', '"t_ref": "2 ms"',
                 f'"tau_s": "{tau_s:g} ms"', '"spike_draw": "counts"',
                 f'"lr_decay": {LR_DECAY!r}', f'"lr_decay_every": {LR_DECAY_EVERY}'):
        assert text in config
    # 3 x the bars rates at T = 10 ms
    eta_up = json.loads(config)["parameters"]["learning"]["eta_up"]
    assert [float(e.split()[0]) for e in eta_up] == pytest.approx([ETA_SCALE * 0.05,
                                                                   ETA_SCALE * 0.01])
    with np.load(run / "checkpoint.npz") as f:
        ring = f["state/pyr1/ref_counts"]
        assert ring.shape == (20, 30) and ring.sum() > 0 and ring.sum(axis=0).max() <= 1000


@pytest.mark.parametrize("draw", ["neurons", "counts"])
def test_max_rate_caps_every_neuron(draw):
    """phi 0.9 at r_max 400 Hz with max_rate 200 Hz and t_ref 1 ms: every neuron fires at
    min(r_max phi, max_rate) = 200 Hz (50 units x 10 neurons, 0.1 s: 10,000 spikes, 4 SD
    of a dead-time count with CV 0.8), the trace's mean is max_rate / r_max = 0.5, the
    peak rate reported is 200 Hz, no ISI below t_ref + dt; without the cap 360 Hz."""
    make = dict(n_per_unit=10, r_max=400 * Hz, t_ref=1 * ms, spike_draw=draw, **RT)
    net = _constant_rate_net(0.9, 50, max_rate=200 * Hz, **make)
    res = net.run(np.zeros((1, 1)), 100 * ms, learn=False, record={1: ["x"]},
                  record_spikes=True)
    n = res.spike_counts["layer1"].sum()
    assert abs(n - 10_000) < 4 * 0.8 * np.sqrt(10_000)
    assert res.states["layer1"]["x"][50:].mean() == pytest.approx(0.5, abs=0.01)
    np.testing.assert_allclose(np.asarray(res.peak_rates["layer1"] / Hz), 200.0)
    s = res.spikes["layer1"]
    t = np.asarray(s["t"] / second)
    isi = np.concatenate([np.diff(np.sort(t[s["i"] == k])) for k in range(0, 500, 7)])
    assert isi.min() >= 1.1e-3 - 1e-9
    free = _constant_rate_net(0.9, 50, **make).run(np.zeros((1, 1)), 100 * ms, learn=False)
    assert abs(free.spike_counts["layer1"].sum() - 18_000) < 4 * 0.7 * np.sqrt(18_000)
    with pytest.raises(ValueError, match="parameter max_rate must be a value in Hz > 0 Hz"):
        _constant_rate_net(0.9, 5, max_rate=0 * Hz, **make)
