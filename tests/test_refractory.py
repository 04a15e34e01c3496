"""Refractoriness of the spiking view (docs/model.md §5.4): a dead time of n_ref steps
after every spike with the per-step probability compensated, p' = p / (1 - n_ref p), so
that the mean rate stays r_max phi. Checked against a NumPy re-implementation drawing
the same counter-based numbers (spike for spike, across runs), against the closed forms
of a discrete dead-time process (rate, ISI CV), and on cpp_standalone."""

import numpy as np
import pytest
from brian2 import Hz, ms, second

from le_brian import LENetwork, Microcircuit
from le_brian.engine.spiking import spike_seed
from le_brian.equations.spiking import le_uniform_numpy
from test_spiking import _constant_rate_net  # a layer at a constant rate phi

RT = dict(device="runtime", codegen_target="numpy")
DT = 1e-4  # the networks' default time step in seconds


def _reference(seed, n_steps, n_neurons, phi, r_max, n_ref, ref_left):
    """(step, neuron) of every spike of one run, written out independently: in every step
    a dead neuron counts down; a free one fires where U (1 - n_ref p) < p."""
    p = r_max * phi * DT
    steps, neurons = [], []
    for k in range(n_steps):
        ref_left = ref_left - (ref_left > 0)
        u = le_uniform_numpy(seed, k, np.arange(n_neurons))
        fire = (ref_left == 0) & (u * (1 - n_ref * p) < p)
        ref_left = np.where(fire, n_ref + 1, ref_left)
        steps += [k] * int(fire.sum())
        neurons += list(np.flatnonzero(fire))
    return np.array(steps), np.array(neurons), ref_left


def test_spikes_equal_an_independent_reference_across_runs():
    """Two runs of 30 ms (phi 0.5, r_max 400 Hz, t_ref 2 ms = 20 steps, 6 neurons): every
    spike (step and neuron) equals the NumPy reference, whose dead time continues from
    the first run into the second."""
    phi, r_max, n_ref = 0.5, 400.0, 20
    net = _constant_rate_net(phi, 3, n_per_unit=2, r_max=r_max * Hz, t_ref=2 * ms, **RT)
    ref_left = np.zeros(6, dtype=int)
    t0 = 0.0
    for run in range(2):
        res = net.run(np.zeros((1, 1)), 30 * ms, learn=False, record_spikes=True)
        s = res.spikes["layer1"]
        steps, neurons, ref_left = _reference(spike_seed(3, run, "layer1"), 300, 6, phi,
                                              r_max, n_ref, ref_left)
        got_steps = np.rint((np.asarray(s["t"] / second) - t0) / DT).astype(int)
        order = np.lexsort((s["i"], got_steps))
        np.testing.assert_array_equal(got_steps[order], steps)
        np.testing.assert_array_equal(np.asarray(s["i"])[order], neurons)
        assert len(steps) > 5
        t0 += 0.03


def test_constant_rate_unit_matches_the_dead_time_closed_forms():
    """phi 0.5 at r_max 400 Hz: rate 200 Hz, with t_ref = 2 ms (rate t_ref = 0.4) over
    200 neurons for 1 s. Per step p = 0.02, p' = p / (1 - n_ref p) = 1/30; the ISI is
    (n_ref + G) dt with G geometric(p'), so the mean rate is p' / (1 + n_ref p') / dt
    = 200 Hz exactly (the uncompensated process: 143 Hz) and the ISI CV
    sqrt(1 - p') (1 - n_ref p) = 0.590 (continuous time: 1 - rate t_ref = 0.6).
    Tolerances: the count of a renewal process has variance ~ N CV^2 (4 SD: 1.2 %); the
    CV of 40,000 ISIs has a standard error below 2 CV / sqrt(n) = 0.006 (4 of them)."""
    phi, r_max, n_ref, n_units, n_per_unit, T = 0.5, 400.0, 20, 50, 4, 1.0
    net = _constant_rate_net(phi, n_units, n_per_unit=n_per_unit, r_max=r_max * Hz,
                             t_ref=2 * ms, **RT)
    res = net.run(np.zeros((1, 1)), T * second, learn=False, record_spikes=True)
    check_dead_time_statistics(res.spikes["layer1"], phi, r_max, n_ref, T)


