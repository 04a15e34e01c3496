"""The NumPy reference of convolutional LE networks and the conv backprop baseline:
convolution and pooling against explicit loops, the conv network against the dense
reference (dense-only layers, and a conv layer as its Toeplitz-expanded dense layer),
backprop gradients against finite differences, and the LE kernel update against the
gradient of the cost at the steady state (docs/model.md §1.9)."""

import numpy as np
import pytest

from le_brian.numpy_reference import (BackpropConvNet, BackpropMLP, NumpyConvLENetwork,
                                      NumpyLENetwork, train_backprop_conv)
from le_brian.numpy_reference.conv_ops import (conv_forward, conv_kernel_gradient,
                                               conv_transpose, init_parameters, parse_layers,
                                               patches, pool_forward, pool_route)


def _spec(kind, in_shape, *args):
    return parse_layers([("input", in_shape), (kind, *args), ("dense", 1)])[1]


def _inside(a, c, yy, xx):
    return 0 <= yy < a.shape[1] and 0 <= xx < a.shape[2]


# ---------------------------------------------------------------- the array functions
def test_conv_against_loops_stride_and_padding():
    rng = np.random.default_rng(0)
    C, H, W, O, kh, kw, sh, sw, ph, pw = 2, 7, 5, 3, 3, 3, 2, 2, 1, 1
    s = _spec("conv", (C, H, W), O, (kh, kw), (sh, sw), (ph, pw))
    assert s.out_shape == (O, 4, 3)
    a, K = rng.normal(size=(C, H, W)), rng.normal(size=(O, C, kh, kw))
    g = rng.normal(size=s.out_shape)
    I, fb, dK = np.zeros(s.out_shape), np.zeros((C, H, W)), np.zeros(K.shape)
    for o, c, i, j, y, x in np.ndindex(O, C, kh, kw, *s.out_shape[1:]):
        yy, xx = y * sh + i - ph, x * sw + j - pw
        if _inside(a, c, yy, xx):
            I[o, y, x] += K[o, c, i, j] * a[c, yy, xx]
            fb[c, yy, xx] += K[o, c, i, j] * g[o, y, x]
            dK[o, c, i, j] += g[o, y, x] * a[c, yy, xx]
    P = patches(a, s)
    np.testing.assert_allclose(conv_forward(K, P), I, rtol=0, atol=1e-13)
    np.testing.assert_allclose(conv_transpose(K, g, s), fb, rtol=0, atol=1e-13)
    np.testing.assert_allclose(conv_kernel_gradient(g, P), dK, rtol=0, atol=1e-13)
    # leading batch axes give the same per sample
    batch = np.stack([a, 2 * a])
    np.testing.assert_allclose(conv_forward(K, patches(batch, s))[1], 2 * I, atol=1e-12)


@pytest.mark.parametrize("kind", ["maxpool", "avgpool"])
def test_pooling_against_loops_ties_to_the_first(kind):
    rng = np.random.default_rng(1)
    C, H, W, (kh, kw), (sh, sw), (ph, pw) = 2, 5, 6, (3, 2), (2, 2), (1, 0)
    s = _spec(kind, (C, H, W), (kh, kw), (sh, sw), (ph, pw))
    a = rng.integers(-2, 3, size=(C, H, W)).astype(float)  # many ties
    a[0, :2, :] = -5.0  # the top windows: inside maximum below the (zero) padding
    g = rng.normal(size=s.out_shape)
    out, route, first = np.zeros(s.out_shape), np.zeros(a.shape), np.zeros(s.out_shape, int)
    for c, y, x in np.ndindex(*s.out_shape):
        best, where, total = -np.inf, None, 0.0
        for i, j in np.ndindex(kh, kw):  # row-major window order
            yy, xx = y * sh + i - ph, x * sw + j - pw
            if not _inside(a, c, yy, xx):
                continue
            total += a[c, yy, xx]
            if a[c, yy, xx] > best:  # strict: ties stay with the first
                best, where, first[c, y, x] = a[c, yy, xx], (yy, xx), i * kw + j
            if kind == "avgpool":
                route[c, yy, xx] += g[c, y, x] / (kh * kw)
        if kind == "maxpool":
            out[c, y, x] = best
            route[c, where[0], where[1]] += g[c, y, x]
        else:
            out[c, y, x] = total / (kh * kw)
    r, q = pool_forward(a, s)
    np.testing.assert_allclose(r, out, rtol=0, atol=1e-15)
    np.testing.assert_allclose(pool_route(g, q, s), route, rtol=0, atol=1e-15)
    if kind == "maxpool":
        np.testing.assert_array_equal(q, first)
        assert (out[0, 0] < 0).all()  # padding never wins


