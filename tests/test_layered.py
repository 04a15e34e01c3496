"""LENetwork against independent references: the NumPy Euler loop of the same
equations, closed-form solutions of a single neuron and of the lagged linear chain,
and the fixed points of the learning rule."""

import os

import numpy as np
import pytest
from brian2 import Hz, ms, second
from scipy.stats import binom

from le_brian import LENetwork
from le_brian.engine.devices import Simulator
from le_brian.numpy_reference import NumpyLENetwork

SIZES = [5, 7, 4, 3]
ETA = [40 * Hz, 25 * Hz, 15 * Hz]


def _problem(seed=1, n_samples=6, sizes=SIZES):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n_samples, sizes[0]))
    y = rng.uniform(-1, 1, (n_samples, sizes[-1]))
    return x, y


def _net(device="runtime", codegen_target="numpy", **kw):
    params = dict(activation="tanh", tau_m=10 * ms, tau_r=10 * ms, beta=0.5,
                  learning_rates=ETA, dt=0.1 * ms, seed=3, device=device,
                  codegen_target=codegen_target)
    params.update(kw)
    net = LENetwork(SIZES, **params)
    rng = np.random.default_rng(7)
    net.set_parameters(biases=[rng.normal(0, 0.3, n) for n in SIZES[1:]])
    return net


def _reference(net, **kw):
    w, b = net.get_parameters().values()
    params = dict(activation=net.activation, output_activation=net.output_activation,
                  tau_m=[float(t[0]) for t in net.tau_m], tau_r=[float(t[0]) for t in net.tau_r],
                  beta=net.beta, target_type=net.target_type,
                  learning_rates=[float(e) for e in net.learning_rates], dt=net.dt)
    params.update(kw)
    return NumpyLENetwork(w, b, **params)


@pytest.mark.parametrize(
    "device,target",
    [("runtime", "numpy"), ("runtime", "cython"),
     pytest.param("cpp_standalone", "auto", marks=pytest.mark.standalone)],
)
@pytest.mark.parametrize("target_type", ["voltage", "rate"])
def test_matches_numpy_reference_with_learning(device, target, target_type):
    """Brian2 == NumPy Euler loop (float64) to 1e-10: outputs of every step, hidden rates,
    weights and biases after learning; two consecutive runs (state carried over)."""
    net = _net(device, target, target_type=target_type)
    ref = _reference(net)
    x, y = _problem()
    for _ in range(2):
        res = net.run(x, 2 * ms, targets=y, record={1: ["r"], 2: ["r"]})
        out, hidden = ref.run(x, 20, y)
        assert res.output.shape == (120, 3)
        np.testing.assert_allclose(res.output, out, rtol=0, atol=1e-10)
        for layer in (1, 2):
            np.testing.assert_allclose(res.state("r", layer), hidden[layer - 1], rtol=0,
                                       atol=1e-10)
        w, b = net.get_parameters().values()
        for k in range(3):
            np.testing.assert_allclose(w[k], ref.W[k], rtol=0, atol=1e-10)
            np.testing.assert_allclose(b[k], ref.b[k], rtol=0, atol=1e-10)
    # learning did something measurable (the comparison is not between two idle nets)
    assert max(np.abs(a - c).max() for a, c in zip(w, _net().get_parameters()["weights"])) > 1e-3


def test_per_neuron_time_constants_match_reference():
    rng = np.random.default_rng(5)
    tau_m = [rng.uniform(5, 15, n) * ms for n in SIZES[1:]]
    tau_r = [rng.uniform(5, 15, n) * ms for n in SIZES[1:]]
    net = _net(tau_m=tau_m, tau_r=tau_r)
    w, b = net.get_parameters().values()
    ref = NumpyLENetwork(w, b, "tanh", "linear", [np.asarray(t / second) for t in tau_m],
                         [np.asarray(t / second) for t in tau_r], 0.5, "voltage",
                         [float(e) for e in ETA], 1e-4)
    x, y = _problem()
    res = net.run(x, 1 * ms, targets=y)
    out, _ = ref.run(x, 10, y)
    np.testing.assert_allclose(res.output, out, rtol=0, atol=1e-10)


def _feedforward(net, x):
    w, b = net.get_parameters().values()
    r = x
    for k in range(net.n_layers):
        ub = w[k] @ r + b[k]
        r = np.tanh(ub) if k < net.n_layers - 1 else ub
    return r


