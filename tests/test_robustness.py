"""Substrate imperfections (docs/model.md §1.8; paper Fig. 4): time-constant jitter, local
time-constant learning, rate noise and synaptic filtering, against closed forms, the NumPy
reference (`le_brian.numpy_reference`) and known statistics."""

import numpy as np
import pytest
from brian2 import Hz, ms, second

from le_brian import LENetwork, Microcircuit
from le_brian.engine.spiking import spike_seed
from le_brian.engine.validation import UnitError
from le_brian.equations.spiking import le_normal_numpy
from le_brian.numpy_reference.layered import NumpyLENetwork
from le_brian.numpy_reference.microcircuit import NumpyMicrocircuit
from le_brian.substrate import noise_density

DEVICES = ["runtime", pytest.param("cpp_standalone", marks=pytest.mark.standalone)]
#: Runtime networks generate NumPy code: no Cython compile for a few short runs.
RUNTIME = dict(device="runtime", codegen_target="numpy")


def _device(device):
    return RUNTIME if device == "runtime" else dict(device=device)


# ------------------------------------------------------------------ closed form
@pytest.mark.parametrize("device", DEVICES)
def test_every_jittered_neuron_follows_its_own_closed_form(device):
    """1 -> 40 linear neurons, weight 1, step input 1: neuron i with its drawn tau_m,i and
    tau_r,i gives ub_k = 1 - (1 - tau_r,i/tau_m,i) (1 - dt/tau_m,i)^k exactly (forward
    Euler; the single-neuron case is in test_layered.py): the drawn values are the ones
    simulated, mismatch brings the lag back (tau_r < tau_m) or an overshoot."""
    net = LENetwork([1, 40], activation="linear", output_activation="linear",
                    tau_m=10 * ms, dt=0.1 * ms, tau_jitter=0.3, seed=7, **_device(device))
    net.set_parameters(weights=[np.ones((40, 1))], biases=[np.zeros(40)])
    res = net.run(np.ones((1, 1)), 30 * ms, learn=False)
    tau_m, tau_r = np.asarray(net.tau_m[0] / ms), np.asarray(net.tau_r[0] / ms)
    k = np.arange(300)[:, None]
    expected = 1 - (1 - tau_r / tau_m) * (1 - 0.1 / tau_m) ** k
    np.testing.assert_allclose(res.output, expected, rtol=0, atol=1e-12)
    assert np.any(res.output[0] < 0.8) and np.any(res.output[0] > 1.2)  # lag and overshoot


# ------------------------------------------------------------------ NumPy reference
def _normal(seed, run_index):
    """The standard normals LENetwork draws in run ``run_index`` of a network of ``seed``
    (docs/model.md §1.8): Box-Muller of the counter-based uniforms."""
    def normal(l, step, n):
        return le_normal_numpy(spike_seed(seed, run_index, f"layer{l + 1}/noise"), step,
                               np.arange(n))
    return normal


