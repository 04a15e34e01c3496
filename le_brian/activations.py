"""The activation table in NumPy: phi, phi' and phi(0) of every rate function.

One table for everything that evaluates activations outside Brian2: the NumPy
references (`le_brian.numpy_reference`), the backprop baseline and the initial rates
of a network at rest (`le_brian.Microcircuit.reset_state`). Written independently of
the Brian2 expression strings of `le_brian.equations.activations` (tests compare the
two). Imports nothing of the package.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["NumpyActivation", "NP_ACTIVATIONS", "np_activation"]


@dataclass(frozen=True)
class NumpyActivation:
    """phi and phi' as NumPy functions and phi(0), the rate of a cell at rest."""

    name: str
    phi: object
    phi_prime: object

    @property
    def at_zero(self):
        """phi(0)."""
        return float(self.phi(np.zeros(1))[0])

    def __iter__(self):  # ``phi, dphi = NP_ACTIVATIONS[name]``
        return iter((self.phi, self.phi_prime))

    def __getitem__(self, index):  # ``NP_ACTIVATIONS[name][0]`` is phi, ``[1]`` phi'
        return (self.phi, self.phi_prime)[index]


def _sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _soft_relu(x):
    """The authors' thresholded softplus: log(1 + e^x) for ``|x| < 15``, 0 below -15, x
    from 15 on."""
    x = np.asarray(x, dtype=float)
    inside = np.abs(x) < 15
    return np.where(inside, np.log1p(np.exp(np.where(inside, x, 0.0))),
                    np.where(x >= 15, x, 0.0))


def _soft_relu_prime(x):
    x = np.asarray(x, dtype=float)
    xc = np.clip(x, -15, 15)
    return np.where(np.abs(x) < 15, 1 / (1 + np.exp(-xc)), np.where(x >= 15, 1.0, 0.0))


#: Activation name -> `NumpyActivation` (the NumPy twins of the Brian2 activations).
NP_ACTIVATIONS = {
    a.name: a
    for a in [
        NumpyActivation("linear", lambda x: np.asarray(x, dtype=float),
                        lambda x: np.ones_like(np.asarray(x, dtype=float))),
        NumpyActivation("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2),
        NumpyActivation("sigmoid", _sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
        NumpyActivation("hard_sigmoid", lambda x: np.clip(x, 0, 1),
                        lambda x: ((np.asarray(x) >= 0) & (np.asarray(x) <= 1)).astype(float)),
        NumpyActivation("relu", lambda x: np.maximum(x, 0),
                        lambda x: (np.asarray(x) > 0).astype(float)),
        NumpyActivation("softplus", lambda x: np.logaddexp(0, x), _sigmoid),
        NumpyActivation("soft_relu", _soft_relu, _soft_relu_prime),
    ]
}


def np_activation(name):
    """The `NumpyActivation` called ``name``, with an error listing the valid names."""
    try:
        return NP_ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; expected one of "
                         f"{sorted(NP_ACTIVATIONS)}") from None