def _lag_steps(output, final, initial, tol=0.05):
    """Steps after the switch until the output stays within tol of its final value."""
    dev = np.abs(output - final).max(axis=1) / np.abs(final - initial).max()
    outside = np.nonzero(dev > tol)[0]
    return 0 if outside.size == 0 else int(outside[-1]) + 1


def test_instantaneous_inference_vs_lagged_baseline():
    """4-layer network: an input step reaches the LE output in the same time step (exact
    feedforward value at every step), the lagged baseline needs ~tau_m per layer."""
    sizes = [3, 6, 6, 6, 2]
    x = np.array([[0.5, -0.3, 0.8], [-0.7, 0.9, 0.1]])
    lags = {}
    for prospective in (True, False):
        net = LENetwork(sizes, tau_m=10 * ms, prospective=prospective, dt=0.1 * ms, seed=2,
                        codegen_target="numpy", device="runtime")
        res = net.run(x, 200 * ms)  # 2000 steps per input
        before, after = res.output[:2000], res.output[2000:]
        f0, f1 = _feedforward(net, x[0]), _feedforward(net, x[1])
        if prospective:
            np.testing.assert_allclose(before, np.tile(f0, (2000, 1)), atol=1e-12)
            np.testing.assert_allclose(after, np.tile(f1, (2000, 1)), atol=1e-12)
        lags[prospective] = _lag_steps(after, f1, f0)
    assert lags[True] == 0
    # lagged: a cascade of 4 leaky integrators; 95 % settling of the linear cascade is
    # 7.75 tau_m. Nonlinear layers settle at a comparable time: demand > 1 tau_m per layer.
    assert lags[False] * 0.1 > 4 * 10, lags


def test_lagged_linear_chain_matches_binomial_closed_form():
    """Linear lagged chain of L Euler leaky integrators: u_L[k] = F x P(Bin(k, a) >= L),
    a = dt/tau_m (each layer delays by a geometric number of steps)."""
    sizes = [2, 3, 3, 2]
    net = LENetwork(sizes, activation="linear", prospective=False, tau_m=10 * ms,
                    dt=0.5 * ms, seed=4, codegen_target="numpy", device="runtime")
    x = np.array([[0.3, -0.6]])
    res = net.run(x, 100 * ms)
    k = np.arange(200)
    w, b = net.get_parameters().values()
    final = w[2] @ (w[1] @ (w[0] @ x[0]))  # biases are zero by default
    expected = np.outer(binom.sf(len(sizes) - 2, k, 0.05), final)
    np.testing.assert_allclose(res.output, expected, atol=1e-12)


@pytest.mark.parametrize("tau_r_ms", [10.0, 4.0, 0.0, 25.0])
def test_single_neuron_step_response_closed_form(tau_r_ms):
    """tau_m du/dt = -u + w x, ub = u + tau_r du/dt: ub(t) = I (1 - (1 - tau_r/tau_m) e^{-t/tau_m})
    in continuous time; the Euler solution replaces e^{-t/tau} by (1 - dt/tau)^k."""
    tau_m, dt = 10e-3, 0.05e-3
    net = LENetwork([1, 1], activation="linear", output_activation="linear",
                    tau_m=tau_m * second, tau_r=tau_r_ms * ms, dt=dt * second,
                    codegen_target="numpy", device="runtime")
    net.set_parameters(weights=[np.array([[0.8]])], biases=[np.array([0.1])])
    res = net.run(np.array([[1.5]]), 50 * ms)
    I = 0.8 * 1.5 + 0.1
    k = np.arange(1000)
    c = 1 - tau_r_ms * 1e-3 / tau_m
    np.testing.assert_allclose(res.output[:, 0], I * (1 - c * (1 - dt / tau_m) ** k), atol=1e-13)
    t = k * dt
    np.testing.assert_allclose(res.output[:, 0], I * (1 - c * np.exp(-t / tau_m)),
                               atol=abs(c) * I * 0.01)
    if tau_r_ms == 10.0:
        np.testing.assert_allclose(res.output[:, 0], I, atol=1e-14)


