r"""Layer types of a layered LE network: an architecture is a sequence of layer
specifications, ``[Input(784), Dense(300), Dense(100), Dense(10)]``; a list of sizes
``[784, 300, 100, 10]`` means the same (`architecture`).

A layer type owns what is particular to it: its population (`Dense.population`: the LE
neuron equations, its operations in the scheme's slots), its projection from the layer
below (`Dense.projection`: the synapse equations and their slots, fused where the schedule
allows) and its parameter shapes. Its NumPy reference is written apart, independently
of the Brian2 path, in the reference package under the layer type's name (dense layers:
``NumpyLENetwork``). The network (`le_brian.LENetwork`) owns what is shared: the clock,
the input tables, the schedule, the spiking view and the lifecycle.
"""

from dataclasses import dataclass

import numpy as np

from brian2 import Equations, NeuronGroup, Synapses

from .. import equations as eq
from ..engine.dense import DenseSynapses
from ..engine.spiking import add_spiking
from ..equations.activations import ACTIVATIONS

__all__ = ["Layer", "Input", "Dense", "architecture"]


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
    """The input layer: rates read from the run's input table every step."""


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

    def parameter_shapes(self, n_pre):
        """``{'weights': (n, n_pre), 'biases': (n,)}``."""
        return {"weights": (self.n, n_pre), "biases": (self.n,)}

    def population(self, net, ctx, l):
        """Layer ``l``'s NeuronGroup with its prospective, error, latch and mismatch
        operations in the slots of ``ctx.schedule`` (docs/model.md §1.2, §1.3, §4)."""
        L, sched, name = ctx.n_layers, ctx.schedule, f"layer{l}"
        eqs = eq.layer_equations(l == L, net.scheme, ctx.hand_down == "mismatch",
                                 net.tau_learning, ctx.noise, ctx.filtered,
                                 l == L and net.filter_target)
        if name in ctx.spiking:
            eqs += Equations(net.spiking.unit_equations())
        g = NeuronGroup(self.n, eqs, method="euler", clock=ctx.clock, name=name)
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

    def projection(self, net, ctx, l, below, g):
        """Projection ``l`` (layer l-1 -> layer l): forward sum, feedback sum (l >= 2)
        and plasticity in their slots; one fused pass over the weights where the
        schedule allows (docs/model.md §4.1)."""
        L, sched = ctx.n_layers, ctx.schedule
        kind = net.synapses[l - 1]
        projection_class = Synapses if kind == "plain" else DenseSynapses
        rate_pre = (net.spiking.read_variable if f"layer{l - 1}" in ctx.spiking
                    else "rs" if ctx.filtered else "r")
        s = projection_class(below, g,
                             model=eq.projection_equations(l >= 2, learn_from=ctx.error,
                                                           hand_down=ctx.hand_down,
                                                           rate=rate_pre),
                             method="euler", clock=ctx.clock, name=f"proj{l}")
        s.connect()
        slot, order = sched.forward
        s.summed_updaters["I_ff_post"].when = slot
        s.summed_updaters["I_ff_post"].order = ctx.stride * order(l, L)
        if l >= 2:
            slot, order = sched.feedback
            s.summed_updaters["I_fb_pre"].when = slot
            s.summed_updaters["I_fb_pre"].order = ctx.stride * order(l, L)
        s.state_updater.when = sched.plasticity
        if kind == "dense" and ctx.hand_down == "eps":  # docs/model.md §4.1
            s.fuse("I_ff_post", "I_fb_pre" if l >= 2 else None,
                   plasticity=sched.fuse_plasticity)
        return s


def architecture(layers):
    """Layer specifications from ``[Input(n0), Dense(n1), ...]`` or a list of sizes
    ``[n0, n1, ...]`` (the input, then dense layers).

    Raises
    ------
    ValueError
        Fewer than two layers, a first entry that is not the input, an input after the
        first entry, or a size that is not a positive int.
    """
    if hasattr(layers, "tolist") and not isinstance(layers, (list, tuple)):
        layers = layers.tolist()  # a NumPy array of sizes
    if not isinstance(layers, (list, tuple)) or len(layers) < 2:
        raise ValueError(f"layer_sizes must be a list of at least 2 positive ints or layer "
                         f"specifications [n_in, ..., n_out] / [Input(n_in), Dense(n), ...], "
                         f"got {layers!r}")
    out = []
    for k, spec in enumerate(layers):
        if isinstance(spec, Layer):
            out.append(spec)
        elif hasattr(spec, "__index__") and not isinstance(spec, (bool, np.bool_)):
            try:
                out.append(Input(int(spec)) if k == 0 else Dense(int(spec)))
            except ValueError:
                raise ValueError(f"layer_sizes must be a list of at least 2 positive ints "
                                 f"[n_in, ..., n_out], got {layers!r}") from None
        else:
            raise ValueError(f"layer_sizes must be a list of at least 2 positive ints "
                             f"[n_in, ..., n_out], got {layers!r}")
    if not isinstance(out[0], Input) or any(isinstance(x, Input) for x in out[1:]):
        raise ValueError("an architecture starts with one Input layer and has no other")
    for spec in out[1:]:
        if not isinstance(spec, Dense):
            raise ValueError(f"LENetwork: unsupported layer {spec!r} (layer types: Dense)")
    return out
