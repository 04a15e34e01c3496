r"""Layer types of a layered LE network: an architecture is a sequence of layer
specifications, ``[Input(784), Dense(300), Dense(100), Dense(10)]``; a list of sizes
``[784, 300, 100, 10]`` means the same (`le_brian.networks.architecture.architecture`).
Convolution and pooling layers: `le_brian.networks.conv_layers`.

A layer type owns what is particular to it: its population (`Dense.population`: the LE
neuron equations, its operations in the scheme's slots), its projection from the layer
below (`Dense.projection`: the synapse equations and their slots, fused where the schedule
allows), its parameter shapes and its description for the NumPy reference
(``reference()``: the plain tuple the NumPy reference ``NumpyConvLENetwork`` reads; the
reference itself is written apart, independently of the Brian2 path, and imports nothing
of it). The network (`le_brian.LENetwork`) owns what is shared: the clock,
the input tables, the schedule, the spiking view and the lifecycle.
"""

from dataclasses import dataclass

import numpy as np

from brian2 import Equations, NeuronGroup, Synapses

from .. import equations as eq
from ..engine.conv_geometry import as_shape
from ..engine.dense import DenseSynapses
from ..engine.spiking import add_spiking
from ..equations.activations import ACTIVATIONS

__all__ = ["Layer", "Input", "Dense", "le_population"]


@dataclass(frozen=True)
class Layer:
    """Base of the layer specifications: ``n`` units."""

    n: int

    def __post_init__(self):
        if (isinstance(self.n, bool) or not isinstance(self.n, int)) or self.n < 1:
            raise ValueError(f"{type(self).__name__}: n must be a positive int, got "
                             f"{self.n!r}")

    @property
    def size(self):
        """Number of units of the layer (its population's size)."""
        return self.n


@dataclass(frozen=True)
class Input(Layer):
    """The input layer: rates read from the run's input table every step.

    Parameters
    ----------
    n : int or (int, int, int)
        Number of input units, or an image shape ``(C, H, W)`` (channels, height,
        width; ``n = C*H*W`` units in C order, `le_brian.engine.conv_geometry`), which a
        `le_brian.networks.conv_layers.Conv2D` or pooling layer above needs.
    """

    shape: tuple = None

    def __post_init__(self):
        if isinstance(self.n, (tuple, list)):
            shape = as_shape(self.n, "Input: shape")
            object.__setattr__(self, "shape", shape)
            object.__setattr__(self, "n", int(np.prod(shape)))
        elif self.shape is not None:
            raise ValueError("Input: give the shape as the first argument, Input((C, H, W))")
        super().__post_init__()

    def reference(self):
        """This layer in the description the NumPy reference ``NumpyConvLENetwork``
        reads: ``("input", shape or n)``."""
        return ("input", self.shape if self.shape is not None else self.n)