def check_dead_time_statistics(s, phi, r_max, n_ref, T):
    """The spikes ``s`` of a constant-rate population against the discrete dead-time
    closed forms (the test above): count, shortest ISI and its frequency p', ISI CV,
    the continuous-time CV 1 - rate t_ref (t_ref = 2 ms) and the mean ISI."""
    n = s["n_neurons"]
    p = r_max * phi * DT
    p_free = p / (1 - n_ref * p)
    cv_exact = np.sqrt(1 - p_free) * (1 - n_ref * p)
    n_expected = n * phi * r_max * T
    assert abs(len(s["i"]) - n_expected) < 4 * cv_exact * np.sqrt(n_expected)
    t = np.asarray(s["t"] / second)
    isi = np.concatenate([np.diff(np.sort(t[s["i"] == k])) for k in range(n)])
    # no ISI shorter than t_ref: the shortest is t_ref + dt (fire again in the first free
    # step), which p' makes common
    assert isi.min() == pytest.approx((n_ref + 1) * DT, abs=1e-9)
    shortest = np.mean(np.isclose(isi, (n_ref + 1) * DT, atol=1e-9))  # P(G = 1) = p'
    assert abs(shortest - p_free) < 4 * np.sqrt(p_free * (1 - p_free) / len(isi))
    cv = isi.std() / isi.mean()
    assert abs(cv - cv_exact) < 4 * 2 * cv_exact / np.sqrt(len(isi))
    assert abs(cv - (1 - phi * r_max * 2e-3)) < 0.035  # the continuous-time closed form
    assert isi.mean() == pytest.approx((n_ref + 1 / p_free) * DT, rel=0.01)


def test_dead_time_is_state_that_a_restored_network_continues():
    """get_state carries every neuron's ref_left: a fresh network given the state, the
    parameters and the history of the first run draws the second run's spikes of the
    uninterrupted network; without it (every neuron free) they differ (100 neurons at
    200 Hz, ~40 dead at the boundary). Bad values are
    refused naming the entry."""
    make = dict(n_per_unit=5, r_max=400 * Hz, t_ref=2 * ms, **RT)
    net = _constant_rate_net(0.5, 20, **make)
    net.run(np.zeros((1, 1)), 20 * ms, learn=False)
    state, n_runs, t = net.get_state(), net.run_index, net.t
    assert state["layer1"]["ref_left"].shape == (100,)
    assert (state["layer1"]["ref_left"] > 0).sum() > 10  # ~40 % of the neurons are dead
    second = net.run(np.zeros((1, 1)), 20 * ms, learn=False, record_spikes=True)
    for keep in (True, False):
        other = _constant_rate_net(0.5, 20, **make)
        other.set_state({"layer1": {k: v for k, v in state["layer1"].items()
                                    if keep or k != "ref_left"}})
        other.restore_history(n_runs, t)
        again = other.run(np.zeros((1, 1)), 20 * ms, learn=False, record_spikes=True)
        same = (len(again.spikes["layer1"]["i"]) == len(second.spikes["layer1"]["i"])
                and np.array_equal(again.spikes["layer1"]["i"], second.spikes["layer1"]["i"]))
        assert same == keep
    for bad in (np.full(100, 22), np.zeros(5), np.full(100, 0.5)):
        with pytest.raises(ValueError, match=r"state\['layer1'\]\['ref_left'\] must hold 100"):
            net.set_state({"layer1": {"ref_left": bad}})
    with pytest.raises(ValueError, match="unknown variable 'ref_left'"):
        _constant_rate_net(0.5, 3, n_per_unit=2, r_max=400 * Hz, **RT).set_state(
            {"layer1": {"ref_left": np.zeros(6)}})


def test_zero_t_ref_gives_the_spikes_without_refractoriness():
    """t_ref = 0 runs the refractory program with n_ref = 0: the same spikes as
    t_ref=None (whose program is unchanged)."""
    runs = []
    for t_ref in (None, 0 * ms):
        net = _constant_rate_net(0.4, 4, n_per_unit=3, r_max=2000 * Hz, t_ref=t_ref, **RT)
        runs.append(net.run(np.zeros((1, 1)), 10 * ms, learn=False,
                            record_spikes=True).spikes["layer1"])
    assert len(runs[0]["i"]) > 50
    np.testing.assert_array_equal(runs[0]["i"], runs[1]["i"])
    np.testing.assert_array_equal(np.asarray(runs[0]["t"]), np.asarray(runs[1]["t"]))


def test_bad_t_ref_is_refused_before_building():
    make = dict(spiking=True, r_max=400 * Hz, activation="sigmoid",
                output_activation="sigmoid", **RT)
    with pytest.raises(ValueError, match="parameter t_ref must be a value in ms >= 0 ms .*got "
                                         "-1 ms"):
        LENetwork([2, 3, 1], t_ref=-1 * ms, **make)
    with pytest.raises(ValueError, match=r"t_ref = 2.5 ms must be shorter than 1/r_max = "
                                         r"2.5 ms \(r_max = 400 Hz\)"):
        LENetwork([2, 3, 1], t_ref=2.5 * ms, **make)
    with pytest.raises(ValueError, match=r"1/r_max = 0.5 ms \(r_max = 2000 Hz\)"):
        Microcircuit([2, 3, 1], spiking=True, t_ref=1 * ms, **RT)
    with pytest.raises(ValueError, match="not a whole number of time steps.*0.2 ms or 0.3 ms"):
        LENetwork([2, 3, 1], t_ref=0.25 * ms, **make)
    with pytest.raises(ValueError, match="needs spiking=True"):
        LENetwork([2, 3, 1], t_ref=1 * ms, **RT)
    from le_brian.engine.validation import UnitError

    with pytest.raises(UnitError, match="t_ref"):
        LENetwork([2, 3, 1], t_ref=1, **make)


