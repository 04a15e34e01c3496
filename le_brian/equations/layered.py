r"""Brian2 equations of the layered Latent Equilibrium (LE) rate network.

The model (Haider et al. 2021, eqs. 1-9), layer l = 1..L, dimensionless potentials:

.. math::

    \tau_m \dot u_l &= -u_l + W_l r_{l-1} + b_l + e_l \\
    \breve u_l &= u_l + \tau_r \dot u_l \qquad r_l = \varphi(\breve u_l) \\
    e_L &= \beta\,(u^{tgt} - \breve u_L) \quad\text{(voltage target)}
        \quad\text{or}\quad \beta\,\varphi'(\breve u_L)\,(r^{tgt} - r_L) \quad\text{(rate target)} \\
    e_l &= \varphi'(\breve u_l)\, W_{l+1}^T e_{l+1} \\
    \dot W_l &= \eta_l\, e_l\, r_{l-1}^T \qquad \dot b_l = \eta_l\, e_l

With ``tau_r = tau_m`` the prospective potential equals ``W r + b + e`` at every instant
("latent equilibrium"); the lagged baseline is the same model with ``tau_r = 0``.

Variable names used in every string below (a symbol table is in the README):

========  =======  ==========================================================
name      unit     meaning
========  =======  ==========================================================
u         1        membrane potential u_l
dudt      Hz       du/dt (a subexpression)
ub        1        prospective potential u breve = u + tau_r du/dt
r         1        rate phi(ub)
rp        1        phi'(ub)
eps       1        error e_l held by the layer (enters the membrane)
I_ff      1        bottom-up input W_l r_{l-1} (summed by the incoming projection)
I_fb      1        top-down input W_{l+1}^T e_{l+1} (summed by the outgoing projection)
b         1        bias
tau_m     second   membrane time constant (per neuron)
tau_r     second   prospective time constant (per neuron)
eta_b     Hz       bias learning rate (per layer)
beta      1        nudging strength (output layer)
w         1        synaptic weight (W_l)[post, pre]
eta       Hz       weight learning rate (per projection)
========  =======  ==========================================================

The strings contain no parameter values: time constants and rates are state variables
set per run, so one compiled program serves any value.  ``{phi}``/``{phi_prime}`` are
filled in from :mod:`le_brian.equations.activations` and ``{target}`` names the
``TimedArray`` holding the target.

This module imports nothing from the rest of the package.
"""

from brian2 import Equations

from .activations import get_activation

__all__ = [
    "INPUT_LAYER",
    "INPUT_UPDATE",
    "LE_LAYER",
    "LE_BIAS",
    "LE_REFERENCE_VARIABLES",
    "LE_MISMATCH_VARIABLE",
    "LE_MISMATCH",
    "LE_LATCH_ERROR",
    "hidden_error_code",
    "LE_PROSPECTIVE",
    "LE_HIDDEN_ERROR",
    "LE_OUTPUT_ERROR",
    "LE_PROJECTION",
    "LE_PROJECTION_FEEDBACK",
    "layer_equations",
    "prospective_code",
    "output_error_code",
    "projection_equations",
]

#: Input layer: rates r_0 set from a TimedArray at the start of every step.
INPUT_LAYER = """
r : 1  # input rate r_0
"""

#: Run-regularly code of the input layer (slot ``before_groups``).
INPUT_UPDATE = "r = {source}(t, i)"

#: LE rate neuron. Forward Euler integrates u; ub, r, rp and eps are latched by
#: run_regularly operations (see `le_brian.networks.layered` for the order within a step).
LE_LAYER = """
dudt = (I_ff + b - u + eps)/tau_m : hertz  # du/dt
du/dt = dudt : 1
I_ff : 1
I_fb : 1
eps : 1
ub : 1
r : 1
rp : 1
tau_m : second (constant)
tau_r : second (constant)
"""

#: Bias plasticity db/dt = eta e (integrated with the membrane). The error it reads is
#: ``eps`` in the sweep scheme and ``eps_new`` in the reference scheme.
LE_BIAS = """
db/dt = eta_b*eps : 1
eta_b : hertz (shared)
"""