def _substrate_problem(scheme, device, tau_learning="tau_r"):
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, (6, 3)), rng.uniform(-0.5, 0.5, (6, 2))
    net = LENetwork([3, 5, 2], activation="tanh", tau_m=10 * ms, dt=0.5 * ms, seed=3,
                    learning_rates=[50 * Hz, 20 * Hz], tau_jitter=0.3,
                    tau_learning=tau_learning, eta_tau=0.05 * second,
                    rate_noise=noise_density(0.05, 0.5 * ms), tau_syn=2 * ms, scheme=scheme,
                    **_device(device))
    p = net.get_parameters()
    ref = NumpyLENetwork(p["weights"], p["biases"], "tanh",
                         tau_m=[np.asarray(t) for t in net.tau_m],
                         tau_r=[np.asarray(t) for t in net.tau_r], learning_rates=[50, 20],
                         dt=0.5e-3, scheme=scheme, tau_learning=tau_learning, eta_tau=0.05,
                         noise_std=0.05, normal=_normal(3, 0), tau_syn=2e-3)
    return net, ref, x, y


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("scheme,tau_learning", [("sweep", "tau_r"), ("reference", "tau_m")])
def test_jitter_noise_filter_and_tau_learning_match_numpy(scheme, tau_learning, device):
    """Every substrate feature at once (jittered tau, learned tau, rate noise from the
    counter-based draw, filtered rates and target), step for step against the NumPy
    reference of the same equations."""
    net, ref, x, y = _substrate_problem(scheme, device, tau_learning)
    res = net.run(x, 5 * ms, targets=y)
    out, _ = ref.run(x, 10, targets=y)
    np.testing.assert_allclose(res.output, out, rtol=0, atol=1e-12)
    learned = net.tau_m if tau_learning == "tau_m" else net.tau_r
    expected = ref.tau_m if tau_learning == "tau_m" else ref.tau_r
    for a, b in zip(learned, expected):
        np.testing.assert_allclose(np.asarray(a), b, rtol=0, atol=1e-15)
    for a, b in zip(net.get_parameters()["weights"], ref.W):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    state = net.get_state()
    np.testing.assert_allclose(state["layer0"]["rs"], ref.rs_in, rtol=0, atol=1e-14)
    np.testing.assert_allclose(state["layer1"]["rs"], ref.rs[0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(state["layer2"]["tgt_s"], ref.tgt_s, rtol=0, atol=1e-14)
    # the learned time constant moved (the test can fail) and stayed within its bounds
    assert max(np.abs(np.asarray(a) - b).max()
               for a, b in zip(learned, (net._tau_m if tau_learning == "tau_m"
                                         else net._tau_r))) > 1e-6


def test_jitter_draw_is_seeded_clipped_and_independent_of_the_weights():
    a = LENetwork([4, 50, 3], tau_m=10 * ms, tau_jitter=0.3, seed=5, **RUNTIME)
    b = LENetwork([4, 50, 3], tau_m=10 * ms, tau_jitter=0.3, seed=5, **RUNTIME)
    c = LENetwork([4, 50, 3], tau_m=10 * ms, tau_jitter=(0.3, 0.0), seed=5, **RUNTIME)
    tm = np.concatenate([np.asarray(t / ms) for t in a.tau_m])
    tr = np.concatenate([np.asarray(t / ms) for t in a.tau_r])
    np.testing.assert_array_equal(tm, np.concatenate([np.asarray(t / ms) for t in b.tau_m]))
    # the documented draw: default_rng((seed, 1)), tau_m of every layer, then tau_r
    rng = np.random.default_rng((5, 1))
    z = rng.standard_normal(106)
    np.testing.assert_allclose(tm, np.clip(10 * (1 + 0.3 * z[:53]), 1, 1000), rtol=1e-12)
    np.testing.assert_allclose(tr, np.clip(10 * (1 + 0.3 * z[53:]), 1, 1000), rtol=1e-12)
    assert abs(np.std(tm) / 10 - 0.3) < 0.1 and not np.allclose(tm, tr)
    np.testing.assert_array_equal(np.concatenate([np.asarray(t / ms) for t in c.tau_r]), 10.0)
    # sigma 3 puts many draws below 1 ms: clipped, never <= 0
    wild = LENetwork([4, 50, 3], tau_m=10 * ms, tau_jitter=3.0, seed=5, **RUNTIME)
    lows = np.concatenate([np.asarray(t / ms) for t in wild.tau_m])
    assert lows.min() == 1.0 and np.sum(lows == 1.0) > 10


# ------------------------------------------------------------------ time-constant learning
@pytest.mark.parametrize("device", DEVICES)
def test_tau_learning_reduces_mismatch_tenfold(device):
    """sigma = 0.3 on a 4-30-30-3 network, 2 s of random inputs (200 presentations of
    10 ms), no nudging, no weight learning: the mean |tau_m - tau_r| falls >= 10x."""
    rng = np.random.default_rng(0)
    net = LENetwork([4, 30, 30, 3], tau_m=10 * ms, dt=0.2 * ms, tau_jitter=0.3, seed=1,
                    tau_learning="tau_r", eta_tau=0.2 * second, **_device(device))

    def mismatch():
        return np.mean(np.concatenate([np.abs(np.asarray((m - r) / ms))
                                       for m, r in zip(net.tau_m, net.tau_r)]))

    before = mismatch()
    weights_before = net.get_parameters()
    net.run(rng.uniform(-1, 1, (200, 4)), 10 * ms, learn=False, learn_tau=True)
    after = mismatch()
    assert before > 3.0  # sigma 0.3 of 10 ms, two independent draws: E|d| = 3.4 ms
    assert after < before / 10, (before, after)
    for a, b in zip(weights_before["weights"], net.get_parameters()["weights"]):
        np.testing.assert_array_equal(a, b)  # learn=False: no weight changed
    # the learned values persist: reset_state keeps them, a run without learning too
    net.reset_state()
    kept = [np.asarray(t) for t in net.tau_r]
    net.run(rng.uniform(-1, 1, (5, 4)), 10 * ms, learn=False)
    for a, b in zip(kept, net.tau_r):
        np.testing.assert_array_equal(a, np.asarray(b))


def test_tau_learning_restores_the_instantaneous_response_of_a_deep_network():
    """A 5-layer network under mismatch lags a step input; after time-constant learning
    its output follows the input again (the lag that mismatch brings back, removed)."""
    sizes = [2, 20, 20, 20, 20, 2]
    common = dict(activation="tanh", tau_m=10 * ms, dt=0.2 * ms, seed=2, **RUNTIME)
    exact = LENetwork(sizes, **common)
    jittered = LENetwork(sizes, tau_jitter=0.3, tau_learning="tau_r",
                         eta_tau=0.2 * second, **common)
    step = np.array([[0.8, -0.5]])
    target = exact.run(step, 30 * ms, learn=False).output
    assert np.abs(target - target[-1]).max() < 1e-12  # LE: flat from step 0
    before = jittered.run(step, 30 * ms, learn=False, learn_tau=False).output
    jittered.reset_state()
    rng = np.random.default_rng(3)
    jittered.run(rng.uniform(-1, 1, (300, 2)), 10 * ms, learn=False, learn_tau=True)
    jittered.reset_state()
    after = jittered.run(step, 30 * ms, learn=False, learn_tau=False).output
    err_before = np.abs(before - target).max()
    err_after = np.abs(after - target).max()
    # measured: 0.29 before, 9e-7 after
    assert err_before > 0.05 and err_after < err_before / 1000, (err_before, err_after)


# ------------------------------------------------------------------ noise and filter
@pytest.mark.standalone  # 40k and 80k steps: a second each compiled, minutes on runtime
@pytest.mark.parametrize("dt_ms", [0.1, 0.05])
def test_rate_noise_has_the_white_noise_statistics(dt_ms):
    """Zero input: r = rate_noise/sqrt(dt) xi; its filtered version rs has variance
    rate_noise^2 / (tau_syn (2 - dt/tau_syn)), i.e. ~rate_noise^2/(2 tau_syn) whatever
    dt is (the convention that makes noise independent of dt)."""
    sigma = noise_density(0.2, 0.1 * ms)  # per-step std 0.2 at dt = 0.1 ms
    net = LENetwork([1, 1, 1], activation="linear", tau_m=10 * ms, dt=dt_ms * ms,
                    rate_noise=sigma, tau_syn=2 * ms, seed=4, device="cpp_standalone")
    net.set_parameters(weights=[np.zeros((1, 1)), np.zeros((1, 1))],
                       biases=[np.zeros(1), np.zeros(1)])
    steps = int(round(4000 / dt_ms))
    res = net.run(np.zeros((1, 1)), steps * dt_ms * ms, learn=False,
                  record={"layer1": ["r", "rs"]})
    r = res.states["layer1"]["r"][:, 0]
    rs = res.states["layer1"]["rs"][1000:, 0]  # after the filter's start-up
    per_step = float(sigma / second ** 0.5) / np.sqrt(dt_ms * 1e-3)
    assert abs(np.mean(r)) < 4 * per_step / np.sqrt(len(r))
    assert abs(np.std(r) / per_step - 1) < 0.02
    a = dt_ms / 2.0
    expected = float(sigma / second ** 0.5) / np.sqrt(2e-3 * (2 - a))
    assert abs(np.std(rs) / expected - 1) < 0.06, (np.std(rs), expected)


def test_filter_at_dt_and_zero_noise_reproduce_the_plain_network():
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 1, (4, 3)), rng.uniform(0, 1, (4, 2))
    kw = dict(activation="tanh", tau_m=10 * ms, dt=0.5 * ms, seed=1,
              learning_rates=50 * Hz, **RUNTIME)
    plain = LENetwork([3, 6, 2], **kw).run(x, 5 * ms, targets=y).output
    quiet = LENetwork([3, 6, 2], rate_noise=0 * second ** 0.5, **kw)
    np.testing.assert_array_equal(quiet.run(x, 5 * ms, targets=y).output, plain)
    passthrough = LENetwork([3, 6, 2], tau_syn=0.5 * ms, **kw).run(x, 5 * ms, targets=y)
    np.testing.assert_allclose(passthrough.output, plain, rtol=0, atol=1e-13)


@pytest.mark.standalone
def test_one_program_serves_every_sigma_and_noise_level():
    """sigma, noise level, eta_tau and tau_syn are values of a run: networks that differ
    only in them run the first one's program (set up once, not per network)."""
    from le_brian.engine.devices import Simulator

    sim = Simulator("cpp_standalone")
    x = np.random.default_rng(0).uniform(0, 1, (3, 3))
    outs, set_up = [], []
    for sigma, noise, tau_syn in ((0.0, 0.0, 1.0), (0.3, 0.1, 2.0), (0.1, 0.2, 0.5)):
        net = LENetwork([3, 5, 2], tau_m=10 * ms, dt=0.5 * ms, tau_jitter=sigma,
                        tau_learning="tau_r", eta_tau=0.01 * second,
                        rate_noise=noise * ms ** 0.5, tau_syn=tau_syn * ms, simulator=sim)
        res = net.run(x, 5 * ms)
        outs.append(res.output)
        set_up.append(res.compiled)
    assert set_up == [True, False, False] and sim.n_builds == 1
    assert not np.allclose(outs[0], outs[1]) and not np.allclose(outs[1], outs[2])


# ------------------------------------------------------------------ microcircuit
def test_microcircuit_jitter_matches_numpy_and_keeps_steady_states():
    G = dict(g_l=30.0, g_b=100.0, g_a=60.0, g_som=60.0)  # Hz, the defaults
    sizes = [4, 6, 3]
    net = Microcircuit(sizes, mode="le", dt=0.1 * ms, eta_up=[300 * Hz, 200 * Hz],
                       eta_ip=[150 * Hz], eta_pi=[100 * Hz], tau_jitter=0.3, seed=2,
                       **RUNTIME)
    g = {p: 1 / np.asarray(t[0] / second) for p, t in net.tau_m.items()}
    c_m = {p: np.asarray(t / second) * g[p] for p, t in net.tau_m.items()}
    c_r = {p: np.asarray(t / second) * g[p] for p, t in net.tau_r.items()}
    assert not np.allclose(c_m["pyr1"], 1.0) and not np.allclose(c_m["pyr1"], c_r["pyr1"])
    # nominal tau = 1/g_P = 1/(0.19/ms) for a pyramidal cell
    nominal = 1 / 0.19
    assert abs(np.mean(np.asarray(net.tau_m["pyr1"] / ms)) / nominal - 1) < 0.4
    ref = NumpyMicrocircuit(net.get_parameters(), mode="le", **G, eta_up=[300.0, 200.0],
                            eta_ip=[150.0], eta_pi=[100.0], dt=1e-4,
                            c_m=net._c["c_m"], c_r=net._c["c_r"])
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (12, 4)), rng.uniform(0.1, 1, (12, 3))
    nudge, learn = np.arange(12) % 3 != 2, np.arange(12) % 4 != 3
    res = net.run(x, 10 * ms, targets=y, nudge=nudge, learn=learn, record={"out": ["w"]})
    outs, trace = ref.run(x, 100, y, nudge, learn, record=True)
    np.testing.assert_allclose(res.output, trace["out_w"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.pattern_outputs, outs, rtol=0, atol=1e-10)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs,error,match", [
    (dict(tau_jitter=-0.1), ValueError, "tau_jitter"),
    (dict(tau_jitter=float("nan")), ValueError, "tau_jitter"),
    (dict(tau_jitter=(0.1, 0.2, 0.3)), ValueError, "tau_jitter"),
    (dict(tau_jitter=0.2, tau_bounds=(0 * ms, 100 * ms)), ValueError, "tau_bounds"),
    (dict(tau_jitter=0.2, tau_bounds=(20 * ms, 5 * ms)), ValueError, "tau_bounds"),
    (dict(tau_jitter=0.2, tau_bounds=(20 * ms, 50 * ms)), ValueError, "outside tau_bounds"),
    (dict(tau_learning="tau"), ValueError, "tau_learning"),
    (dict(tau_learning="tau_r", prospective=False), ValueError, "prospective"),
    (dict(tau_learning="tau_r", eta_tau=1 * Hz), UnitError, "eta_tau"),
    (dict(tau_learning="tau_r", eta_tau=-1 * second), ValueError, "eta_tau"),
    (dict(rate_noise=0.1), UnitError, "rate_noise"),
    (dict(rate_noise=-0.1 * ms ** 0.5), ValueError, "rate_noise"),
    (dict(rate_noise=float("inf") * ms ** 0.5), ValueError, "rate_noise"),
    (dict(tau_syn=-1 * ms), ValueError, "tau_syn"),
    (dict(tau_syn=0.05 * ms), ValueError, "tau_syn must be >= dt"),
    (dict(tau_syn=2 * ms, filter_target=1), TypeError, "filter_target"),
    (dict(spiking=True, activation="sigmoid", output_activation="sigmoid",
          tau_syn=2 * ms), ValueError, "spike trace"),
])
def test_bad_substrate_parameters_are_refused_before_anything_is_built(kwargs, error, match):
    with pytest.raises(error, match=match):
        LENetwork([2, 3, 1], tau_m=10 * ms, dt=0.1 * ms, **RUNTIME, **kwargs)


