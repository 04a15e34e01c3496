r"""Brian2 equations of the cortical microcircuit (Sacramento, Ponte Costa, Bengio & Senn
2018) in its original form and with Latent Equilibrium's prospective read-out
(Haider et al. 2021, section "Cortical microcircuits"; docs/model.md §2).

Populations (layer index l = 1..L for the hidden layers, L+1 for the output):

* hidden pyramidal cell, three compartments

  .. math::

     v^B_l &= W^{up}_l r_{l-1} \qquad
     v^A_l = W^{down}_l r_{l+1} + W^{pi}_l r^I_l \\
     u^{ss}_l &= \frac{g_b v^B_l + g_a v^A_l}{g_P}, \qquad g_P = g_l + g_b + g_a

* interneuron of layer l (one per pyramidal cell of layer l+1), nudged by the next
  layer's *visible potential* :math:`w_{l+1}`

  .. math::

     v^I_l = W^{ip}_l r_l, \qquad
     u^{ss}_I = \frac{g_b v^I_l + g_{som} w_{l+1}}{g_I}, \qquad g_I = g_l + g_b + g_{som}

* output pyramidal cell, nudged towards the target :math:`u^{tgt}` (flag ``nudge`` = 1)

  .. math::

     u^{ss}_O = \mathrm{nudge}\,\frac{g_b v^B + g_{som} u^{tgt}}{g_O}
               + (1 - \mathrm{nudge})\,\frac{g_b v^B}{g_l + g_b},
     \qquad g_O = g_l + g_b + g_{som}

Every soma: :math:`\dot u = g (u^{ss} - u) / c_m`, :math:`\breve u = u + c_r \dot u / g`
(= u_ss when c_m = c_r), forward Euler :math:`u \leftarrow u + dt\,\dot u`; the factors
:math:`c_m` (membrane capacitance relative to the nominal one: tau_m = c_m / g) and
:math:`c_r` (tau_r = c_r / g) are 1 unless the time constants are jittered
(docs/model.md §1.8, §2.1). The *visible* potential, the one other
cells see and the rate is read from, is

.. math:: w = m\,\breve u + (1 - m)\,u, \qquad r = \varphi(w)

with the mode flag :math:`m` = ``le_mode`` (1: Latent Equilibrium, 0: original
microcircuit). The same flag selects the one-step delay of target and nudge flag in LE
mode (docs/model.md §2.4). Multiplying by an exact 0 or 1 selects one
term exactly, so the strings below serve both modes without copies and one compiled
program runs either mode.

Plasticity (:math:`dW = dt\,\eta\,\Delta`, ``post`` = phi of the new visible potential,
``pre`` = rates latched at the end of the previous step):

.. math::

   \Delta^{up}_l &= [\varphi(w_l) - \varphi(g_b v^B_l / g_P)]\, r_{l-1}^T
       \quad\text{(clipped to [-4, 4]; output: } g_b/(g_l+g_b)\text{, [-5, 5])} \\
   \Delta^{ip}_l &= [\varphi(w^I_l) - \varphi(g_b v^I_l / (g_l + g_b))]\, r_l^T \qquad
   \Delta^{pi}_l = -v^A_l\, (r^I_l)^T

``W_down`` is fixed. The learning flag ``learn`` (0 or 1, per pattern) multiplies the
postsynaptic factor, so with learning off no weight changes (clipping included).

Variable names (dimensionless unless stated):

============  =======  =============================================================
name          unit     meaning
============  =======  =============================================================
u             1        somatic potential
ub            1        prospective potential u + (du/dt)/g (= u_ss)
w             1        visible potential latched at the end of the step
r             1        rate phi(w), latched at the end of the step
w_new, post   1        this step's visible potential and phi(w_new) (latched into w, r)
v_B           1        basal potential W_up r_{l-1} (summed by the incoming projection)
v_A_down      1        W_down r_{l+1} (summed)
v_A_pi        1        W_pi r_I (summed)
v_A           1        apical potential v_A_down + v_A_pi of this step
v_I           1        interneuron dendrite W_ip r_l (summed)
w_next        1        visible potential of the pyramidal cell the interneuron mirrors
err_up        1        learn * (post - phi(basal prediction))
err_ip        1        learn * (post_I - phi(g_b v_I/(g_l + g_b)))
err_pi        1        -learn * v_A
learn         1        plasticity flag of this step (0 or 1)
nudge         1        output nudging flag used in this step (0 or 1)
tgt_f         1        low-pass filtered target; tgt / tgt_prev the value used / held
acc, phase    1        per-pattern read-out accumulator and step-in-pattern counter
g_l, g_b,     hertz    leak, basal, apical and somatic-nudging conductances
g_a, g_som
le_mode       1        1: LE (w = ub), 0: original (w = u)
c_m, c_r      1        per-neuron tau_m g and tau_r g (1: the nominal 1/g; jitter)
tau_0         second   input / target low-pass time constant
W             1        synaptic weight (W)[post, pre]
eta           hertz    learning rate of a projection
W_max         1        clipping bound of a W_up projection
============  =======  =============================================================

Placeholders ``{phi}`` are filled from :mod:`le_brian.equations.activations` (the
microcircuit uses ``soft_relu``); ``{input}``, ``{target}``, ``{nudge}``, ``{learn}``
name the TimedArrays of a run.

This module imports nothing from the rest of the package.
"""

