"""Convolution and pooling layers of LENetwork (issue 28): the Brian2 plain path against
independent checks: a dense NumPy LE network (le_brian.numpy_reference.NumpyLENetwork)
whose weight matrix is the Toeplitz expansion of the kernel, built by explicit loops here
(kernel update = the sum over tied entries of the dense update; bias update = the sum
over positions), and pooling against explicit loops over the recorded rates."""

import json
import subprocess
import sys

import numpy as np
import pytest
from brian2 import Hz, ms

from le_brian import AvgPool2D, Conv2D, Dense, Input, LENetwork, MaxPool2D
from le_brian.engine.conv import ConvProjection
from le_brian.numpy_reference import NumpyLENetwork
from le_brian.numpy_reference.conv import NumpyConvLENetwork

TAU, DT = 10e-3, 1e-4


def toeplitz(K, in_shape, stride=(1, 1), padding=(0, 0)):
    """Dense (n_out, n_in) matrix of the convolution with kernel K (O, C, kh, kw), and
    the tie table: for every dense entry the flat kernel index (-1: no tie)."""
    O, C, kh, kw = K.shape
    _, H, W = in_shape
    (sh, sw), (ph, pw) = stride, padding
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    T = np.zeros((O * Ho * Wo, C * H * W))
    tie = np.full(T.shape, -1)
    for o in range(O):
        for y in range(Ho):
            for x in range(Wo):
                for c in range(C):
                    for i in range(kh):
                        for j in range(kw):
                            yy, xx = y * sh + i - ph, x * sw + j - pw
                            if 0 <= yy < H and 0 <= xx < W:
                                n_out, n_in = (o * Ho + y) * Wo + x, (c * H + yy) * W + xx
                                T[n_out, n_in] = K[o, c, i, j]
                                tie[n_out, n_in] = ((o * C + c) * kh + i) * kw + j
    return T, tie, (O, Ho, Wo)


def _data(n, n_in, n_out, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, n_in)), rng.uniform(-0.5, 0.5, (n, n_out))