def test_bad_layer_lists():
    with pytest.raises(ValueError, match="image input"):
        parse_layers([("input", 16), ("conv", 2, 3, 1, 0), ("dense", 2)])
    with pytest.raises(ValueError, match="image input"):
        parse_layers([("input", (1, 4, 4)), ("dense", 3), ("conv", 2, 1, 1, 0)])
    with pytest.raises(ValueError, match="larger than"):
        parse_layers([("input", (1, 4, 4)), ("conv", 2, 5, 1, 0)])
    with pytest.raises(ValueError, match="does not tile"):
        parse_layers([("input", (1, 5, 5)), ("maxpool", 2, 2, 0), ("dense", 2)])
    with pytest.raises(ValueError, match="output layer"):
        parse_layers([("input", (1, 4, 4)), ("conv", 2, 3, 1, 0), ("avgpool", 2, 2, 0)])
    with pytest.raises(ValueError, match="padding"):
        parse_layers([("input", (1, 4, 4)), ("conv", 2, 3, 1, 2)])
    with pytest.raises(ValueError, match="activation"):
        parse_layers([("input", 3), ("dense", 2, "nope")])
    layers = [("input", (1, 4, 4)), ("conv", 2, 3, 1, 0), ("dense", 2)]
    w, b = init_parameters(parse_layers(layers))
    with pytest.raises(ValueError, match=r"weights\[0\].*\(2, 1, 3, 3\)"):
        NumpyConvLENetwork(layers, [w[0][:, :, :2], w[1]], b)
    with pytest.raises(ValueError, match="scheme"):
        NumpyConvLENetwork(layers, w, b, scheme="nope")


# ---------------------------------------------------------------- the LE network
@pytest.mark.parametrize("scheme", ["sweep", "reference"])
@pytest.mark.parametrize("target_type", ["voltage", "rate"])
def test_dense_only_equals_the_dense_reference(scheme, target_type):
    rng = np.random.default_rng(2)
    layers = [("input", 5), ("dense", 7), ("dense", 4, "sigmoid"), ("dense", 3)]
    w, b = init_parameters(parse_layers(layers), seed=3, weight_scale=0.5)
    kw = dict(output_activation="sigmoid", tau_m=[10e-3, 7e-3, 5e-3], tau_r=8e-3, beta=0.3,
              target_type=target_type, learning_rates=[300.0, 200.0, 100.0], dt=1e-3,
              scheme=scheme)
    x, y = rng.normal(size=(4, 5)), rng.random((4, 3))
    conv = NumpyConvLENetwork(layers, w, b, activation="tanh", **kw)
    # the per-layer activation of layer 2 only exists on the conv side: mimic it
    dense = NumpyLENetwork(w, b, activation="tanh", **kw)
    dense.phi[1] = conv.phi[1]
    o1, r1 = conv.run(x, 15, y)
    o2, r2 = dense.run(x, 15, y)
    np.testing.assert_allclose(o1, o2, rtol=0, atol=1e-12)
    for l in range(3):
        np.testing.assert_allclose(r1[l], r2[l], rtol=0, atol=1e-12)
        np.testing.assert_allclose(conv.W[l], dense.W[l], rtol=0, atol=1e-12)
        np.testing.assert_allclose(conv.b[l], dense.b[l], rtol=0, atol=1e-12)
        np.testing.assert_allclose(conv.e[l], dense.e[l], rtol=0, atol=1e-12)
        np.testing.assert_allclose(conv.u[l], dense.u[l], rtol=0, atol=1e-12)
    assert np.abs(conv.W[0] - w[0]).max() > 1e-3  # it learned