from brian2 import Equations

from .activations import get_activation

__all__ = [
    "MC_INPUT",
    "MC_INPUT_UPDATE",
    "MC_COMMON",
    "MC_PYRAMIDAL",
    "MC_INTERNEURON",
    "MC_OUTPUT",
    "MC_SOMA",
    "MC_PYRAMIDAL_SOMA",
    "MC_INTERNEURON_SOMA",
    "MC_OUTPUT_SOMA",
    "MC_LATCH",
    "MC_READOUT",
    "MC_PROJECTION",
    "MC_PLASTIC",
    "MC_PLASTICITY",
    "MC_CLIP",
    "MC_MIRROR",
    "PROJECTIONS",
    "population_equations",
    "soma_code",
    "latch_code",
    "projection_equations",
    "plasticity_code",
]

#: Input layer: r_0, low-pass filtered from the presented pattern.
MC_INPUT = """
r : 1  # filtered input rate r_0
tau_0 : second (shared)  # input low-pass time constant
"""

#: r_0 += dt/tau_0 (x_k - r_0), slot ``before_groups``.
MC_INPUT_UPDATE = "r = r + dt/tau_0*({input}(t, i) - r)"

#: Variables of every soma (pyramidal, interneuron, output).
MC_COMMON = """
u : 1  # somatic potential
ub : 1  # prospective potential
w : 1  # visible potential, latched at the end of the step
r : 1  # rate phi(w), latched at the end of the step
w_new : 1  # visible potential of this step
post : 1  # phi(w_new)
learn : 1  # plasticity flag of this step
g_l : hertz (shared)  # leak conductance
g_b : hertz (shared)  # basal (dendrite -> soma) conductance
le_mode : 1 (shared)  # 1: LE (w = ub), 0: original (w = u)
c_m : 1 (constant)  # membrane time constant x g (1: nominal; jitter)
c_r : 1 (constant)  # prospective time constant x g (1: nominal; jitter)
"""

#: Hidden pyramidal cell: basal and apical dendrites.
MC_PYRAMIDAL = """
v_B : 1  # basal potential W_up r_{l-1}
v_A_down : 1  # top-down part W_down r_{l+1}
v_A_pi : 1  # lateral part W_pi r_I
v_A : 1  # apical potential of this step
err_up : 1  # learn * (post - phi(g_b/g_P v_B))
err_pi : 1  # -learn * v_A
g_a : hertz (shared)  # apical conductance
"""

#: Interneuron (one dendrite), soma nudged by the next layer's visible potential.
MC_INTERNEURON = """
v_I : 1  # dendritic potential W_ip r_l
w_next : 1  # visible potential of the mirrored pyramidal cell of layer l+1
err_ip : 1  # learn * (post - phi(g_b/(g_l+g_b) v_I))
g_som : hertz (shared)  # somatic nudging conductance
"""

