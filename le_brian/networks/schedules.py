r"""The discrete-time schemes of layered LE networks: where every operation of a step runs.

`LENetwork` assembles the equation strings of :mod:`le_brian.equations` into Brian2
groups and places every operation in a named scheduling slot of the network's
``Network.schedule`` (ordered by layer inside a slot; Brian2 would otherwise break ties
by object name), in one of two discrete-time schemes (docs/model.md §1.2, §1.3, §4).
le_brian's slots come before Brian2's own (``groups``, ``thresholds``, ``synapses``,
``resets``, ``end``), so objects a user adds (``run(objects=...)``) see the finished step.

``scheme="sweep"`` (default, "instantaneous sweep"), step k, layers l = 1..L:

====================  ====================================================================
slot (order)          operation
====================  ====================================================================
``le_input``          input rates r_0 of step k from a TimedArray
``le_forward`` 2l     summed updater of projection l: I_ff_l = W_l r_{l-1}
``le_forward`` 2l+1   layer l: ub_l = u_l + tau_r du_l/dt, r_l = phi(ub_l), rp_l = phi'(ub_l)
``le_mismatch``       (mismatch hand-down only) mismatch_l = u_l - I_ff_l - b_l
``le_feedback`` L-l   summed updater of projection l >= 2: I_fb_{l-1} = W_l^T e_l (held e_l)
``le_plasticity``     W_l += dt eta_l e_l r_{l-1}^T (held e_l, rates of step k)
``le_membrane``       membranes and biases: u_l += dt du_l/dt, b_l += dt eta_l e_l
``le_error``          new errors: e_L from the target of step k, e_l = rp_l I_fb_l
``end``               monitors
====================  ====================================================================

Inference is exactly instantaneous: the output of step k reflects the input of step k
at any depth; errors move down one layer per step.

``scheme="reference"`` is the authors' synchronous (Jacobi) step: every layer advances
from the rates of step k-1, so it reads values before any layer has overwritten them:

====================  ====================================================================
slot (order)          operation
====================  ====================================================================
``le_input``          input rates of step k
``le_forward`` l      I_ff_l = W_l r_{l-1}  (r_{l-1} of step k-1; r_0 of step k)
``le_mismatch``       (mismatch hand-down only) mismatch_l = u_l - I_ff_l - b_l
``le_feedback`` L-l   I_fb_{l-1} = W_l^T e_l (held e_l, weights of step k-1)
``le_error``          new errors eps_new: e_L from last step's ub_L (r_L, rp_L) and the
                      target of step k; hidden: rp_l (of step k-1) I_fb_l
``le_plasticity``     plasticity with the new errors: W_l += dt eta_l eps_new_l r_{l-1}^T
``le_prospective``    (order l) ub_l, r_l, rp_l from I_ff_l and the held error
``le_membrane``       u_l += dt du_l/dt, b_l += dt eta_l eps_new_l
``le_latch``          e_l = eps_new_l (enters the membranes in step k+1)
====================  ====================================================================

The output of step k then reflects the input of step k-L+1.

With dense projections on the standalone devices, the operations of a projection that
may run together (sweep: forward sum, feedback sum and plasticity; reference: forward
and feedback sums) run as one pass over its weights at the forward sum's place
(`le_brian.engine.dense.DenseSynapses.fuse`, docs/model.md §4.1); the results are
those of the tables above.
"""

from dataclasses import dataclass, field

__all__ = ["Schedule", "SCHEDULES", "BuildContext"]


@dataclass(frozen=True)
class Schedule:
    """Where every operation of one step runs: a slot of `slots` and, for per-layer
    operations, an order inside it (``order(l, L)``)."""

    slots: tuple
    forward: tuple  # (slot, order(l, L)) of the I_ff summed updater of projection l
    prospective: tuple  # (slot, order(l, L)) of layer l's ub / r / rp
    new_error: str
    latch: object = None  # None: the new error is written into eps directly
    mismatch: str = "le_mismatch"
    feedback: tuple = ("le_feedback", lambda l, L: L - l)
    plasticity: str = "le_plasticity"
    membrane: str = "le_membrane"
    input: str = "le_input"
    #: the plasticity may run in the forward sum's pass (sweep: it learns from the
    #: held error and this step's rates, both known there; reference: from the new
    #: error, computed later in the step)
    fuse_plasticity: bool = True


#: The `Schedule` of each scheme (``LENetwork(scheme=...)``).
SCHEDULES = {
    "sweep": Schedule(
        slots=("le_input", "le_forward", "le_mismatch", "le_feedback", "le_plasticity",
               "le_membrane", "le_error"),
        forward=("le_forward", lambda l, L: 2 * l),
        prospective=("le_forward", lambda l, L: 2 * l + 1),
        new_error="le_error"),
    "reference": Schedule(
        slots=("le_input", "le_forward", "le_mismatch", "le_feedback", "le_error",
               "le_plasticity", "le_prospective", "le_membrane", "le_latch"),
        forward=("le_forward", lambda l, L: l),
        prospective=("le_prospective", lambda l, L: l),
        new_error="le_error", latch="le_latch", fuse_plasticity=False),
}


@dataclass
class BuildContext:
    """What a layer's `population` / `projection` needs from the network's build."""

    n_layers: int
    schedule: Schedule
    stride: int
    spiking: dict
    reference: bool
    error: str
    hand_down: str
    clock: object
    filtered: bool
    noise: bool
    record_spikes: object
    state: dict
    spike_objects: list
    spike_monitors: list
    #: ``feedback(l)``: whether projection l sends errors down (a neuron layer lies below)
    feedback: object
    #: the group of the layer below the one being built
    below: object = None
    #: extra groups / synapses a layer type adds (kernel and bias groups, ...)
    groups: dict = field(default_factory=dict)
    synapses: dict = field(default_factory=dict)
