r"""Brian2 equations of convolution and pooling layers (issue 28, docs/model.md §1.9).

A convolution layer l is made of LE neurons (`le_brian.equations.layered`, one per output
position ``(o, y, x)``) whose bias ``b`` is a linked variable into a bias group of one
neuron per output channel, a kernel group of one neuron per kernel entry
``k = ((o C + c) k_h + i) k_w + j`` (its weight ``w``, its summed gradient ``g``) and
synapses kernel entry -> output position, one per (entry, position) pair whose input lies
inside the input (`le_brian.engine.conv_geometry.ConvGeometry.pairs`). A synapse reads the
input rate through a linked variable ``r_in`` indexed by its input unit ``n_in``:

.. math::

    I^{ff}_l[n] = \sum_{(k, n, m)} K[k]\, r_{l-1}[m], \qquad
    g[k] = \sum_{(k, n, m)} e_l[n]\, r_{l-1}[m], \qquad K \mathrel{+}= dt\,\eta_l\, g

and the feedback synapses (kernel entry -> input unit, linked ``e_out`` indexed by the
output unit) sum :math:`I^{fb}_{l-1}[m] = \sum K[k]\, e_l[n]`. The bias group sums
:math:`g_b[o] = \sum_{y,x} e_l[o, y, x]` and updates ``b += dt eta_b g_b``.

A pooling layer is a group of one unit per output position with linked variables
``r_q`` (window position q, row-major) into the rates of the layer below; padding
positions are linked to the window's first inside unit, which leaves a max unchanged, and
multiplied by 0 in an average. Errors go back through synapses over the windows
(`le_brian.engine.conv_geometry.PoolGeometry.windows`).

Variables: ``w`` (kernel weight, 1), ``g`` (its gradient sum, 1), ``eta`` (Hz, shared),
``n_in`` / ``n_out`` (integer unit indices of a synapse), ``r_in`` / ``e_out`` (linked),
``gb`` (bias gradient sum), ``eta_b`` (Hz, shared), ``am`` (integer: the arg-max input
unit of a max-pooling unit), ``m_q`` (1 inside the input, 0 in the padding).
"""

__all__ = ["CONV_KERNEL", "CONV_KERNEL_UPDATE", "CONV_BIAS", "CONV_BIAS_UPDATE",
           "CONV_FORWARD", "CONV_GRADIENT", "CONV_FEEDBACK", "CONV_BIAS_SUM", "POOL_LAYER",
           "POOL_ROUTE", "conv_forward_equations", "pool_unit_equations", "conv_gradient_line",
           "conv_bias_equations", "pool_equations", "pool_code", "pool_route_equations"]

#: The kernel group: one neuron per kernel entry.
CONV_KERNEL = """
w : 1
g : 1
eta : hertz (shared)
"""

#: Kernel update after the gradient sum (plasticity slot).
CONV_KERNEL_UPDATE = "w = w + dt*eta*g"

#: The bias group: one neuron per output channel.
CONV_BIAS = """
b : 1
gb : 1
eta_b : hertz (shared)
"""

#: Bias update after its sum (after the membrane update, which reads the old bias).
CONV_BIAS_UPDATE = "b = b + dt*eta_b*gb"

#: Kernel entry -> output position: forward sum and kernel gradient (``{error}``: the
#: error the kernel learns from, eps or eps_new).
CONV_FORWARD = """
n_in : integer (constant)
r_in : 1 (linked)
I_ff_post = w_pre*r_in : 1 (summed)
"""

#: The kernel gradient over the same pairs (its summed updater runs in the plasticity
#: slot, the forward sum's in the forward slot); ``{error}``: eps or eps_new.
CONV_GRADIENT = "g_pre = {error}_post*r_in : 1 (summed)\n"

#: Kernel entry -> input unit: the feedback sum (transposed convolution of the error).
CONV_FEEDBACK = """
n_out : integer (constant)
e_out : 1 (linked)
I_fb_post = w_pre*e_out : 1 (summed)
"""

#: Bias entry (channel) -> output position: the bias gradient sum.
CONV_BIAS_SUM = """
gb_pre = {error}_post : 1 (summed)
"""

#: A pooling layer's units (``I_fb`` is summed by the projection above).
POOL_LAYER = """
r : 1
I_fb : 1
"""

#: Error routing of a pooling layer: input unit <- output unit (window synapses).
POOL_ROUTE = {
    "max": "I_fb_pre = int(i == am_post)*I_fb_post : 1 (summed)",
    "avg": "I_fb_pre = I_fb_post/area : 1 (summed)\narea : 1 (constant)",
}


def conv_forward_equations():
    """Model of the forward synapses of a convolution."""
    return CONV_FORWARD


def conv_gradient_line(error):
    """The kernel-gradient line of the forward synapses (``error``: eps or eps_new)."""
    return CONV_GRADIENT.format(error=error)


def conv_bias_equations(error):
    """Model of the bias-gradient synapses (``error``: eps or eps_new)."""
    return CONV_BIAS_SUM.format(error=error)


def pool_equations(kind, n_window):
    """Model of a pooling group of ``kind`` ("max" or "avg") over windows of
    ``n_window`` positions."""
    lines = [POOL_LAYER.strip()]
    lines += [f"r_q{q} : 1 (linked)" for q in range(n_window)]
    if kind == "max":
        lines += ["am : integer"]
        lines += [f"n_q{q} : integer (constant)" for q in range(n_window)]
    else:
        lines += [f"m_q{q} : 1 (constant)" for q in range(n_window)]
    return "\n".join(lines) + "\n"


def pool_unit_equations(kind):
    """Model of a pooling group whose rates and routing are computed by
    `le_brian.engine.conv_aux.PoolPass` (standalone devices): no linked variables, the
    arg-max ``am`` for max pooling."""
    return POOL_LAYER.lstrip("\n") + ("am : integer\n" if kind == "max" else "")


def pool_code(kind, n_window, area):
    """Run-regularly code of a pooling group: max (first maximum in window order,
    strict ``>``; its input unit in ``am``) or average (sum in window order over the
    inside positions, divided by ``area`` = kh*kw)."""
    if kind == "max":
        lines = ["r = r_q0", "am = n_q0"]
        for q in range(1, n_window):
            lines.append(f"am = am + int(r_q{q} > r)*(n_q{q} - am)")
            lines.append(f"r = clip(r_q{q}, r, inf)")
        return "\n".join(lines)
    total = " + ".join(f"m_q{q}*r_q{q}" for q in range(n_window))
    return f"r = ({total})/{float(area)!r}"


def pool_route_equations(kind):
    """Model of the error-routing synapses of a pooling layer."""
    return POOL_ROUTE[kind]