#: Output pyramidal cell: basal dendrite, soma nudged towards the target; read-out.
MC_OUTPUT = """
v_B : 1  # basal potential W_up r_L
err_up : 1  # learn * (post - phi(g_b/(g_l+g_b) v_B))
g_som : hertz (shared)  # somatic nudging conductance
tau_0 : second (shared)  # target low-pass time constant
tgt_f : 1  # low-pass filtered target
tgt : 1  # target used in this step
tgt_prev : 1  # filtered target of the previous step (LE mode uses it)
nudge : 1  # nudging flag used in this step
nudge_prev : 1  # nudging flag of the previous step (LE mode uses it)
acc : 1  # sum of w over the read-out steps of the current pattern
phase : 1  # step index within the pattern
lag_steps : 1 (shared)  # read-out starts at this step of a pattern (out_lag/dt)
pattern_steps : 1 (shared)  # steps per pattern
"""

#: Generic soma step (run_regularly, after the dendritic sums): steady state u_ss,
#: du/dt = g (u_ss - u), ub = u + du/g (from u before the Euler update), Euler step,
#: visible potential and its rate. ``{g}`` is the total conductance.
MC_SOMA = """
dudt = ({g})*(u_ss - u)/c_m
ub = u + c_r*dudt/({g})
u = u + dt*dudt
w_new = le_mode*ub + (1 - le_mode)*u
post = {phi_w}
"""

#: Hidden pyramidal soma: u_ss = (g_b v_B + g_a v_A)/g_P and the plasticity factors.
MC_PYRAMIDAL_SOMA = """
learn = {learn}(t)
v_A = v_A_down + v_A_pi
u_ss = (g_b*v_B + g_a*v_A)/(g_l + g_b + g_a)
{soma}
basal = g_b/(g_l + g_b + g_a)*v_B
err_up = learn*(post - {phi_basal})
err_pi = -learn*v_A
"""

#: Interneuron soma: u_ss = (g_b v_I + g_som w_{l+1})/g_I.
MC_INTERNEURON_SOMA = """
learn = {learn}(t)
u_ss = (g_b*v_I + g_som*w_next)/(g_l + g_b + g_som)
{soma}
basal = g_b/(g_l + g_b)*v_I
err_ip = learn*(post - {phi_basal})
"""

#: Output soma: target filter, the LE one-step delay of target and flag, nudging.
MC_OUTPUT_SOMA = """
learn = {learn}(t)
tgt_f = tgt_f + dt/tau_0*({target}(t, i) - tgt_f)
tgt = le_mode*tgt_prev + (1 - le_mode)*tgt_f
nudge = le_mode*nudge_prev + (1 - le_mode)*{nudge}(t)
tgt_prev = tgt_f
nudge_prev = {nudge}(t)
u_ss = nudge*((g_b*v_B + g_som*tgt)/(g_l + g_b + g_som)) + (1 - nudge)*(g_b*v_B/(g_l + g_b))
{soma}
basal = g_b/(g_l + g_b)*v_B
err_up = learn*(post - {phi_basal})
"""

#: End of the step; latch the visible potential and the rate for step k+1.
MC_LATCH = """
w = w_new
r = post
"""

#: Output read-out after the latch: acc restarts at the first step of a pattern and
#: sums w over the steps with phase >= lag_steps.
MC_READOUT = """
acc = acc*int(phase > 0.5) + w*int(phase > lag_steps - 0.5)
phase = (phase + 1)*int(phase + 1.5 < pattern_steps)
"""

#: A projection: weight W and its dendritic sum ``{target}`` in the postsynaptic cell.
MC_PROJECTION = """
W : 1  # weight (W)[post, pre]
{target}_post = W*r_pre : 1 (summed)
"""

#: Learning rate of a plastic projection.
MC_PLASTIC = """
eta : hertz (shared)  # learning rate
"""