def test_saturation_with_t_ref_is_reported():
    """p (1 + n_ref) > 1 (phi 1, r_max 900 Hz, t_ref 1.1 ms: p = 0.09, n_ref = 11, 1.08):
    a free neuron fires in every free step, its rate 1 / ((n_ref + 1) dt) = 833 Hz below
    r_max phi; reported like any saturation."""
    from le_brian.engine.spiking import SpikeSaturationWarning

    net = _constant_rate_net(1.0, 2, n_per_unit=1, r_max=900 * Hz, t_ref=1.1 * ms, **RT)
    with pytest.warns(SpikeSaturationWarning, match=r"r_max\*phi\*\(dt \+ t_ref\)"):
        res = net.run(np.zeros((1, 1)), 10 * ms, learn=False, record_spikes=True)
    isi = np.diff(np.sort(np.asarray(res.spikes["layer1"]["t"][res.spikes["layer1"]["i"]
                                                              == 0] / second)))
    np.testing.assert_allclose(isi, 1.2e-3, atol=1e-9)  # every 12th step


@pytest.mark.standalone
def test_same_spikes_on_runtime_and_standalone_with_t_ref():
    """A spiking LENetwork and Microcircuit with t_ref: the same spikes on runtime and
    cpp_standalone over two runs (the dead time carried across)."""
    x = np.random.default_rng(0).random((3, 4))
    make = dict(activation="sigmoid", output_activation="sigmoid", spiking=True,
                n_per_unit=2, r_max=3000 * Hz, t_ref=0.2 * ms, seed=5)
    runs = {}
    for dev in ("runtime", "cpp_standalone"):
        net = LENetwork([4, 6, 3], device=dev, codegen_target="numpy", **make)
        runs[dev] = [net.run(x, 5 * ms, learn=False, record_spikes=True) for _ in range(2)]
        mc = Microcircuit([4, 5, 3], spiking=True, r_max=500 * Hz, t_ref=1 * ms, seed=2,
                          device=dev, codegen_target="numpy")
        runs[dev].append(mc.run(x, 20 * ms, record_spikes=["pyr1", "out"]))
    for a, b in zip(runs["runtime"], runs["cpp_standalone"]):
        assert a.spikes and sum(len(s["i"]) for s in a.spikes.values()) > 20
        for pop in a.spikes:
            np.testing.assert_array_equal(a.spikes[pop]["i"], b.spikes[pop]["i"])
            np.testing.assert_allclose(np.asarray(a.spikes[pop]["t"]),
                                       np.asarray(b.spikes[pop]["t"]), rtol=0, atol=1e-12)


def test_train_and_record_a_microcircuit_with_t_ref_from_the_command_line(tmp_path, capsys):
    """``le-brian train --model microcircuit_bars --spiking --t-ref 1ms`` writes t_ref into
    the run's config and every neuron's dead time into its checkpoint; ``le-brian record
    --spiking --t-ref 0.5ms --r-max 300Hz`` records a spiking view with other options (its
    neurons start free), whose shortest ISI per neuron is t_ref + dt; a t_ref of 1/r_max is
    refused in one line with exit status 2."""
    from le_brian.cli import main
    from le_brian.protocols.recording import load_recording

    run = tmp_path / "run"
    assert main(["train", "--model", "microcircuit_bars", "--spiking", "--t-ref", "1ms",
                 "--r-max", "500Hz", "--epochs", "1", "--device", "runtime",
                 "--codegen-target", "numpy", "--out", str(run)]) == 0
    assert '"t_ref": "1 ms"' in (run / "config.json").read_text()
    with np.load(run / "checkpoint.npz") as f:
        assert f["state/pyr1/ref_left"].shape == (30,) and f["state/pyr1/ref_left"].max() <= 11
    assert main(["record", str(run), "--spiking", "--t-ref", "0.5ms", "--r-max", "300Hz",
                 "--n-samples", "4", "--overwrite"]) == 0
    spikes = load_recording(run)["spikes"]
    shortest = []
    for s in spikes.values():
        t = np.asarray(s["t"] / second)
        shortest += [np.diff(np.sort(t[s["i"] == j])).min() for j in np.unique(s["i"])
                     if (s["i"] == j).sum() > 1]
    assert len(shortest) > 5 and min(shortest) == pytest.approx(0.6e-3, abs=1e-9)
    capsys.readouterr()
    assert main(["record", str(run), "--spiking", "--t-ref", "2ms", "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "t_ref = 2 ms must be shorter than 1/r_max = 2 ms (r_max = 500 Hz)" in err
    assert err.count("\n") == 1