#: Extra variable of the reference scheme: the error computed this step (it enters the
#: membrane next step).
LE_REFERENCE_VARIABLES = """
eps_new : 1
"""

#: The mismatch u - I (before the Euler update) handed down by the authors' lagged run.
LE_MISMATCH_VARIABLE = """
mismatch : 1
"""

#: Prospective potential, rate and rate derivative of one step (run_regularly).
LE_PROSPECTIVE = """
ub = u + tau_r*dudt
r = {phi}
rp = {phi_prime}
"""

#: New error of a hidden layer: e_l = phi'(ub_l) * W_{l+1}^T e_{l+1}.
LE_HIDDEN_ERROR = "{error} = rp*I_fb"

#: New error of the output layer, voltage target or rate target.
LE_OUTPUT_ERROR = {
    "voltage": "{error} = beta*({target}(t, i) - ub)",
    "rate": "{error} = beta*rp*({target}(t, i) - r)",
}

#: The authors' lagged run hands down u - I (before the Euler update) instead of e.
LE_MISMATCH = "mismatch = u - (I_ff + b)"

#: End of a reference-scheme step: the new error is held for the next step.
LE_LATCH_ERROR = "eps = eps_new"

#: Output-layer nudging strength (added to LE_LAYER for the output layer).
LE_OUTPUT_PARAMETERS = """
beta : 1 (shared)
"""

#: Plastic projection W_l: r_{l-1} -> layer l (first projection: no top-down path).
LE_PROJECTION = """
eta : hertz (shared)
dw/dt = eta*eps_post*r_pre : 1 (clock-driven)
I_ff_post = w*r_pre : 1 (summed)
"""

#: Top-down path of projections l >= 2 (sums W_l^T e_l into layer l-1).
LE_PROJECTION_FEEDBACK = """
I_fb_pre = w*eps_post : 1 (summed)
"""


def layer_equations(output=False, scheme="sweep", mismatch=False):
    """`Equations` of one LE layer.

    ``output=True`` adds the nudging strength. ``scheme="reference"`` adds the error of
    this step (``eps_new``, which the bias learns from); ``mismatch=True`` the mismatch
    variable handed down in the authors' lagged run.
    """
    eqs = Equations(LE_LAYER)
    if scheme == "reference":
        eqs += Equations(LE_BIAS, eps="eps_new") + Equations(LE_REFERENCE_VARIABLES)
    else:
        eqs += Equations(LE_BIAS)
    if mismatch:
        eqs += Equations(LE_MISMATCH_VARIABLE)
    if output:
        eqs += Equations(LE_OUTPUT_PARAMETERS)
    return eqs


def prospective_code(activation):
    """Run-regularly code computing ub, r = phi(ub) and rp = phi'(ub)."""
    act = get_activation(activation)
    return LE_PROSPECTIVE.format(phi=act.rate("ub"), phi_prime=act.derivative("ub"))


def output_error_code(target_type, target, error="eps"):
    """Run-regularly code for the output error; ``target`` names the TimedArray and
    ``error`` the variable written (``eps_new`` in the reference scheme)."""
    try:
        template = LE_OUTPUT_ERROR[target_type]
    except KeyError:
        raise ValueError(
            f"target_type must be one of {sorted(LE_OUTPUT_ERROR)}, got {target_type!r}"
        ) from None
    return template.format(target=target, error=error)


def hidden_error_code(error="eps"):
    """Run-regularly code for a hidden layer's new error."""
    return LE_HIDDEN_ERROR.format(error=error)


def projection_equations(feedback, learn_from="eps", hand_down="eps", rate="r"):
    """`Equations` of a plastic projection.

    ``feedback`` adds the top-down sum. ``learn_from`` is the postsynaptic error the
    weights learn from (``eps_new`` in the reference scheme); ``hand_down`` the
    postsynaptic quantity summed top-down (``mismatch`` for the authors' lagged run);
    ``rate`` the presynaptic variable read as the rate (``x``, the spike trace, when the
    presynaptic layer spikes).
    """
    eqs = Equations(LE_PROJECTION, eps_post=f"{learn_from}_post", r_pre=f"{rate}_pre")
    if feedback:
        eqs += Equations(LE_PROJECTION_FEEDBACK, eps_post=f"{hand_down}_post")
    return eqs