#: Bound of a clipped projection (W_up).
MC_CLIPPED = """
W_max : 1 (shared)  # |W| <= W_max after every learning step
"""

#: Plasticity dW = dt eta err_post r_pre (err_post carries the learning flag).
MC_PLASTICITY = "W = W + dt*eta*{error}_post*r_pre"

#: Clip a W_up projection while learning (learn = 0 leaves W untouched).
MC_CLIP = "W = learn_post*clip(W, -W_max, W_max) + (1 - learn_post)*W"

#: One-to-one copy of a pyramidal cell's visible potential into its interneuron.
MC_MIRROR = """
w_next_post = w_pre : 1 (summed)
"""

#: Projection kind -> (dendritic variable summed in the target, error variable of the
#: plasticity rule or None, clipped).
PROJECTIONS = {
    "up": ("v_B", "err_up", True),
    "down": ("v_A_down", None, False),
    "pi": ("v_A_pi", "err_pi", False),
    "ip": ("v_I", "err_ip", False),
}


def population_equations(kind):
    """`Equations` of a population: ``'pyramidal'``, ``'interneuron'`` or ``'output'``."""
    extra = {"pyramidal": MC_PYRAMIDAL, "interneuron": MC_INTERNEURON, "output": MC_OUTPUT}
    try:
        return Equations(MC_COMMON) + Equations(extra[kind])
    except KeyError:
        raise ValueError(f"kind must be one of {sorted(extra)}, got {kind!r}") from None


def soma_code(kind, activation="soft_relu", learn="mc_learn", target="mc_target",
              nudge="mc_nudge", post="post"):
    """Run-regularly code of one soma step of a population (see `population_equations`);
    ``learn``, ``target`` and ``nudge`` name the TimedArrays of the run; ``post`` is the
    postsynaptic factor of the dendritic errors (``s``, the spike train, for the
    Urbanczik-Senn form of a spiking microcircuit)."""
    act = get_activation(activation)
    totals = {"pyramidal": "g_l + g_b + g_a", "interneuron": "g_l + g_b + g_som",
              "output": "g_l + g_b + g_som"}
    templates = {"pyramidal": MC_PYRAMIDAL_SOMA, "interneuron": MC_INTERNEURON_SOMA,
                 "output": MC_OUTPUT_SOMA}
    if kind not in templates:
        raise ValueError(f"kind must be one of {sorted(templates)}, got {kind!r}")
    # activation templates are sums: parenthesise them before they enter an expression
    soma = MC_SOMA.format(g=totals[kind], phi_w=f"({act.rate('w_new')})").strip()
    code = templates[kind].format(soma=soma, phi_basal=f"({act.rate('basal')})", learn=learn,
                                  target=target, nudge=nudge)
    return code.replace("= learn*(post - ", f"= learn*({post} - ")


def latch_code(output=False):
    """Run-regularly code at the end of a step (the output adds the read-out)."""
    return MC_LATCH + (MC_READOUT if output else "")


def projection_equations(kind, rate="r"):
    """`Equations` of a projection: ``'up'``, ``'down'``, ``'pi'`` or ``'ip'``; ``rate``
    is the presynaptic variable read as the rate (``x``, the spike trace, when the
    presynaptic population spikes)."""
    try:
        target, error, clipped = PROJECTIONS[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {sorted(PROJECTIONS)}, got {kind!r}") from None
    eqs = Equations(MC_PROJECTION.format(target=target), r_pre=f"{rate}_pre")
    if error is not None:
        eqs += Equations(MC_PLASTIC)
    if clipped:
        eqs += Equations(MC_CLIPPED)
    return eqs


def plasticity_code(kind, rate="r"):
    """Run-regularly code of a plastic projection (None for the fixed ``'down'``);
    ``rate`` as in `projection_equations` (the rule's presynaptic factor)."""
    target, error, clipped = PROJECTIONS[kind]
    if error is None:
        return None
    code = MC_PLASTICITY.format(error=error).replace("r_pre", f"{rate}_pre")
    return code + ("\n" + MC_CLIP if clipped else "")
