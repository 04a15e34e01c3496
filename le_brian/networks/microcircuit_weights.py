"""Initial weights of the cortical microcircuit: the authors' draw and the
self-predicting state (docs/model.md §2.5)."""

import numpy as np

__all__ = ["draw_weights", "self_predicting_weights"]


def draw_weights(layer_sizes, seed):
    r"""The authors' weight draw (docs/model.md §2.5): ``np.random.seed(seed)``, then per
    hidden layer W_up, W_down, W_pi, W_ip and finally the output W_up, every value
    :math:`(\mathrm{float32}(U[0, 1)) - 0.5) \cdot 2`.

    Uses a private ``np.random.RandomState(seed)`` (the same stream as the global
    generator after ``np.random.seed(seed)``) and returns it, so that later draws of a
    protocol (pattern orders) continue the same stream.

    Returns
    -------
    weights : dict
        ``{'W_up': [L+1 arrays], 'W_down': [L], 'W_pi': [L], 'W_ip': [L]}``, float64
        (n_post, n_pre) arrays holding float32 values.
    rng : numpy.random.RandomState
    """
    rng = np.random.RandomState(seed)
    sizes = list(layer_sizes)
    L = len(sizes) - 2

    def draw(shape):
        return ((rng.random_sample(shape).astype(np.float32) - np.float32(0.5))
                * np.float32(2)).astype(np.float64)

    out = {"W_up": [], "W_down": [], "W_pi": [], "W_ip": []}
    for l in range(1, L + 1):
        n_pre, n, n_next = sizes[l - 1], sizes[l], sizes[l + 1]
        out["W_up"].append(draw((n, n_pre)))
        out["W_down"].append(draw((n, n_next)))
        out["W_pi"].append(draw((n, n_next)))
        out["W_ip"].append(draw((n_next, n)))
    out["W_up"].append(draw((sizes[-1], sizes[-2])))
    return out, rng


def self_predicting_weights(weights, g_l, g_b, g_a, g_d):
    r"""Lateral weights of the self-predicting state (docs/model.md §2.5):

    .. math::

        W^{pi}_l = -W^{down}_l, \qquad
        W^{ip}_l = W^{up}_{l+1}\,\frac{g_b}{g_l + g_a' + g_b}\,\frac{g_l + g_d}{g_d}

    with :math:`g_a'` the apical conductance of layer l+1 (g_a for a hidden layer, 0
    for the output). Conductances as plain numbers in one unit. Returns a new dict.
    """
    out = {k: [np.array(w, dtype=float) for w in v] for k, v in weights.items()}
    L = len(out["W_down"])
    for l in range(L):
        out["W_pi"][l] = -out["W_down"][l]
        g_a_next = g_a if l + 1 < L else 0.0
        out["W_ip"][l] = out["W_up"][l + 1] * (g_b / (g_l + g_a_next + g_b)) * ((g_l + g_d) / g_d)
    return out