@pytest.mark.parametrize("target_type", ["voltage", "rate"])
def test_no_learning_at_target_or_without_nudging(target_type):
    x, _ = _problem(n_samples=3)
    net = _net(target_type=target_type, output_activation="tanh")
    w0, b0 = net.get_parameters().values()
    probe = net.run(x, 1 * ms, learn=False, record={3: ["ub"]})
    # the output of each sample (constant within a sample: tau_r == tau_m, no error);
    # a voltage target is compared with ub_L, a rate target with r_L = phi(ub_L)
    target = (probe.state("ub", 3) if target_type == "voltage" else probe.output)[::10]
    net.reset_state()
    net.run(x, 1 * ms, targets=target)
    w1, b1 = net.get_parameters().values()
    for a, c in zip(w0 + b0, w1 + b1):  # errors are rounding-level (ub = u + tau_r du/dt)
        np.testing.assert_allclose(a, c, rtol=0, atol=1e-14)
    # beta = 0: no learning however far the target
    net0 = _net(target_type=target_type, beta=0.0)
    net0.run(x, 1 * ms, targets=target + 1.0)
    for a, c in zip(w0 + b0, sum(net0.get_parameters().values(), [])):
        np.testing.assert_array_equal(a, c)
    # a target off the output does change the weights (the checks above can fail)
    net.reset_state()
    net.run(x, 1 * ms, targets=target + 0.1)
    assert max(np.abs(a - c).max() for a, c in zip(w0, net.get_parameters()["weights"])) > 1e-6


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(tau_m=10), "parameter tau_m: expected a value with a unit such as '1 ms', got 10"),
        (dict(tau_m=10 * Hz), r"parameter tau_m: expected a time, got 10. Hz \(a value in ms"),
        (dict(tau_r=-1 * ms), "parameter tau_r must be a value in ms >= 0 ms .*, got -1 ms"),
        (dict(dt=0 * ms), "parameter dt must be a value in ms > 0 ms, got 0 ms"),
        (dict(learning_rates=[1 * Hz, 2 * Hz]), "learning_rates must have one entry per layer"),
        (dict(learning_rates=5), "parameter learning_rates: expected a value with a unit such as "
         "'1 Hz', got 5"),
        (dict(activation="sigmoidal"), r"parameter activation must be one of \[.*'tanh'.*\], "
         "got 'sigmoidal'"),
        (dict(target_type="spike"), "target_type must be one of"),
        (dict(beta=-0.1), "parameter beta must be a number >= 0, got -0.1"),
        (dict(tau_m=[10 * ms, 10 * ms]), "tau_m must be a scalar or a list with one entry per layer"),
        (dict(tau_m=[10 * ms, np.ones(5) * ms, 10 * ms]), r"tau_m\[1\] must be a scalar or have shape \(3,\)"),
        (dict(device="gpu"), "device must be one of"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        LENetwork([5, 4, 3, 2], codegen_target="numpy", **kwargs)


def test_bad_layer_sizes():
    for sizes in ([5], [5, 0, 2], [5, 2.5], "5-3"):
        with pytest.raises(ValueError, match="layer_sizes"):
            LENetwork(sizes, device="runtime")


@pytest.mark.parametrize(
    "args,kwargs,match",
    [
        ((np.zeros((2, 4)), 1 * ms), {}, r"inputs must have shape \(n, 5\), got \(2, 4\)"),
        ((np.zeros(5), 1 * ms), {}, r"inputs must have shape \(n, 5\)"),
        ((np.full((2, 5), np.nan), 1 * ms), {}, "inputs contains NaN"),
        ((np.zeros((2, 5)), -1 * ms), {}, "presentation_time must be > 0"),
        ((np.zeros((2, 5)), 1), {}, "presentation_time must be a quantity in ms"),
        ((np.zeros((2, 5)), 0.25 * ms), {}, "presentation_time must be a positive integer multiple of dt"),
        ((np.zeros((2, 5)), 1 * ms), dict(targets=np.zeros((3, 3))), r"targets must have shape \(2, 3\)"),
        ((np.zeros((2, 5)), 1 * ms), dict(targets=np.array([[0, np.inf, 0]] * 2)), "targets contains NaN or infinite"),
        ((np.zeros((2, 5)), 1 * ms), dict(record=["v"]), "record: unknown variable 'v'"),
        ((np.zeros((2, 5)), 1 * ms), dict(record={7: ["u"]}), "record: layer must be an int in 1..3"),
        ((np.zeros((2, 5)), 1 * ms), dict(record_every=0.15 * ms), "record_every must be a positive integer multiple"),
    ],
)
def test_bad_run_arguments_fail_before_building(args, kwargs, match):
    net = LENetwork(SIZES, dt=0.1 * ms, device="cpp_standalone")
    with pytest.raises((TypeError, ValueError), match=match):
        net.run(*args, **kwargs)
    assert net.n_builds == 0


def test_bad_parameters():
    net = LENetwork(SIZES, codegen_target="numpy", device="runtime")
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(4, 7\)"):
        net.set_parameters(weights=[np.zeros((7, 5)), np.zeros((7, 4)), np.zeros((3, 4))])
    with pytest.raises(ValueError, match=r"biases\[0\] contains NaN"):
        net.set_parameters(biases=[np.full(7, np.nan), np.zeros(4), np.zeros(3)])


def test_divergence_raises_instead_of_nan():
    net = LENetwork([2, 3, 1], learning_rates=1e9 * Hz, beta=10.0, dt=1 * ms,
                    tau_m=1 * ms, codegen_target="numpy", device="runtime")
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="became NaN/inf"):
        net.run(np.ones((300, 2)), 1 * ms, targets=np.full((300, 1), 100.0))