def _toeplitz(K, s):
    """The dense matrix (O H' W', C H W) of convolution ``s`` with kernel K, by loops,
    and the kernel index of every entry (-1: structural zero)."""
    O, C, kh, kw = K.shape
    _, H, W = s.in_shape
    T = np.zeros((s.n_out, s.n_in))
    tie = -np.ones(T.shape, int)
    (sh, sw), (ph, pw) = s.stride, s.padding
    for o, c, i, j, y, x in np.ndindex(O, C, kh, kw, *s.out_shape[1:]):
        yy, xx = y * sh + i - ph, x * sw + j - pw
        if 0 <= yy < H and 0 <= xx < W:
            row, col = (o * s.out_shape[1] + y) * s.out_shape[2] + x, (c * H + yy) * W + xx
            T[row, col] = K[o, c, i, j]
            tie[row, col] = ((o * C + c) * kh + i) * kw + j
    return T, tie


TOEPLITZ_CASES = {
    # two conv layers (stride 2 and padding 1; the second hands errors down by its
    # transposed convolution) below a dense output, voltage target
    "dense_out": ([("input", (2, 5, 5)), ("conv", 3, (3, 3), (2, 2), (1, 1)),
                   ("conv", 2, (2, 2), (1, 1), (0, 0)), ("dense", 3)],
                  dict(activation="tanh", learning_rates=[50.0, 30.0, 20.0])),
    # a conv output layer with its own activation and a rate target
    "conv_out": ([("input", (2, 5, 5)), ("conv", 2, (3, 3), (1, 1), (1, 1), "sigmoid"),
                  ("conv", 2, (3, 3), (2, 2), (0, 0))],
                 dict(activation="tanh", output_activation="sigmoid", target_type="rate",
                      learning_rates=[50.0, 30.0])),
}


