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

Variable names used in every string below (symbol table: docs/guide/model_summary.md):

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
eta_tau   second   time-constant learning rate (shared; docs/model.md §1.8)
tau_min,  second   range the learned time constant is clipped to (shared)
tau_max
noise_std 1        per-step standard deviation of the rate noise (shared)
noise_seed 1       integer seed of this run's rate noise (shared)
rs        1        synaptically filtered rate (what projections read, with tau_syn)
tau_syn   second   synaptic filter time constant (shared)
tgt_s     1        filtered target (output layer, with tau_syn)
========  =======  ==========================================================

The strings contain no parameter values: time constants and rates are state variables
set per run, so one compiled program serves any value.  ``{phi}``/``{phi_prime}`` are
filled in from :mod:`le_brian.equations.activations` and ``{target}`` names the
``TimedArray`` holding the target.

This module imports nothing from the rest of the package outside `le_brian.equations`.
"""

from brian2 import Equations

from .activations import get_activation
from .spiking import GAUSSIAN_DRAW

__all__ = [
    "INPUT_LAYER",
    "INPUT_UPDATE",
    "LE_LAYER",
    "LE_BIAS",
    "LE_SHARED_BIAS",
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
    "LE_TAU_LEARNING",
    "LE_TAU_CLIP",
    "LE_RATE_NOISE",
    "LE_SYNAPTIC_FILTER",
    "LE_FILTER_UPDATE",
    "LE_TARGET_FILTER",
    "input_equations",
    "input_code",
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

#: LE rate neuron without its time constants (`LE_LAYER` adds them as constants).
LE_MEMBRANE = """
dudt = (I_ff + b - u + eps)/tau_m : hertz  # du/dt
du/dt = dudt : 1
I_ff : 1
I_fb : 1
eps : 1
ub : 1
r : 1
rp : 1
"""

#: A time constant set per run (and not learned).
LE_FIXED_TAU = """
{tau} : second (constant)
"""

#: LE rate neuron. Forward Euler integrates u; ub, r, rp and eps are latched by
#: run_regularly operations (see `le_brian.networks.layered` for the order within a step).
LE_LAYER = (LE_MEMBRANE + LE_FIXED_TAU.format(tau="tau_m").lstrip("\n")
            + LE_FIXED_TAU.format(tau="tau_r").lstrip("\n"))

#: Local time-constant learning (docs/model.md §1.8). Without error,
#: ub - I - e = (tau_r - tau_m) du/dt, so the correlation of that mismatch with du/dt
#: has the sign of tau_r - tau_m: ``{sign}`` is ``+`` to pull tau_m towards tau_r and
#: ``-`` to pull tau_r towards tau_m. Integrated by the Euler step with u (values of
#: the start of the membrane update), then clipped (`LE_TAU_CLIP`).
LE_TAU_LEARNING = """
d{tau}/dt = {sign}eta_tau*(ub - I_ff - b - eps)*dudt : second
eta_tau : second (shared)
tau_min : second (shared)
tau_max : second (shared)
"""

#: After the membrane update: keep the learned time constant within its range.
LE_TAU_CLIP = "{tau} = clip({tau}, tau_min, tau_max)"

#: Rate noise of a layer: white noise of per-step standard deviation noise_std.
LE_RATE_NOISE = """
noise_std : 1 (shared)
noise_seed : integer (shared)
"""

#: Synaptic low-pass filter of a layer's rate (projections read rs).
LE_SYNAPTIC_FILTER = """
rs : 1
tau_syn : second (shared)
"""

#: Forward-Euler filter step, right after the rate of the step is known.
LE_FILTER_UPDATE = "rs = rs + dt/tau_syn*(r - rs)"

#: The output layer's filtered target (same tau_syn).
LE_TARGET_FILTER = """
tgt_s : 1
"""

#: Bias plasticity db/dt = eta e (integrated with the membrane). The error it reads is
#: ``eps`` in the sweep scheme and ``eps_new`` in the reference scheme.
LE_BIAS = """
db/dt = eta_b*eps : 1
eta_b : hertz (shared)
"""

#: The bias of a convolution's neuron: its channel's entry of the bias group.
LE_SHARED_BIAS = """
b : 1 (linked)
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
    "voltage": "{error} = beta*({target} - ub)",
    "rate": "{error} = beta*rp*({target} - r)",
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