def test_learn_tau_without_tau_learning_and_bad_microcircuit_jitter_are_refused():
    net = LENetwork([2, 3, 1], **RUNTIME)
    with pytest.raises(ValueError, match="learns no time constant"):
        net.run(np.zeros((1, 2)), 1 * ms, learn_tau=True)
    with pytest.raises(ValueError, match="tau_jitter"):
        Microcircuit([2, 3, 1], tau_jitter=-1.0, **RUNTIME)
    with pytest.raises(ValueError, match="tau_bounds"):
        Microcircuit([2, 3, 1], tau_jitter=0.1, tau_bounds=(1 * ms,), **RUNTIME)


# ------------------------------------------------------------------ training protocol
def test_training_with_a_time_constant_phase_resumes_bit_for_bit(tmp_path):
    """TrainConfig: a time-constant phase before epoch 0 (no nudging, no weight learning)
    shrinks the mismatch; the learned tau is part of the checkpoint, so 1 + 1 resumed
    epochs equal 2 straight ones (metrics, weights and learned tau)."""
    from le_brian.protocols.training import TrainConfig, build_network, tau_mismatch, train

    cfg = dict(dataset="yinyang", hidden=[12], presentation_time_ms=2.0, dt_ms=0.5,
               learning_rates_hz=200.0, epochs=2, n_train=60, n_val=20, n_test=20,
               device="runtime", codegen_target="numpy", tau_jitter=0.3,
               tau_learning="tau_r", eta_tau_ms=100.0, tau_learning_epochs=2,
               rate_noise_sqrt_ms=0.002, tau_syn_ms=1.0)
    initial = float(tau_mismatch(build_network(TrainConfig.from_dict(cfg), 4, 3)) / ms)
    straight = train(cfg, tmp_path / "a", progress=lambda s: None)
    assert initial > 2.0 and straight[0]["tau_mismatch_ms"] < initial / 3, (
        initial, straight[0]["tau_mismatch_ms"])
    train(dict(cfg, epochs=1), tmp_path / "b", progress=lambda s: None)
    resumed = train(cfg, tmp_path / "b", resume=True, progress=lambda s: None)
    strip = ("train_seconds", "eval_seconds")
    assert ([{k: v for k, v in r.items() if k not in strip} for r in resumed]
            == [{k: v for k, v in r.items() if k not in strip} for r in straight])
    a = np.load(tmp_path / "a" / "checkpoint.npz")
    b = np.load(tmp_path / "b" / "checkpoint.npz")
    for key in ("weights_1", "weights_2", "state/layer1/tau_r", "state/layer0/rs"):
        np.testing.assert_array_equal(a[key], b[key])