@dataclass(frozen=True)
class Dense(Layer):
    """A fully connected LE layer: ``n`` LE neurons, all-to-all from the layer below.

    Parameters
    ----------
    n : int
        Number of neurons.
    activation : str, optional
        Rate function of this layer (default: the network's ``activation`` for hidden
        layers, ``output_activation`` for the output layer).
    """

    activation: str = None

    def __post_init__(self):
        super().__post_init__()
        if self.activation is not None and self.activation not in ACTIVATIONS:
            raise ValueError(f"Dense: activation must be one of {sorted(ACTIVATIONS)}, got "
                             f"{self.activation!r}")

    def reference(self):
        """This layer in the description the NumPy reference ``NumpyConvLENetwork``
        reads: ``("dense", n[, activation])``."""
        return ("dense", self.n) + ((self.activation,) if self.activation else ())

    def parameter_shapes(self, n_pre):
        """``{'weights': (n, n_pre), 'biases': (n,)}``."""
        return {"weights": (self.n, n_pre), "biases": (self.n,)}

    def population(self, net, ctx, l):
        """Layer ``l``'s NeuronGroup with its prospective, error, latch and mismatch
        operations in the slots of ``ctx.schedule`` (docs/model.md §1.2, §1.3, §4)."""
        return le_population(net, ctx, l, self.n)

    def projection(self, net, ctx, l, below, g):
        """Projection ``l`` (layer l-1 -> layer l): forward sum, feedback sum (l >= 2)
        and plasticity in their slots; one fused pass over the weights where the
        schedule allows (docs/model.md §4.1)."""
        L, sched = ctx.n_layers, ctx.schedule
        kind = net.synapses[l - 1]
        projection_class = Synapses if kind == "plain" else DenseSynapses
        rate_pre = (net.spiking.read_variable if f"layer{l - 1}" in ctx.spiking
                    else "rs" if ctx.filtered else "r")
        feedback = ctx.feedback(l)
        s = projection_class(below, g,
                             model=eq.projection_equations(feedback, learn_from=ctx.error,
                                                           hand_down=ctx.hand_down,
                                                           rate=rate_pre),
                             method="euler", clock=ctx.clock, name=f"proj{l}")
        s.connect()
        slot, order = sched.forward
        s.summed_updaters["I_ff_post"].when = slot
        s.summed_updaters["I_ff_post"].order = ctx.stride * order(l, L)
        if feedback:
            slot, order = sched.feedback
            s.summed_updaters["I_fb_pre"].when = slot
            s.summed_updaters["I_fb_pre"].order = ctx.stride * order(l, L)
        s.state_updater.when = sched.plasticity
        if kind == "dense" and ctx.hand_down == "eps":  # docs/model.md §4.1
            s.fuse("I_ff_post", "I_fb_pre" if feedback else None,
                   plasticity=sched.fuse_plasticity)
        return s


def le_population(net, ctx, l, n, shared_bias=False):
    """Layer ``l``'s NeuronGroup of ``n`` LE neurons with its prospective, error, latch
    and mismatch operations in the slots of ``ctx.schedule`` (docs/model.md §1.2, §1.3,
    §4); ``shared_bias``: ``b`` is a linked variable (a convolution's channel bias)."""
    L, sched, name = ctx.n_layers, ctx.schedule, f"layer{l}"
    eqs = eq.layer_equations(l == L, net.scheme, ctx.hand_down == "mismatch",
                             net.tau_learning, ctx.noise, ctx.filtered,
                             l == L and net.filter_target, shared_bias=shared_bias)
    if name in ctx.spiking:
        eqs += Equations(net.spiking.unit_equations())
    g = NeuronGroup(n, eqs, method="euler", clock=ctx.clock, name=name)
    g.state_updater.when = sched.membrane
    slot, order = sched.prospective
    g.run_regularly(eq.prospective_code(net._layer_activation(l), ctx.noise,
                                        ctx.filtered),
                    when=slot, order=ctx.stride * order(l, L), name=f"{name}_prospective")
    if net.tau_learning is not None:
        g.run_regularly(eq.LE_TAU_CLIP.format(tau=net.tau_learning),
                        when=sched.membrane, order=1, name=f"{name}_tau_clip")
    if name in ctx.spiking:
        objs, spike_state, mon = add_spiking(
            g, name, net.spiking, "r", slot, ctx.stride * order(l, L) + 1, ctx.clock,
            name in ctx.record_spikes)
        ctx.spike_objects += objs
        ctx.state.update(spike_state)
        ctx.spike_monitors += [mon] if mon is not None else []
    err = (eq.output_error_code(net.target_type, "le_target", ctx.error,
                                net.filter_target) if l == L
           else eq.hidden_error_code(ctx.error))
    g.run_regularly(err, when=sched.new_error, name=f"{name}_error")
    if ctx.reference:
        g.run_regularly(eq.LE_LATCH_ERROR, when=sched.latch, name=f"{name}_latch")
    if ctx.hand_down == "mismatch" and l >= 2:
        g.run_regularly(eq.LE_MISMATCH, when=sched.mismatch, name=f"{name}_mismatch")
    return g