def input_equations(filtered=False):
    """`Equations` of the input layer (``filtered``: with its synaptic filter)."""
    return Equations(INPUT_LAYER) + (Equations(LE_SYNAPTIC_FILTER) if filtered
                                     else Equations(""))


def input_code(source, filtered=False):
    """Run-regularly code of the input layer: r_0 from the TimedArray ``source``, then
    (``filtered``) its synaptic filter."""
    code = INPUT_UPDATE.format(source=source)
    return code + ("\n" + LE_FILTER_UPDATE if filtered else "")


def layer_equations(output=False, scheme="sweep", mismatch=False, tau_learning=None,
                    noise=False, filtered=False, filter_target=False, shared_bias=False):
    """`Equations` of one LE layer.

    ``output=True`` adds the nudging strength. ``scheme="reference"`` adds the error of
    this step (``eps_new``, which the bias learns from); ``mismatch=True`` the mismatch
    variable handed down in the authors' lagged run. ``tau_learning`` (``'tau_m'`` or
    ``'tau_r'``) makes that time constant a learned state variable; ``noise`` adds the
    rate noise's parameters, ``filtered`` the synaptic filter of the rate and
    ``filter_target`` (output layer) the filtered target. ``shared_bias``: the bias is
    a linked variable (`LE_SHARED_BIAS`: one bias per channel of a convolution, stored
    and learned in its own group, `le_brian.equations.conv`).
    """
    if tau_learning is None:
        eqs = Equations(LE_LAYER)
    else:
        fixed = {"tau_m": "tau_r", "tau_r": "tau_m"}[tau_learning]
        eqs = (Equations(LE_MEMBRANE) + Equations(LE_FIXED_TAU.format(tau=fixed))
               + Equations(LE_TAU_LEARNING.format(
                   tau=tau_learning, sign="+" if tau_learning == "tau_m" else "-")))
    if noise:
        eqs += Equations(LE_RATE_NOISE)
    if filtered:
        eqs += Equations(LE_SYNAPTIC_FILTER)
    if filter_target:
        eqs += Equations(LE_TARGET_FILTER)
    if shared_bias:
        eqs += Equations(LE_SHARED_BIAS)
    elif scheme == "reference":
        eqs += Equations(LE_BIAS, eps="eps_new")
    else:
        eqs += Equations(LE_BIAS)
    if scheme == "reference":
        eqs += Equations(LE_REFERENCE_VARIABLES)
    if mismatch:
        eqs += Equations(LE_MISMATCH_VARIABLE)
    if output:
        eqs += Equations(LE_OUTPUT_PARAMETERS)
    return eqs


def prospective_code(activation, noise=False, filtered=False):
    """Run-regularly code computing ub, r = phi(ub) and rp = phi'(ub); ``noise`` adds
    the step's rate noise to r (rp stays phi'(ub)), ``filtered`` then updates the
    synaptic filter rs of the (noisy) rate."""
    act = get_activation(activation)
    rate = act.rate("ub")
    if noise:
        rate = f"({rate}) + noise_std*{GAUSSIAN_DRAW.format(seed='noise_seed')}"
    code = LE_PROSPECTIVE.format(phi=rate, phi_prime=act.derivative("ub"))
    return code + (LE_FILTER_UPDATE + "\n" if filtered else "")


def output_error_code(target_type, target, error="eps", filtered=False):
    """Run-regularly code for the output error; ``target`` names the TimedArray and
    ``error`` the variable written (``eps_new`` in the reference scheme). ``filtered``:
    the error reads the target through the synaptic filter (tgt_s, same tau_syn)."""
    try:
        template = LE_OUTPUT_ERROR[target_type]
    except KeyError:
        raise ValueError(
            f"target_type must be one of {sorted(LE_OUTPUT_ERROR)}, got {target_type!r}"
        ) from None
    if filtered:
        return (f"tgt_s = tgt_s + dt/tau_syn*({target}(t, i) - tgt_s)\n"
                + template.format(target="tgt_s", error=error))
    return template.format(target=f"{target}(t, i)", error=error)


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