@pytest.mark.parametrize("case", sorted(TOEPLITZ_CASES))
@pytest.mark.parametrize("scheme", ["sweep", "reference"])
def test_conv_equals_its_toeplitz_dense_layer(scheme, case):
    """Conv layers against the dense reference with the Toeplitz matrices: currents,
    rates and errors step by step, then the kernel and bias updates of one learning step
    are the sums of the tied dense updates."""
    rng = np.random.default_rng(4)
    layers, extra = TOEPLITZ_CASES[case]
    specs = parse_layers(layers)
    w, b = init_parameters(specs, seed=5, weight_scale=0.5)
    kw = dict(tau_m=10e-3, tau_r=10e-3, beta=0.5, dt=1e-3, scheme=scheme, **extra)
    conv = NumpyConvLENetwork(layers, w, b, **kw)
    convs = [m for m, s in enumerate(specs[1:]) if s.kind == "conv"]
    mats = {m: _toeplitz(w[m], specs[m + 1]) for m in convs}
    wd = [mats[m][0] if m in mats else w[m] for m in range(len(w))]
    bd = [np.repeat(b[m], specs[m + 1].n_out // len(b[m])) for m in range(len(b))]
    dense = NumpyLENetwork(wd, bd, **kw)
    dense.phi = [conv.phi[l] for l in range(conv.L)]  # the per-layer activations
    n_out = specs[-1].n_out
    x, y = rng.random((2, 50)), rng.random((2, n_out))
    for k in range(12):
        o1 = conv.step(x[k // 6], y[k // 6], learn=False)
        if scheme == "reference":
            o2 = dense.reference_step(x[k // 6], y[k // 6], learn=False)
        else:
            o2 = dense.step(x[k // 6], y[k // 6], learn=False)[0]
        np.testing.assert_allclose(o1, o2, rtol=0, atol=1e-12)
        for l in range(conv.L):
            for name in ("u", "ub", "r", "e"):
                np.testing.assert_allclose(getattr(conv, name)[l], getattr(dense, name)[l],
                                           rtol=0, atol=1e-12, err_msg=f"{name}{l} k={k}")
        np.testing.assert_allclose(conv.I_ff[0], wd[0] @ x[k // 6], atol=1e-12)
    assert min(np.abs(e).max() for e in conv.e) > 1e-4  # errors reached every layer
    # one learning step from the same state
    K0, b0 = conv.get_parameters()
    conv.step(x[1], y[1], learn=True)
    if scheme == "reference":
        dense.reference_step(x[1], y[1], learn=True)
    else:
        dense.step(x[1], y[1], learn=True)
    for m in range(len(w)):
        if m not in mats:
            np.testing.assert_allclose(conv.W[m], dense.W[m], rtol=0, atol=1e-12)
            continue
        dW, tie = dense.W[m] - wd[m], mats[m][1]
        summed = np.bincount(tie[tie >= 0], weights=dW[tie >= 0], minlength=K0[m].size)
        dK = conv.W[m] - K0[m]
        assert np.abs(dK).max() > 1e-6
        np.testing.assert_allclose(dK.ravel(), summed, rtol=0, atol=1e-12)
        db_dense = (dense.b[m] - bd[m]).reshape(len(b0[m]), -1).sum(axis=1)
        np.testing.assert_allclose(conv.b[m] - b0[m], db_dense, rtol=0, atol=1e-12)


@pytest.mark.parametrize("scheme", ["sweep", "reference"])
def test_avg_pool_adds_no_delay(scheme):
    """Average pooling is linear, r_pool = A r: conv -> avgpool -> dense(W) steps exactly as
    conv -> dense(W A) in both schemes (no delay, the pool reads what the dense layer
    reads; errors through A^T), and its dense update is that of W A times A^T."""
    layers = [("input", (2, 5, 5)), ("conv", 3, (3, 3), (1, 1), (1, 1)),
              ("avgpool", (2, 2), (1, 1), (0, 0)), ("dense", 3)]
    pool = parse_layers(layers)[2]
    A = np.zeros((pool.n_out, pool.n_in))
    for c, y, x, i, j in np.ndindex(3, 4, 4, 2, 2):
        A[(c * 4 + y) * 4 + x, (c * 5 + y + i) * 5 + x + j] = 0.25
    w, b = init_parameters(parse_layers(layers), seed=12, weight_scale=0.5)
    kw = dict(activation="sigmoid", beta=0.5, dt=1e-3, learning_rates=40.0, scheme=scheme)
    pooled = NumpyConvLENetwork(layers, w, b, **kw)
    folded = NumpyConvLENetwork([layers[0], layers[1], layers[3]], [w[0], w[1] @ A], b, **kw)
    rng = np.random.default_rng(13)
    x, y = rng.random((2, 50)), rng.normal(size=(2, 3))
    for k in range(8):
        before = pooled.r[0].copy()
        o1, o2 = (n.step(x[k // 4], y[k // 4], learn=False) for n in (pooled, folded))
        # the pool of this step: of this step's rates (sweep) or of step k-1's (reference)
        read = pooled.r[0] if scheme == "sweep" else before
        np.testing.assert_allclose(pooled.r[1], A @ read, rtol=0, atol=1e-14)
        np.testing.assert_allclose(o1, o2, rtol=0, atol=1e-12)
        for name in ("u", "r", "e"):
            for l1, l2 in ((0, 0), (2, 1)):
                np.testing.assert_allclose(getattr(pooled, name)[l1], getattr(folded, name)[l2],
                                           rtol=0, atol=1e-12)
    assert np.abs(pooled.e[0]).max() > 1e-3
    w0, wf = pooled.get_parameters()[0], folded.get_parameters()[0]
    for n in (pooled, folded):
        n.step(x[1], y[1], learn=True)
    np.testing.assert_allclose(pooled.W[0] - w0[0], folded.W[0] - wf[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(pooled.W[1] - w0[1], (folded.W[1] - wf[1]) @ A.T, rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(pooled.b[1], folded.b[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("scheme", ["sweep", "reference"])
def test_pool_of_the_input_reads_this_steps_input(scheme):
    """A pool right after the input pools x_k (no delay in either scheme): avgpool ->
    dense(W) steps as dense(W A) on the input, and W's update is that of W A times A^T."""
    layers = [("input", (1, 4, 4)), ("avgpool", (2, 2), (2, 2), (0, 0)), ("dense", 3),
              ("dense", 2)]
    A = np.zeros((4, 16))
    for y, x, i, j in np.ndindex(2, 2, 2, 2):
        A[y * 2 + x, (2 * y + i) * 4 + 2 * x + j] = 0.25
    w, b = init_parameters(parse_layers(layers), seed=14, weight_scale=0.5)
    kw = dict(activation="tanh", beta=0.5, dt=1e-3, learning_rates=40.0, scheme=scheme)
    pooled = NumpyConvLENetwork(layers, w, b, **kw)
    folded = NumpyLENetwork([w[0] @ A, w[1]], b, **kw)
    rng = np.random.default_rng(15)
    xs, ys = rng.random((3, 16)), rng.normal(size=(3, 2))
    o1, _ = pooled.run(xs, 4, ys, learn=False)
    o2, _ = folded.run(xs, 4, ys, learn=False)
    np.testing.assert_allclose(o1, o2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pooled.r[0], A @ xs[-1], rtol=0, atol=1e-15)
    p0, f0 = pooled.W[0].copy(), folded.W[0].copy()
    pooled.step(xs[0], ys[0])
    (folded.reference_step if scheme == "reference" else folded.step)(xs[0], ys[0])
    assert np.abs(pooled.W[0] - p0).max() > 1e-6
    np.testing.assert_allclose(pooled.W[0] - p0, (folded.W[0] - f0) @ A.T, rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(pooled.W[1], folded.W[1], rtol=0, atol=1e-12)


def _pool_net(kind):
    return [("input", (2, 7, 7)), ("conv", 3, (3, 3), (2, 2), (1, 1)),  # -> (3, 4, 4)
            (kind, (2, 2), (1, 1), (0, 0)),  # -> (3, 3, 3)
            ("conv", 2, (2, 2), (1, 1), (1, 1)),  # -> (2, 4, 4)
            (kind, (2, 2), (1, 1), (1, 1)),  # -> (2, 5, 5)
            ("dense", 3)]


def _fd(f, arrays, h=1e-5):
    """Central differences of the scalar f() with respect to every entry of ``arrays``
    (changed in place and restored)."""
    out = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            old = a[idx]
            a[idx] = old + h
            up = f()
            a[idx] = old - h
            g[idx] = (up - f()) / (2 * h)
            a[idx] = old
        out.append(g)
    return out


@pytest.mark.parametrize("kind", ["maxpool", "avgpool"])
def test_backprop_gradient_against_finite_differences(kind):
    rng = np.random.default_rng(6)
    net = BackpropConvNet(_pool_net(kind), activation="tanh", output_activation="sigmoid",
                          seed=7, weight_scale=0.7)
    x, y = rng.normal(size=(2, 7, 7)), rng.random(3)

    def cost():
        return 0.5 * float(np.sum((y - net.predict(x[None])[0]) ** 2))

    loss, gw, gb = net.gradients(x, y)
    assert loss == pytest.approx(cost(), abs=1e-15)
    fw = _fd(cost, net.weights)
    fb = _fd(cost, net.biases)
    for g, f in zip(gw + gb, fw + fb):
        assert np.linalg.norm(g - f) < 1e-6 * np.linalg.norm(f), (g, f)
    # one SGD step is -lr * gradient
    w0, b0 = net.get_parameters()
    net.set_learning_rates([0.1, 0.2, 0.3])
    assert net.train_sample(x, y) == loss
    for m, lr in enumerate([0.1, 0.2, 0.3]):
        np.testing.assert_allclose(net.weights[m] - w0[m], -lr * gw[m], atol=1e-15)
        np.testing.assert_allclose(net.biases[m] - b0[m], -lr * gb[m], atol=1e-15)


def _update_vs_gradient(scheme, kind, beta):
    """Relative error ||dp/dt / (eta beta) + dC/dp|| / ||dC/dp|| of every kernel, weight
    and bias p, at the steady state of an LE network (tau_r = tau_m)."""
    dt, eta = 1e-3, 1.0
    layers = _pool_net(kind)
    w, b = init_parameters(parse_layers(layers), seed=8, weight_scale=0.7)
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(2, 7, 7)), rng.normal(size=3)
    net = NumpyConvLENetwork(layers, w, b, activation="tanh", tau_m=5e-3, beta=beta,
                             learning_rates=eta, dt=dt, scheme=scheme)
    for _ in range(60):
        net.step(x, y, learn=False)
    w0, b0 = net.get_parameters()
    net.step(x, y, learn=True)
    ff = BackpropConvNet(layers, activation="tanh")
    ff.set_parameters(w0, b0)

    def cost():
        return 0.5 * float(np.sum((y - ff.predict(x[None])[0]) ** 2))

    grads = _fd(cost, ff.weights) + _fd(cost, ff.biases)
    updates = [(a - a0) / (dt * eta * beta) for a, a0 in zip(net.W + net.b, w0 + b0)]
    return np.array([np.linalg.norm(u + g) / np.linalg.norm(g) for u, g in zip(updates, grads)])


@pytest.mark.parametrize("scheme", ["sweep", "reference"])
@pytest.mark.parametrize("kind", ["maxpool", "avgpool"])
def test_le_kernel_update_follows_the_cost_gradient(scheme, kind):
    """tau_r = tau_m, beta small, constant input and target: at the steady state the
    updates per unit time / (eta beta) equal -dC/dparameter of the feedforward network,
    C = 1/2 ||y - r_L||^2 (linear output, voltage target), up to O(beta): the errors
    (O(beta)) shift the potentials, rates and phi' the update reads by O(beta) from the
    feedforward ones. Measured: relative error 1.2-11 beta (largest for a bias, a sum over
    positions that partly cancels), the same coefficient at beta = 1e-3 and 1e-4. Asserted:
    < 20 beta at beta = 1e-3, and ten times smaller beta gives at least five times smaller
    errors (the O(beta) convergence itself)."""
    big = _update_vs_gradient(scheme, kind, 1e-3)
    small = _update_vs_gradient(scheme, kind, 1e-4)
    assert big.max() < 20e-3, big
    assert (small < big / 5).all(), (big, small)


# ---------------------------------------------------------------- the backprop baseline
def test_dense_only_backprop_equals_the_mlp():
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(20, 4)), rng.normal(size=(20, 2))
    a = BackpropConvNet([("input", 4), ("dense", 6), ("dense", 2)], "tanh",
                        learning_rates=[0.05, 0.02], seed=3)
    m = BackpropMLP([4, 6, 2], "tanh", learning_rates=[0.05, 0.02], seed=3)
    for l in range(2):
        np.testing.assert_array_equal(a.weights[l], m.weights[l])
    a.fit_epoch(x, y, np.random.default_rng(1))
    m.fit_epoch(x, y, np.random.default_rng(1))
    for l in range(2):
        np.testing.assert_allclose(a.weights[l], m.weights[l], rtol=0, atol=1e-13)
    np.testing.assert_allclose(a.predict(x), m.predict(x), rtol=0, atol=1e-13)


def test_train_backprop_conv_learns_and_is_seeded():
    """Two classes of 1x6x6 images (a bright 2x2 blob top-left or bottom-right, plus
    noise): chance 1/2, the baseline separates them in two epochs."""
    rng = np.random.default_rng(11)
    labels = rng.integers(0, 2, 120)
    x = 0.3 * rng.random((120, 1, 6, 6))
    for n, c in enumerate(labels):
        x[n, 0, 4 * c:4 * c + 2, 4 * c:4 * c + 2] += 1.0
    layers = [("input", (1, 6, 6)), ("conv", 2, (3, 3), (1, 1), (1, 1)),
              ("maxpool", (2, 2), (2, 2), (0, 0)), ("dense", 2)]
    runs = [train_backprop_conv(layers, x[:80], labels[:80], x[80:], labels[80:],
                                learning_rates=0.05, epochs=2, seed=0)[1] for _ in range(2)]
    assert runs[0] == runs[1]
    assert [r["epoch"] for r in runs[0]] == [0, 1, 2]
    assert runs[0][-1]["test_accuracy"] >= 0.95
    with pytest.raises(ValueError, match="x_test"):
        train_backprop_conv(layers, x[:80], labels[:80], x[80:, :, :5], labels[80:])