@pytest.mark.parametrize("scheme,stride,padding", [("sweep", 1, 0), ("reference", 2, 1)])
def test_conv_matches_tied_toeplitz_reference(scheme, stride, padding):
    """Conv2D -> Dense on runtime: outputs, kernel, bias and dense weights after 200
    learning steps equal the tied Toeplitz reference (float64, 1e-10)."""
    layers = [Input((2, 5, 5)), Conv2D(2, 3, stride=stride, padding=padding), Dense(3)]
    net = LENetwork(layers, activation="tanh", output_activation="linear",
                    learning_rates=[300 * Hz, 100 * Hz], dt=DT * 1e3 * ms, scheme=scheme,
                    device="runtime", codegen_target="numpy", seed=3, beta=0.1)
    p = net.get_parameters()
    p["biases"][0] = np.array([0.1, -0.2])
    net.set_parameters(**p)
    x, y = _data(4, 50, 3)
    steps = 200
    res = net.run(x, steps // 4 * DT * 1e3 * ms, y)
    outs, K, bk, W2, b2 = tied_reference(p, x, y, steps, scheme, stride, padding)
    q = net.get_parameters()
    np.testing.assert_allclose(res.output, outs, rtol=0, atol=1e-10)
    np.testing.assert_allclose(q["weights"][0], K, rtol=0, atol=1e-10)
    np.testing.assert_allclose(q["biases"][0], bk, rtol=0, atol=1e-10)
    np.testing.assert_allclose(q["weights"][1], W2, rtol=0, atol=1e-10)
    np.testing.assert_allclose(q["biases"][1], b2, rtol=0, atol=1e-10)
    assert np.abs(q["weights"][0] - p["weights"][0]).max() > 1e-4  # it learned


def tied_reference(p, x, y, steps, scheme, stride, padding, etas=(300.0, 100.0),
                   hw=(5, 5)):
    """Conv -> Dense stepped by NumpyLENetwork with the Toeplitz weights, re-tied after
    every step: K += the sum of the dense update over its tied entries, b += its sum over
    positions. Returns the output rates of every step and the final K, b, W2, b2."""
    K, bk, W2, b2 = (p["weights"][0], p["biases"][0], p["weights"][1], p["biases"][1])
    in_shape, stride, padding = (K.shape[1], *hw), (stride, stride), (padding, padding)
    Kc, bc = K.copy(), bk.copy()
    T, tie, (O, Ho, Wo) = toeplitz(Kc, in_shape, stride, padding)
    net = NumpyLENetwork([T, W2], [np.repeat(bc, Ho * Wo), b2], activation="tanh",
                         output_activation="linear", tau_m=TAU, beta=0.1,
                         learning_rates=list(etas), dt=DT, scheme=scheme)
    outs = []
    per = steps // x.shape[0]
    for k in range(steps):
        T_old, b_old = net.W[0].copy(), net.b[0].copy()
        if scheme == "sweep":
            out = net.step(x[k // per], y[k // per])[0]
        else:
            out = net.reference_step(x[k // per], y[k // per])
        outs.append(np.array(out))
        dT, db = net.W[0] - T_old, net.b[0] - b_old
        gK = np.zeros(Kc.size)
        np.add.at(gK, tie[tie >= 0], dT[tie >= 0])
        Kc = Kc + gK.reshape(Kc.shape)
        bc = bc + db.reshape(O, Ho * Wo).sum(axis=1)
        net.W[0] = toeplitz(Kc, in_shape, stride, padding)[0]
        net.b[0] = np.repeat(bc, Ho * Wo)
    return np.array(outs), Kc, bc, net.W[1], net.b[1]


def pool_loops(r, shape, size, stride, padding, kind):
    """Pooled rates and, for max, the arg-max input unit of every output unit, by loops
    (first maximum in row-major window order; average over kh*kw, padding as zeros)."""
    C, H, W = shape
    (kh, kw), (sh, sw), (ph, pw) = size, stride, padding
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    out, arg = np.zeros(C * Ho * Wo), np.full(C * Ho * Wo, -1)
    for c in range(C):
        for y in range(Ho):
            for x in range(Wo):
                n, best, total = (c * Ho + y) * Wo + x, None, 0.0
                for i in range(kh):
                    for j in range(kw):
                        yy, xx = y * sh + i - ph, x * sw + j - pw
                        if 0 <= yy < H and 0 <= xx < W:
                            m = (c * H + yy) * W + xx
                            total += r[m]
                            if best is None or r[m] > best:
                                best, arg[n] = r[m], m
                out[n] = best if kind == "max" else total / (kh * kw)
    return out, arg


def route_loops(I_fb, arg, shape, size, stride, padding, kind):
    """The error handed to the layer below a pooling layer, by loops."""
    C, H, W = shape
    (kh, kw), (sh, sw), (ph, pw) = size, stride, padding
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    down = np.zeros(C * H * W)
    for c in range(C):
        for y in range(Ho):
            for x in range(Wo):
                n = (c * Ho + y) * Wo + x
                for i in range(kh):
                    for j in range(kw):
                        yy, xx = y * sh + i - ph, x * sw + j - pw
                        if 0 <= yy < H and 0 <= xx < W:
                            m = (c * H + yy) * W + xx
                            if kind == "avg":
                                down[m] += I_fb[n] / (kh * kw)
                            elif m == arg[n]:
                                down[m] += I_fb[n]
    return down


@pytest.mark.parametrize("kind,size,stride,padding,scheme", [
    ("max", 3, 2, 1, "sweep"), ("avg", 2, 2, 0, "sweep"), ("max", 2, 2, 0, "reference")])
def test_pooling_against_loops(kind, size, stride, padding, scheme):
    """Input -> Conv2D -> pooling -> Dense on runtime (no plasticity, so W is known): at every step the pooled
    rates are the loops' max / average of the rates the next projection reads (sweep:
    this step's conv rates; reference: last step's), the conv layer's I_fb the loops'
    routing of the pooling layer's I_fb, which is W^T of the dense layer's held error."""
    pool = (MaxPool2D if kind == "max" else AvgPool2D)(size, stride, padding)
    hw = 7 if size == 3 else 6
    net = LENetwork([Input((1, hw, hw)), Conv2D(2, 3), pool, Dense(3)],
                    activation="tanh", output_activation="linear", dt=DT * 1e3 * ms,
                    learning_rates=[0 * Hz, 0 * Hz], scheme=scheme, device="runtime",
                    codegen_target="numpy", seed=5)
    x, y = _data(3, hw * hw, 3, seed=2)
    res = net.run(x, 2 * ms, y, record={1: ["r", "I_fb"], 2: ["r", "I_fb"], 3: ["eps"]})
    r1, fb1 = res.states["layer1"]["r"], res.states["layer1"]["I_fb"]
    r2, fb2 = res.states["layer2"]["r"], res.states["layer2"]["I_fb"]
    e3 = res.states["layer3"]["eps"]
    W3 = net.get_parameters()["weights"][1]
    shape, geo = (2, hw - 2, hw - 2), ((size, size), (stride, stride), (padding, padding))
    lag = 0 if scheme == "sweep" else 1
    assert np.abs(fb1).max() > 1e-3 and np.ptp(r1) > 0.1
    for t in range(1, len(r2)):
        pooled, arg = pool_loops(r1[t - lag], shape, *geo, kind)
        np.testing.assert_array_equal(r2[t], pooled)
        np.testing.assert_allclose(fb2[t], W3.T @ e3[t - 1], rtol=0, atol=1e-13)
        np.testing.assert_allclose(fb1[t], route_loops(fb2[t], arg, shape, *geo, kind),
                                   rtol=0, atol=1e-15)


@pytest.mark.parametrize("scheme", ["sweep", "reference"])
def test_conv_conv_dense_feedback(scheme):
    """Conv2D -> Conv2D -> Dense: the transposed convolution carries the error down; all
    parameters after 120 learning steps equal the tied Toeplitz reference (1e-10)."""
    layers = [Input((1, 5, 5)), Conv2D(2, 2), Conv2D(3, 2, stride=1, padding=1), Dense(2)]
    etas = (200.0, 300.0, 100.0)
    net = LENetwork(layers, activation="tanh", output_activation="linear",
                    learning_rates=[e * Hz for e in etas], dt=DT * 1e3 * ms, scheme=scheme,
                    device="runtime", codegen_target="numpy", seed=4, beta=0.1)
    p = net.get_parameters()
    x, y = _data(3, 25, 2, seed=7)
    res = net.run(x, 4 * ms, y)
    outs, params = tied_chain(p, [(1, 5, 5), (2, 4, 4), None], [(1, 0), (1, 1), None], x, y,
                              120, scheme, etas)
    q = net.get_parameters()
    np.testing.assert_allclose(res.output, outs, rtol=0, atol=1e-10)
    for kind in ("weights", "biases"):
        for a, b in zip(q[kind], params[kind]):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    assert np.abs(q["weights"][0] - p["weights"][0]).max() > 1e-5


def tied_chain(p, in_shapes, geos, x, y, steps, scheme, etas):
    """A chain of Conv2D / Dense layers (``in_shapes[m]`` None: dense) stepped by
    NumpyLENetwork with Toeplitz weights, re-tied after every step."""
    Ws, bs, ties, reps = [], [], [], []
    for m, (shape, geo) in enumerate(zip(in_shapes, geos)):
        W, b = p["weights"][m].copy(), p["biases"][m].copy()
        if shape is None:
            Ws.append(W)
            bs.append(b)
            ties.append(None)
            reps.append(1)
        else:
            T, tie, (O, Ho, Wo) = toeplitz(W, shape, (geo[0],) * 2, (geo[1],) * 2)
            Ws.append(T)
            bs.append(np.repeat(b, Ho * Wo))
            ties.append(tie)
            reps.append(Ho * Wo)
    kernels = [p["weights"][m].copy() for m in range(len(Ws))]
    biases = [p["biases"][m].copy() for m in range(len(Ws))]
    net = NumpyLENetwork(Ws, bs, activation="tanh", output_activation="linear", tau_m=TAU,
                         beta=0.1, learning_rates=list(etas), dt=DT, scheme=scheme)
    outs, per = [], steps // x.shape[0]
    for k in range(steps):
        old = [(w.copy(), b.copy()) for w, b in zip(net.W, net.b)]
        out = (net.step(x[k // per], y[k // per])[0] if scheme == "sweep"
               else net.reference_step(x[k // per], y[k // per]))
        outs.append(np.array(out))
        for m, tie in enumerate(ties):
            if tie is None:
                continue
            dT, db = net.W[m] - old[m][0], net.b[m] - old[m][1]
            gK = np.zeros(kernels[m].size)
            np.add.at(gK, tie[tie >= 0], dT[tie >= 0])
            kernels[m] = kernels[m] + gK.reshape(kernels[m].shape)
            biases[m] = biases[m] + db.reshape(-1, reps[m]).sum(axis=1)
            geo = geos[m]
            net.W[m] = toeplitz(kernels[m], in_shapes[m], (geo[0],) * 2, (geo[1],) * 2)[0]
            net.b[m] = np.repeat(biases[m], reps[m])
    for m, tie in enumerate(ties):
        if tie is None:
            kernels[m], biases[m] = net.W[m], net.b[m]
    return np.array(outs), {"weights": kernels, "biases": biases}


@pytest.mark.parametrize("layers,match", [
    ([Input(36), Conv2D(2, 3), Dense(2)], r"Conv2D needs an image input: give Input\(\(C, H, W\)\)"),
    ([Input((1, 6, 6)), Dense(4), Conv2D(2, 3), Dense(2)], "after a Dense layer"),
    ([Input((1, 6, 6)), Dense(4), MaxPool2D(2), Dense(2)], "after a Dense layer"),
    ([Input((1, 4, 4)), Conv2D(2, 5), Dense(2)], "kernel_size 5 is larger than its input"),
    ([Input((1, 6, 6)), Conv2D(2, 3, stride=2), Dense(2)], "stride 2 does not tile"),
    ([Input((1, 6, 6)), Conv2D(2, 3), MaxPool2D(3), Dense(2)], "stride 3 does not tile"),
    ([Input((1, 5, 5)), MaxPool2D(2), Dense(2)], "MaxPool2D: stride 2 does not tile"),
    ([Input((1, 6, 6)), Conv2D(2, 3, padding=2), Dense(2)], "padding 2 must be at most half"),
    ([Input((1, 6, 6)), Conv2D(2, 3), MaxPool2D(2)], "output layer must be Dense or Conv2D"),
])
def test_bad_architectures(layers, match):
    """Shapes that do not fit: a ValueError naming the parameter, before anything is
    built."""
    with pytest.raises(ValueError, match=match):
        LENetwork(layers, device="runtime")


@pytest.mark.parametrize("spec,match", [
    (lambda: Conv2D(0, 3), "Conv2D: channels must be a positive int"),
    (lambda: Conv2D(2, (3, 3, 3)), "kernel_size must be an int or a pair"),
    (lambda: Conv2D(2, 3, activation="nope"), "Conv2D: activation must be one of"),
    (lambda: MaxPool2D(0), "MaxPool2D: size must be >= 1"),
    (lambda: AvgPool2D(2, padding=-1), "AvgPool2D: padding must be >= 0"),
    (lambda: Input((1, 0, 6)), "Input: shape must be"),
])
def test_bad_layer_specifications(spec, match):
    with pytest.raises(ValueError, match=match):
        spec()


@pytest.mark.parametrize("option", [dict(hand_down="mismatch"), dict(spiking=True),
                                    dict(tau_learning="tau_m"), dict(tau_syn=1 * ms),
                                    dict(rate_noise=0 * ms ** 0.5)])
def test_unsupported_options(option):
    name = next(iter(option))
    with pytest.raises(ValueError, match=f"{name}=.* is not supported with Conv2D/pooling"):
        LENetwork([Input((1, 6, 6)), Conv2D(2, 3), MaxPool2D(2), Dense(2)], device="runtime",
                  **option)


def test_parameters_state_and_checkpoints(tmp_path):
    """One parameter entry per learnable layer (kernel (O, C, kh, kw), bias (O,)); the
    default draw; learning rates per learnable layer; flat layer sizes; parameters saved
    and loaded; the pooling layer has no state; a conv layer records its bias."""
    layers = [Input((1, 6, 6)), Conv2D(2, 3), MaxPool2D(2), Dense(3)]
    net = LENetwork(layers, device="runtime", codegen_target="numpy", seed=12)
    assert net.layer_sizes == [36, 32, 8, 3]
    p = net.get_parameters()
    assert [w.shape for w in p["weights"]] == [(2, 1, 3, 3), (3, 8)]
    assert [b.shape for b in p["biases"]] == [(2,), (3,)]
    rng = np.random.default_rng(12)  # the draw: layer order, N(0, 1/sqrt(fan-in))
    np.testing.assert_array_equal(p["weights"][0], rng.normal(0, 1 / 3, (2, 1, 3, 3)))
    np.testing.assert_array_equal(p["weights"][1], rng.normal(0, 1 / np.sqrt(8), (3, 8)))
    assert not np.any(p["biases"][0])
    with pytest.raises(ValueError, match=r"one entry per learnable layer \(Conv2D, Dense\) \(2\)"):
        net.set_learning_rates([1 * Hz] * 3)
    with pytest.raises(ValueError, match=r"weights\[0\] must have shape \(2, 1, 3, 3\)"):
        net.set_parameters(weights=[np.zeros((2, 9)), p["weights"][1]])
    net.set_learning_rates([50 * Hz, 20 * Hz])
    x, y = _data(2, 36, 3)
    res = net.run(x, 1 * ms, y, record={1: ["b", "r"], 2: ["r"]})
    b = net.get_parameters()["biases"][0]
    np.testing.assert_allclose(res.states["layer1"]["b"][-1], np.repeat(b, 16), atol=1e-15)
    assert net.get_state()["layer2"] == {}
    net.save_parameters(tmp_path / "p.npz")
    other = LENetwork(layers, device="runtime", codegen_target="numpy", seed=99)
    other.load_parameters(tmp_path / "p.npz")
    for a, c in zip(net.get_parameters()["weights"], other.get_parameters()["weights"]):
        np.testing.assert_array_equal(a, c)
    scaled = LENetwork(layers, device="runtime", weight_scale=0.05, seed=12)
    rng = np.random.default_rng(12)
    np.testing.assert_array_equal(scaled.get_parameters()["weights"][0],
                                  rng.normal(0, 0.05, (2, 1, 3, 3)))
    np.testing.assert_array_equal(scaled.get_parameters()["biases"][0], rng.normal(0, 0.05, 2))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "le_brian.cli", *args], capture_output=True,
                          text=True, timeout=600)


def test_cli_lenet5_model_train_resume_evaluate(tmp_path):
    """`le-brian train --model lenet5_mnist5k` (shrunk by --set to one small convolution on
    runtime numpy): a run folder, --resume to a second epoch bit-identical to an
    uninterrupted run, and `le-brian evaluate` reproducing the last test accuracy."""
    small = ["--model", "lenet5_mnist5k", "--set", "conv=c2k4s4,m7", "--set", "hidden=4",
             "--learning-rate", "20Hz", "--presentation-time", "0.3ms", "--set", "n_train=12",
             "--set", "n_val=4", "--set", "n_test=6", "--device", "runtime",
             "--codegen-target", "numpy"]
    a, b = tmp_path / "a", tmp_path / "b"
    out = _cli("train", *small, "--epochs", "2", "--out", str(a))
    assert out.returncode == 0, out.stderr
    assert _cli("train", *small, "--epochs", "1", "--out", str(b)).returncode == 0
    cfg = json.loads((b / "config.json").read_text())
    cfg["parameters"]["training"]["epochs"] = 2
    (b / "config.json").write_text(json.dumps(cfg))
    out = _cli("train", *small, "--epochs", "2", "--out", str(b), "--resume")
    assert out.returncode == 0, out.stderr
    wa, wb = np.load(a / "weights.npz"), np.load(b / "weights.npz")
    assert wa["weights_1"].shape == (2, 1, 4, 4) and wa["biases_1"].shape == (2,)
    for k in wa.files:
        np.testing.assert_array_equal(wa[k], wb[k])
    history = json.loads((a / "metrics.json").read_text())
    ev = _cli("evaluate", str(a), "--device", "runtime")
    assert ev.returncode == 0, ev.stderr
    acc = float(ev.stdout.split("accuracy")[1].split()[0])
    assert acc == pytest.approx(history[-1]["test_accuracy"], abs=5e-4)


# ------------------------------------------------ against NumpyConvLENetwork (issue 28)
def _reference_layers(layers):
    """The NumPy reference's description of LENetwork layer specifications: each layer
    type gives its own (``reference()``)."""
    return [spec.reference() for spec in layers]


def test_layer_types_describe_themselves_to_the_reference():
    assert _reference_layers([Input((2, 7, 7)), Conv2D(3, 3, stride=2, padding=1),
                              MaxPool2D(2), AvgPool2D(3, stride=1, padding=(1, 0)),
                              Dense(4, activation="relu"), Dense(2)]) == [
        ("input", (2, 7, 7)), ("conv", 3, (3, 3), (2, 2), (1, 1)),
        ("maxpool", (2, 2), (2, 2), (0, 0)), ("avgpool", (3, 3), (1, 1), (1, 0)),
        ("dense", 4, "relu"), ("dense", 2)]
    assert Input(5).reference() == ("input", 5)


REFERENCE_CASES = {
    "sweep-stride-padding-max": dict(
        layers=[Input((2, 7, 7)), Conv2D(3, 3, stride=2, padding=1), MaxPool2D(2), Dense(3)],
        scheme="sweep", target_type="voltage"),
    "reference-avg-conv-conv": dict(
        layers=[Input((1, 8, 8)), Conv2D(2, 3, padding=1), AvgPool2D(2), Conv2D(3, 3),
                Dense(2)], scheme="reference", target_type="rate"),
    "sweep-overlapping-max-conv-output": dict(
        layers=[Input((1, 7, 7)), Conv2D(2, 3), MaxPool2D(3, stride=2, padding=1),
                Conv2D(2, 3)], scheme="sweep", target_type="rate"),
    "reference-max-stride-plain": dict(
        layers=[Input((1, 9, 9)), Conv2D(2, 3, stride=2), MaxPool2D(2), Dense(3)],
        scheme="reference", target_type="voltage", synapses="plain"),
}


def _against_reference(case, device, steps_per_sample=50, n=4, synapses="dense"):
    """Run LENetwork and NumpyConvLENetwork side by side: every step's output, I_ff,
    I_fb and held error of every neuron layer, the pooled rates, and the final kernels,
    biases and weights (float64, 1e-10)."""
    c = REFERENCE_CASES[case]
    layers = c["layers"]
    n_learn = sum(not isinstance(s, (MaxPool2D, AvgPool2D)) for s in layers[1:])
    etas = [300.0, 200.0, 100.0][:n_learn]
    net = LENetwork(layers, activation="tanh", output_activation="linear", beta=0.1,
                    target_type=c["target_type"], learning_rates=[e * Hz for e in etas],
                    dt=DT * 1e3 * ms, scheme=c["scheme"], device=device,
                    codegen_target="numpy", seed=21, synapses=c.get("synapses", synapses))
    p = net.get_parameters()
    p["biases"] = [np.random.default_rng(m).normal(0, 0.2, b.shape)
                   for m, b in enumerate(p["biases"])]
    net.set_parameters(**p)
    n_in, n_out = net.layer_sizes[0], net.layer_sizes[-1]
    x, y = _data(n, n_in, n_out, seed=9)
    y = y + 0.5
    pools = (MaxPool2D, AvgPool2D)
    record = {f"layer{l}": ["r", "I_fb"] if isinstance(spec, pools) else
              ["I_ff", "I_fb", "eps", "r"] for l, spec in enumerate(layers[1:], start=1)}
    # the kernels (and biases) of the convolutions over time: the whole first kernel, a
    # few entries of the others
    convs = {f"proj{l}": m for m, (l, spec) in enumerate(
        [(l, s) for l, s in enumerate(layers[1:], start=1) if not isinstance(s, pools)])
        if isinstance(spec, Conv2D)}
    entries = {}
    for k, (proj, m) in enumerate(convs.items()):
        entries[proj] = True if k == 0 else [(1, 0, 2, 1), (0, 1, 0, 0)]
        record[proj] = entries[proj]
    res = net.run(x, steps_per_sample * DT * 1e3 * ms, y, record=record)
    kernels = {proj: [] for proj in convs}
    ref = NumpyConvLENetwork(_reference_layers(layers), p["weights"], p["biases"],
                             activation="tanh", output_activation="linear", tau_m=TAU,
                             beta=0.1, target_type=c["target_type"], learning_rates=etas,
                             dt=DT, scheme=c["scheme"])
    rec = {k: [[] for _ in layers[1:]] for k in ("I_ff", "I_fb", "e", "r")}
    outs = []
    for k in range(n * steps_per_sample):
        outs.append(ref.step(x[k // steps_per_sample], y[k // steps_per_sample]))
        for name in rec:
            for l in range(len(layers) - 1):
                value = getattr(ref, name)[l]
                rec[name][l].append(None if value is None else np.array(value))
        for proj, m in convs.items():
            kernels[proj].append((np.array(ref.W[m]), np.array(ref.b[m])))
    np.testing.assert_allclose(res.output, np.array(outs), rtol=0, atol=1e-10)
    for l, spec in enumerate(layers[1:], start=1):
        states = res.states[f"layer{l}"]
        np.testing.assert_allclose(states["r"], np.array(rec["r"][l - 1]), rtol=0, atol=1e-10)
        if isinstance(spec, (MaxPool2D, AvgPool2D)):
            continue
        for ours, theirs in (("I_ff", "I_ff"), ("eps", "e")):
            np.testing.assert_allclose(states[ours], np.array(rec[theirs][l - 1]), rtol=0,
                                       atol=1e-10, err_msg=f"layer{l}.{ours}")
        if l < len(layers) - 1:
            np.testing.assert_allclose(states["I_fb"], np.array(rec["I_fb"][l - 1]), rtol=0,
                                       atol=1e-10, err_msg=f"layer{l}.I_fb")
    for proj, m in convs.items():  # record={'projN': ...}: kernels and biases over time
        got = res.weights[proj]
        K = np.array([k for k, _ in kernels[proj]])
        idx = (np.argwhere(np.ones(K.shape[1:], bool)) if entries[proj] is True
               else np.array(entries[proj]))
        np.testing.assert_array_equal(got["index"], idx)
        np.testing.assert_allclose(got["w"], K[(slice(None), *idx.T)], rtol=0, atol=1e-10,
                                   err_msg=proj)
        np.testing.assert_allclose(got["b"], np.array([b for _, b in kernels[proj]]),
                                   rtol=0, atol=1e-10, err_msg=proj)
        assert len(got["t"]) == n * steps_per_sample
        assert np.abs(got["w"][-1] - got["w"][0]).max() > 1e-6  # it moved
    q = net.get_parameters()
    for m in range(n_learn):
        np.testing.assert_allclose(q["weights"][m], ref.W[m], rtol=0, atol=1e-10)
        np.testing.assert_allclose(q["biases"][m], ref.b[m], rtol=0, atol=1e-10)
    assert np.abs(q["weights"][0] - p["weights"][0]).max() > 1e-5  # it learned
    assert np.abs(q["biases"][0] - p["biases"][0]).max() > 1e-5
    return net


@pytest.mark.parametrize("case", sorted(REFERENCE_CASES))
def test_against_numpy_conv_reference_runtime(case):
    """200 learning steps on runtime (numpy) equal NumpyConvLENetwork step by step."""
    _against_reference(case, "runtime")


@pytest.mark.parametrize("case, synapses", [("reference-avg-conv-conv", "dense"),
                                             ("sweep-stride-padding-max", "dense"),
                                             ("sweep-stride-padding-max", "plain")])
def test_against_numpy_conv_reference_cpp_standalone(case, synapses):
    """The same on cpp_standalone: ``synapses="dense"`` (default) runs every conv
    projection as one fused pass (`le_brian.engine.conv.ConvProjection`; the reference
    scheme adds a plasticity-only pass), ``"plain"`` Brian2's own templates; a Dense layer
    after a pooling layer takes the fused dense template."""
    net = _against_reference(case, "cpp_standalone", synapses=synapses)
    fused = [name for name, obj in net.projections.items()
             if isinstance(obj, ConvProjection)]
    n_conv = sum(isinstance(s, Conv2D) for s in REFERENCE_CASES[case]["layers"])
    scheme = REFERENCE_CASES[case]["scheme"]
    assert len(fused) == (0 if synapses == "plain" else
                          n_conv * (2 if scheme == "reference" else 1)), fused


def test_inputs_must_match_the_image():
    """Inputs are flat images (C*H*W columns, C order); another width is refused naming
    the expected shape, as is an image_shape that does not match the data."""
    net = LENetwork([Input((2, 3, 3)), Conv2D(1, 2), Dense(2)], device="runtime")
    with pytest.raises(ValueError, match=r"inputs must have shape \(n, 18\)"):
        net.run(np.zeros((2, 9)), 1 * ms)
    from le_brian.params import TrainingParameters
    from le_brian.protocols.training import layer_specifications

    cfg = TrainingParameters(conv="c2k3,m2", image_shape=[1, 8, 8], hidden=[5])
    with pytest.raises(ValueError, match=r"image_shape \(1, 8, 8\) has 64 units but the data "
                                         r"have 63 features"):
        layer_specifications(cfg, 63, 10)
    assert layer_specifications(cfg, 64, 10)[1:3] == [Conv2D(2, 3), MaxPool2D(2)]


def test_kernel_recording_is_checked():
    """record={'projN': ...} of a convolution takes True or (o, c, i, j) entries inside
    its kernel; a pooling layer has no weights to record (before anything is built)."""
    net = LENetwork([Input((1, 6, 6)), Conv2D(2, 3), MaxPool2D(2), Dense(3)],
                    device="runtime", codegen_target="numpy", seed=1)
    assert net.kernel_shapes() == {"proj1": (2, 1, 3, 3)}
    x, y = _data(1, 36, 3)
    for bad, error, message in (
            ([(0, 0, 0)], ValueError, r"\(o, c, i, j\) integer index rows \(shape "
                                      r"\(2, 1, 3, 3\)\)"),
            ([(2, 0, 0, 0)], ValueError, r"rows must lie within the shape \(2, 1, 3, 3\)"),
            ("w", TypeError, r"True \(the whole kernel\) or a list of \(o, c, i, j\)")):
        with pytest.raises(error, match=message):
            net.run(x, 1 * ms, y, record={"proj1": bad})
    with pytest.raises(ValueError, match=r"unknown key 'proj2'.*projections \['proj3', 'proj1'\]"):
        net.run(x, 1 * ms, y, record={"proj2": True})
    assert net.n_builds == 0
