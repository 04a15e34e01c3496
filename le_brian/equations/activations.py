"""Activation functions as Brian2 expression templates.

Every activation is a pair of expression strings in a placeholder ``{x}``:
``phi`` (the rate function) and ``phi_prime`` (its derivative). The strings use
only functions that Brian2 translates to every code-generation target (numpy,
cython, C++, CUDA): ``exp``, ``log``, ``tanh``, ``abs``, ``clip`` and ``int`` of
a boolean. They are written to stay finite for any finite argument (no
``exp`` of a large positive number is ever taken), so no activation can turn a
large membrane potential into NaN.

This module imports nothing from the rest of the package.
"""

from dataclasses import dataclass

__all__ = ["Activation", "ACTIVATIONS", "get_activation"]


@dataclass(frozen=True)
class Activation:
    """A rate function phi and its derivative phi', as Brian2 expression templates.

    Attributes
    ----------
    name : str
        Key in `ACTIVATIONS`.
    phi : str
        Expression of ``{x}``.
    phi_prime : str
        Expression of ``{x}`` for d phi / dx.
    description : str
        The mathematical definition.
    nonnegative : bool
        phi(x) >= 0 for every x: the activation can be a firing rate (spiking layers).
    """

    name: str
    phi: str
    phi_prime: str
    description: str
    nonnegative: bool = False

    def rate(self, x):
        """The expression phi(x) with ``x`` substituted, parenthesised so that it can
        stand inside a larger expression (``x`` may itself be an expression)."""
        return "(" + self.phi.format(x=f"({x})") + ")"

    def derivative(self, x):
        """The expression phi'(x) with ``x`` substituted, parenthesised like `rate`."""
        return "(" + self.phi_prime.format(x=f"({x})") + ")"


# sigma(x) = 1 / (1 + e^-x), written with exp(-|x|) only.
_SIGMOID = "(int({x} >= 0) + int({x} < 0)*exp(-abs({x})))/(1 + exp(-abs({x})))"

#: Activation name -> `Activation` (Brian2 expressions of phi and phi').
ACTIVATIONS = {
    a.name: a
    for a in [
        Activation("linear", "{x}", "1.0", "phi(x) = x"),
        Activation("tanh", "tanh({x})", "1 - tanh({x})**2", "phi(x) = tanh(x)"),
        Activation("sigmoid", _SIGMOID, "exp(-abs({x}))/(1 + exp(-abs({x})))**2",
                   "phi(x) = 1 / (1 + exp(-x))", nonnegative=True),
        Activation("hard_sigmoid", "clip({x}, 0, 1)", "int(({x} >= 0) and ({x} <= 1))",
                   "phi(x) = clip(x, 0, 1); phi'(x) = 1 on [0, 1] (ends included), else 0",
                   nonnegative=True),
        Activation("relu", "{x}*int({x} > 0)", "int({x} > 0)",
                   "phi(x) = max(x, 0); phi'(x) = 1 for x > 0, else 0", nonnegative=True),
        Activation("softplus", "log(1 + exp(-abs({x}))) + {x}*int({x} > 0)", _SIGMOID,
                   "phi(x) = log(1 + exp(x)), evaluated stably; phi'(x) = sigmoid(x)",
                   nonnegative=True),
        # The microcircuit's rate function (Sacramento et al. 2018 code, utils.soft_relu):
        # softplus for |x| < 15, 0 below -15 and x from 15 on.
        Activation(
            "soft_relu",
            "int(abs({x}) < 15)*log(1 + exp(clip({x}, -15, 15))) + int({x} >= 15)*{x}",
            "int(abs({x}) < 15)/(1 + exp(-clip({x}, -15, 15))) + int({x} >= 15)",
            "phi(x) = log(1 + exp(x)) for |x| < 15, 0 for x <= -15, x for x >= 15",
            nonnegative=True,
        ),
    ]
}


def get_activation(name):
    """Look up an activation by name, with an error listing the valid names."""
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}"
        ) from None