def test_record_hidden_variables_and_interval():
    net = _net()
    x, y = _problem(n_samples=2)
    res = net.run(x, 2 * ms, targets=y, record={1: ["u", "eps"], 3: ["ub"]}, record_every=0.5 * ms)
    assert res.output.shape == (8, 3)
    assert res.state("u", 1).shape == (8, 7)
    np.testing.assert_allclose(res.t / ms, np.arange(8) * 0.5, atol=1e-12)
    np.testing.assert_allclose(res.state("ub", 3), res.output)  # linear output: r = ub
    means = res.sample_means(0.5)
    np.testing.assert_allclose(means, [res.output[2:4].mean(0), res.output[6:8].mean(0)])
    with pytest.raises(KeyError, match="was not recorded"):
        res.state("r", 2)
    res2 = net.run(x, 2 * ms)
    assert float(res2.t[0] / ms) == pytest.approx(4.0)  # network time continues


@pytest.mark.standalone
def test_standalone_rerun_new_weights_no_recompile():
    """Second run with new weights, inputs and targets reuses the binary (no generation,
    no compilation) and equals a fresh build and the NumPy reference."""
    x, y = _problem()
    net = _net("cpp_standalone")
    first = net.run(x, 1 * ms, targets=y)
    assert first.compiled and net.n_builds == 1
    binary = os.path.join(net.build_directories[0], "main")
    mtime = os.path.getmtime(binary)
    rng = np.random.default_rng(11)
    new_w = [rng.normal(0, 0.5, w.shape) for w in net.get_parameters()["weights"]]
    net.set_parameters(weights=new_w)
    net.reset_state()
    biases = net.get_parameters()["biases"]
    x2, y2 = _problem(seed=9)
    rerun = net.run(x2, 1 * ms, targets=y2)
    assert not rerun.compiled and net.n_builds == 1 and rerun.build_time == 0 * second
    assert os.path.getmtime(binary) == mtime
    fresh = _net("cpp_standalone", simulator=Simulator("cpp_standalone"))
    fresh.set_parameters(weights=new_w, biases=biases)
    ref = _reference(fresh)
    out_fresh = fresh.run(x2, 1 * ms, targets=y2)
    out_ref, _ = ref.run(x2, 10, y2)
    assert fresh.build_directories[0] != net.build_directories[0]
    np.testing.assert_allclose(rerun.output, out_fresh.output, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rerun.output, out_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(net.get_parameters()["weights"][0], fresh.get_parameters()["weights"][0],
                               rtol=0, atol=1e-12)


@pytest.mark.standalone
def test_compile_then_run_reuses_the_program():
    """LENetwork.compile builds the program of a shape without running it; the run that
    follows does not compile and equals the NumPy reference (1e-10). compile() on the
    runtime device raises."""
    net = _net("cpp_standalone", "auto", simulator=Simulator("cpp_standalone"))
    ref = _reference(net)
    x, y = _problem()
    directory = net.compile(np.zeros_like(x), 2 * ms)
    assert net.n_builds == 1 and os.path.exists(os.path.join(directory, "main"))
    res = net.run(x, 2 * ms, targets=y)
    assert not res.compiled and net.n_builds == 1
    out, _ = ref.run(x, 20, y)
    np.testing.assert_allclose(res.output, out, rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="standalone device"):
        _net().compile(x, 2 * ms)