def test_train_config_refuses_bad_substrate_fields():
    from le_brian.protocols.training import TrainConfig

    for bad, match in ((dict(tau_jitter=-0.1), "tau_jitter"),
                       (dict(tau_learning="both"), "tau_learning"),
                       (dict(tau_learning_epochs=2), "need tau_learning"),
                       (dict(rate_noise_sqrt_ms=-1.0), "rate_noise_sqrt_ms"),
                       (dict(tau_syn_ms=0.0), "tau_syn_ms"),
                       (dict(filter_target="yes"), "filter_target")):
        with pytest.raises(ValueError, match=match):
            TrainConfig.from_dict(bad)


def test_spiking_layers_take_jitter_and_time_constant_learning():
    """The spiking view (docs/model.md §5) keeps the membrane: jitter and the tau rule
    apply (the rule reads the spike-trace input I); the mismatch shrinks."""
    net = LENetwork([3, 8, 2], activation="sigmoid", output_activation="sigmoid",
                    tau_m=10 * ms, dt=0.2 * ms, spiking=True, n_per_unit=4,
                    r_max=1000 * Hz, tau_jitter=0.3, tau_learning="tau_r",
                    eta_tau=0.05 * second, seed=3, **RUNTIME)
    before = np.mean(np.abs(np.asarray((net.tau_m[0] - net.tau_r[0]) / ms)))
    net.run(np.random.default_rng(0).uniform(0, 1, (40, 3)), 10 * ms, learn=False,
            learn_tau=True)
    after = np.mean(np.abs(np.asarray((net.tau_m[0] - net.tau_r[0]) / ms)))
    assert before > 1.0 and after < before / 2, (before, after)


