"""Convolution and pooling layers of LENetwork (issue 28): the Brian2 plain path against
independent checks: a dense NumPy LE network (le_brian.numpy_reference.NumpyLENetwork)
whose weight matrix is the Toeplitz expansion of the kernel, built by explicit loops here
(kernel update = the sum over tied entries of the dense update; bias update = the sum
over positions), and pooling against explicit loops over the recorded rates."""

import numpy as np
import pytest
from brian2 import Hz, ms

from le_brian import AvgPool2D, Conv2D, Dense, Input, LENetwork, MaxPool2D
from le_brian.numpy_reference import NumpyLENetwork

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
