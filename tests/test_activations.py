"""Activation strings stand inside larger expressions and take expressions as arguments:
2*phi(a - b) and 2*phi'(a - b) computed by Brian2 equal NumPy's versions (1e-12)."""

import numpy as np
import pytest
from brian2 import Network, NeuronGroup, defaultclock, prefs

from le_brian.equations import ACTIVATIONS
from le_brian.activations import NP_ACTIVATIONS


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_embedded_in_expression(name):
    act = ACTIVATIONS[name]
    x = np.linspace(-20, 20, 81)
    old = prefs.codegen.target
    prefs.codegen.target = "numpy"
    try:
        g = NeuronGroup(len(x), "a : 1\nb : 1\nv : 1\nd : 1", namespace={})
        g.a = x + 0.5
        g.b = 0.5
        g.run_regularly(f"v = 2*{act.rate('a - b')}\nd = 2*{act.derivative('a - b')}")
        Network(g).run(defaultclock.dt, namespace={})
    finally:
        prefs.codegen.target = old
    phi, phi_prime = NP_ACTIVATIONS[name]
    np.testing.assert_allclose(g.v[:], 2 * phi(x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g.d[:], 2 * phi_prime(x), rtol=1e-12, atol=1e-12)
