"""The backprop baseline: gradients against finite differences, and that it learns."""

import numpy as np
import pytest

from le_brian.numpy_reference.backprop import BackpropMLP, train_backprop
from le_brian.datasets import load


def _loss(model, x, y):
    return 0.5 * float(np.sum((y - model.predict(x[None])[0]) ** 2))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
def test_sgd_step_is_the_gradient(activation):
    """One SGD step with a tiny rate equals -lr * dL/dW from central differences."""
    rng = np.random.default_rng(0)
    model = BackpropMLP([4, 6, 5, 3], activation, "linear", learning_rates=1.0, seed=1)
    x, y = rng.normal(size=4), rng.normal(size=3)
    w0, b0 = model.get_parameters()
    grads = []
    for l in range(3):
        g = np.zeros_like(w0[l])
        for idx in np.ndindex(g.shape):
            for sign in (1, -1):
                w = [a.copy() for a in w0]
                w[l][idx] += sign * 1e-6
                model.set_parameters(weights=w)
                g[idx] += sign * _loss(model, x, y) / 2e-6
        grads.append(g)
    model.set_parameters(w0, b0)
    model.set_learning_rates(1e-3)
    model.train_sample(x, y)
    w1, _ = model.get_parameters()
    for l in range(3):
        np.testing.assert_allclose((w1[l] - w0[l]) / 1e-3, -grads[l], rtol=1e-5, atol=1e-8)


def test_learns_yinyang_and_is_seeded():
    d = load("yinyang", seed=0).subset(n_train=2000, n_val=200, n_test=500)
    _, h1 = train_backprop(d, [60], "tanh", "linear", 0.02, epochs=5, seed=0)
    _, h2 = train_backprop(d, [60], "tanh", "linear", 0.02, epochs=5, seed=0)
    assert h1 == h2
    assert h1[-1]["test_accuracy"] > 0.8  # chance: 1/3
    assert h1[-1]["train_loss"] < h1[0]["train_loss"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        BackpropMLP([2, 2], activation="nope")
    with pytest.raises(ValueError, match="learning_rates"):
        BackpropMLP([2, 3, 2], learning_rates=[0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="layer_sizes"):
        BackpropMLP([2])