def test_a_run_folder_from_before_the_substrate_fields_still_resumes(tmp_path):
    """A checkpoint whose config predates the substrate fields resumes when they keep
    their defaults, and is refused (naming the field) when one changes."""
    import json

    from le_brian.protocols.training import train

    cfg = dict(dataset="yinyang", hidden=[6], presentation_time_ms=1.0, dt_ms=0.5,
               epochs=1, n_train=20, n_val=10, n_test=10, device="runtime",
               codegen_target="numpy")
    train(cfg, tmp_path, progress=lambda s: None)
    ckpt = tmp_path / "checkpoint.npz"
    with np.load(ckpt) as f:
        arrays = {k: f[k] for k in f.files}
    from le_brian.params import TrainingParameters

    old = TrainingParameters.from_json(json.loads(str(arrays["config"]))).flat_json()
    for key in ("tau_jitter", "tau_learning", "eta_tau", "tau_learning_epochs",
                "tau_learning_in_training", "rate_noise", "tau_syn", "filter_target"):
        del old[key]
    arrays["config"] = np.array(json.dumps(old))
    del arrays["run_index"], arrays["network_time_s"]  # nor did it save these
    np.savez(ckpt, **arrays)
    history = train(dict(cfg, epochs=2), tmp_path, resume=True, progress=lambda s: None)
    assert [r["epoch"] for r in history] == [0, 1, 2]
    with pytest.raises(ValueError, match="tau_jitter"):
        train(dict(cfg, epochs=3, tau_jitter=0.1), tmp_path, resume=True,
              progress=lambda s: None)
