r"""Convolution and pooling layers of a layered LE network (issue 28, docs/model.md §1.9).

``[Input((1, 28, 28)), Conv2D(20, 5), MaxPool2D(2), Conv2D(50, 5), MaxPool2D(2),
Dense(500), Dense(10)]`` is LeNet-5. Shapes, checks and index tables come from
`le_brian.engine.conv_geometry`; the equation strings from `le_brian.equations.conv`.

Brian2 objects of a `Conv2D` layer l on the plain path (Brian2's own code, exact: the
runtime devices, and ``synapses="plain"``):

==================  ===============================================================
object              what it does
==================  ===============================================================
``layer{l}``        O H' W' LE neurons (the dense layer's equations); ``b`` linked
                    into ``bias{l}`` by channel
``bias{l}``         one neuron per output channel: ``b``, its gradient sum ``gb``
``kernel{l}``       one neuron per kernel entry: ``w``, its gradient sum ``g``
``proj{l}``         synapses kernel entry -> output position (one per pair inside the
                    input): ``I_ff`` (forward slot) and ``g`` (plasticity slot), the
                    input rate linked through the synapse's ``n_in``
``proj{l}_fb``      synapses kernel entry -> input unit (when a neuron layer lies
                    below): ``I_fb`` of the layer below (feedback slot), the error
                    linked through ``n_out``
``proj{l}_bias``    synapses channel -> output position: ``gb`` (membrane slot, after
                    the membranes read the old bias)
==================  ===============================================================

followed by ``kernel{l}_update`` (``w += dt eta g``, plasticity slot) and
``bias{l}_update`` (``b += dt eta_b gb``, membrane slot).

On cpp_standalone and cuda_standalone with ``synapses="dense"`` (the default),
``proj{l}``, ``proj{l}_fb`` and ``kernel{l}_update`` are one fused pass instead,
`le_brian.engine.conv.ConvProjection` named ``proj{l}`` at the forward sum's place (in
the authors' scheme the kernel learns from eps_new in a second, plasticity-only pass
``proj{l}_plasticity``; docs/model.md §4.1, §4.2), ``proj{l}_bias`` is a
`le_brian.engine.conv_aux.ChannelSum`, and a pooling layer's operation and routing below
are `le_brian.engine.conv_aux.PoolPass` objects (same names, slots and orders).

A pooling layer l is the group ``layer{l}`` (``r``, ``I_fb``; max: the arg-max ``am``)
whose rates are computed by one run-regularly operation in the forward slot from linked
variables into the rates of the layer below (one per window position), and the synapses
``proj{l}`` (input unit -> pooling unit, over the windows) that route ``I_fb`` down
(feedback slot): to the arg-max unit (max) or spread as ``I_fb / (kh kw)`` (average).
"""

from dataclasses import dataclass

import numpy as np
from brian2 import NeuronGroup, Synapses, linked_var

from ..engine.conv import ConvProjection, conv_fast_available
from ..engine.conv_aux import ChannelSum, PoolPass
from ..engine.conv_geometry import ConvGeometry, PoolGeometry, as_pair, parse_layers
from ..equations import conv as ceq
from ..equations.activations import ACTIVATIONS
from .layers import le_population

__all__ = ["Conv2D", "Pool2D", "MaxPool2D", "AvgPool2D", "SpatialLayer", "layers_from_text"]


def _check_channels(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what}: channels must be a positive int, got {value!r}")


class SpatialLayer:
    """Base of the layers that act on images ``(C, H, W)``: their size follows from the
    input shape (`geometry`)."""

    def geometry(self, in_shape):
        """The layer's `le_brian.engine.conv_geometry` object for ``in_shape``."""
        raise NotImplementedError


@dataclass(frozen=True)
class Conv2D(SpatialLayer):
    """A convolution layer of LE neurons with shared kernels: one LE neuron per output
    position ``(o, y, x)``, one kernel ``(O, C, kh, kw)`` and one bias per output channel.

    Parameters
    ----------
    channels : int
        Output channels O.
    kernel_size : int or (int, int)
        ``(kh, kw)``.
    stride : int or (int, int)
        Default 1.
    padding : int or (int, int)
        Zero padding, at most half the kernel; default 0.
    activation : str, optional
        Rate function of this layer (default: the network's ``activation``, or
        ``output_activation`` for the output layer).
    """

    channels: int
    kernel_size: object
    stride: object = 1
    padding: object = 0
    activation: str = None

    def __post_init__(self):
        _check_channels(self.channels, "Conv2D")
        as_pair(self.kernel_size, "Conv2D: kernel_size")
        as_pair(self.stride, "Conv2D: stride")
        as_pair(self.padding, "Conv2D: padding", 0)
        if self.activation is not None and self.activation not in ACTIVATIONS:
            raise ValueError(f"Conv2D: activation must be one of {sorted(ACTIVATIONS)}, got "
                             f"{self.activation!r}")

    def reference(self):
        """This layer in the description the NumPy reference ``NumpyConvLENetwork``
        reads:
        ``("conv", O, (kh, kw), (sh, sw), (ph, pw)[, activation])``."""
        return (("conv", self.channels, as_pair(self.kernel_size, "kernel_size"),
                 as_pair(self.stride, "stride"), as_pair(self.padding, "padding", 0))
                + ((self.activation,) if self.activation else ()))

    def geometry(self, in_shape):
        """`le_brian.engine.conv_geometry.ConvGeometry` of this layer on ``in_shape``."""
        return ConvGeometry(in_shape, self.channels, self.kernel_size, self.stride,
                            self.padding)

    def population(self, net, ctx, l):
        """``layer{l}`` (LE neurons, bias linked by channel) and ``bias{l}``."""
        geo = net._geometry[l]
        O, Ho, Wo = geo.out_shape
        g = le_population(net, ctx, l, O * Ho * Wo, shared_bias=True)
        bias = NeuronGroup(O, ceq.CONV_BIAS, clock=ctx.clock, name=f"bias{l}")
        bias.state_updater.when = ctx.schedule.membrane
        g.b = linked_var(bias, "b", index=np.repeat(np.arange(O), Ho * Wo))
        ctx.groups[f"bias{l}"] = bias
        return g

    def projection(self, net, ctx, l, below, g):
        """Kernel group, forward / gradient, feedback and bias-gradient synapses and
        the kernel and bias updates of layer ``l`` (module docstring)."""
        sched = ctx.schedule
        geo = net._geometry[l]
        kernel = NeuronGroup(geo.n_kernel, ceq.CONV_KERNEL, clock=ctx.clock,
                             name=f"kernel{l}")
        kernel.state_updater.when = sched.plasticity
        ctx.groups[f"kernel{l}"] = kernel
        fast = _fast(net, l)
        if fast:
            s = self._fused_projection(ctx, l, kernel, below, g, geo)
        else:
            s = self._plain_projection(ctx, l, kernel, below, g, geo)
        bias = ctx.groups[f"bias{l}"]
        O, Ho, Wo = geo.out_shape
        if fast:  # the bias gradient: one loop over the error planes
            sb = ChannelSum(g, ctx.error, bias, "gb", Ho * Wo, when=sched.membrane, order=1,
                            name=f"proj{l}_bias")
        else:
            sb = Synapses(bias, g, model=ceq.conv_bias_equations(ctx.error),
                          clock=ctx.clock, name=f"proj{l}_bias")
            sb.connect(i=np.repeat(np.arange(O), Ho * Wo), j=np.arange(O * Ho * Wo))
            sb.summed_updaters["gb_pre"].when = sched.membrane
            sb.summed_updaters["gb_pre"].order = 1
        bias.run_regularly(ceq.CONV_BIAS_UPDATE, when=sched.membrane, order=2,
                           name=f"bias{l}_update")
        ctx.synapses[f"proj{l}_bias"] = sb
        return s

    @staticmethod
    def _plain_projection(ctx, l, kernel, below, g, geo):
        """Brian2's own objects: synapses over ``geo.pairs()`` and the kernel update."""
        L, sched, S = ctx.n_layers, ctx.schedule, ctx.stride
        k, n_out, n_in = geo.pairs()
        kernel.run_regularly(ceq.CONV_KERNEL_UPDATE, when=sched.plasticity,
                             order=S * l + 1, name=f"kernel{l}_update")
        s = Synapses(kernel, g, model=ceq.conv_forward_equations()
                     + ceq.conv_gradient_line(ctx.error), clock=ctx.clock, name=f"proj{l}")
        s.connect(i=k, j=n_out)
        s.n_in = n_in
        s.r_in = linked_var(below, "r", index="n_in")
        slot, order = sched.forward
        s.summed_updaters["I_ff_post"].when = slot
        s.summed_updaters["I_ff_post"].order = S * order(l, L)
        s.summed_updaters["g_pre"].when = sched.plasticity
        s.summed_updaters["g_pre"].order = S * l
        if ctx.feedback(l):
            fb = Synapses(kernel, below, model=ceq.CONV_FEEDBACK, clock=ctx.clock,
                          name=f"proj{l}_fb")
            fb.connect(i=k, j=n_in)
            fb.n_out = n_out
            fb.e_out = linked_var(g, ctx.hand_down, index="n_out")
            slot, order = sched.feedback
            fb.summed_updaters["I_fb_post"].when = slot
            fb.summed_updaters["I_fb_post"].order = S * order(l, L)
            ctx.synapses[f"proj{l}_fb"] = fb
        return s

    @staticmethod
    def _fused_projection(ctx, l, kernel, below, g, geo):
        """`le_brian.engine.conv.ConvProjection` at the forward sum's place: forward
        sum, feedback sum (held error) and, where the schedule allows (sweep), the kernel
        update in one pass; otherwise (reference: it learns from eps_new) a second,
        plasticity-only pass at the plasticity slot (docs/model.md §4.1)."""
        L, sched, S = ctx.n_layers, ctx.schedule, ctx.stride
        slot, order = sched.forward
        fuse = sched.fuse_plasticity
        s = ConvProjection(kernel, below, g, geo, rate="r", forward="I_ff",
                           feedback="I_fb" if ctx.feedback(l) else None,
                           error=ctx.hand_down, plasticity=fuse, when=slot,
                           order=S * order(l, L), name=f"proj{l}")
        if not fuse:
            ctx.synapses[f"proj{l}_plasticity"] = ConvProjection(
                kernel, below, g, geo, rate="r", forward=None, feedback=None,
                error=ctx.error, plasticity=True, when=sched.plasticity, order=S * l,
                name=f"proj{l}_plasticity")
        return s


@dataclass(frozen=True)
class Pool2D(SpatialLayer):
    """Base of the pooling layers (`MaxPool2D`, `AvgPool2D`): parameter-free, no
    neurons; ``kind`` "max" or "avg" (docs/model.md §1.9)."""

    size: object
    stride: object = None
    padding: object = 0

    kind = None

    def __post_init__(self):
        what = type(self).__name__
        as_pair(self.size, f"{what}: size")
        if self.stride is not None:
            as_pair(self.stride, f"{what}: stride")
        as_pair(self.padding, f"{what}: padding", 0)

    def reference(self):
        """This layer in the description the NumPy reference ``NumpyConvLENetwork``
        reads:
        ``("maxpool" | "avgpool", (kh, kw), (sh, sw), (ph, pw))``."""
        size = as_pair(self.size, "size")
        return (f"{self.kind}pool", size,
                size if self.stride is None else as_pair(self.stride, "stride"),
                as_pair(self.padding, "padding", 0))

    def geometry(self, in_shape):
        """`le_brian.engine.conv_geometry.PoolGeometry` of this layer on ``in_shape``."""
        return PoolGeometry(in_shape, self.size, self.stride, self.padding, self.kind)

    def population(self, net, ctx, l):
        """``layer{l}``: the pooled rates (and arg-max) of the layer below, computed in
        the forward slot where the next projection reads them."""
        geo, below = net._geometry[l], ctx.below
        slot, order = ctx.schedule.forward
        if _fast(net, l):  # the geometry baked into one pass (no linked variables)
            g = NeuronGroup(int(np.prod(geo.out_shape)), ceq.pool_unit_equations(self.kind),
                            clock=ctx.clock, name=f"layer{l}")
            g.state_updater.when = slot
            g.contained_objects.append(PoolPass(
                below, g, geo, "forward", when=slot,
                order=ctx.stride * order(l, ctx.n_layers), name=f"layer{l}_pool"))
            return g
        (kh, kw), n_window = geo.size, geo.size[0] * geo.size[1]
        n_out, n_in, q = geo.windows()
        n = int(np.prod(geo.out_shape))
        # every window's units by position; padding positions -> the first inside unit
        table = np.full((n, n_window), -1)
        table[n_out, q] = n_in
        inside = table >= 0
        first = table[np.arange(n), inside.argmax(axis=1)]
        table = np.where(inside, table, first[:, None])
        g = NeuronGroup(n, ceq.pool_equations(self.kind, n_window), clock=ctx.clock,
                        name=f"layer{l}")
        g.state_updater.when = slot
        for j in range(n_window):
            setattr(g, f"r_q{j}", linked_var(below, "r", index=table[:, j]))
            if self.kind == "max":
                setattr(g, f"n_q{j}", table[:, j])
            else:
                setattr(g, f"m_q{j}", inside[:, j].astype(float))
        g.run_regularly(ceq.pool_code(self.kind, n_window, kh * kw), when=slot,
                        order=ctx.stride * order(l, ctx.n_layers),
                        name=f"layer{l}_pool")
        return g

    def projection(self, net, ctx, l, below, g):
        """``proj{l}``: the error routing to the layer below (None when no neuron layer
        lies below)."""
        if not ctx.feedback(l):
            return None
        geo = net._geometry[l]
        slot, order = ctx.schedule.feedback
        if _fast(net, l):
            return PoolPass(below, g, geo, "route", when=slot,
                            order=ctx.stride * order(l, ctx.n_layers), name=f"proj{l}")
        n_out, n_in, _ = geo.windows()
        s = Synapses(below, g, model=ceq.pool_route_equations(self.kind), clock=ctx.clock,
                     name=f"proj{l}")
        s.connect(i=n_in, j=n_out)
        if self.kind == "avg":
            s.area = float(geo.size[0] * geo.size[1])
        s.summed_updaters["I_fb_pre"].when = slot
        s.summed_updaters["I_fb_pre"].order = ctx.stride * order(l, ctx.n_layers)
        return s


@dataclass(frozen=True)
class MaxPool2D(Pool2D):
    """Max pooling (no parameters, no neurons): ``r[c, y, x]`` is the largest rate in its
    window of the layer below (the first one in row-major window order on ties); the
    error goes back to that unit (docs/model.md §1.9).

    Parameters
    ----------
    size : int or (int, int)
        Window ``(kh, kw)``.
    stride : int or (int, int), optional
        Default: the window.
    padding : int or (int, int)
        Padding (not part of any maximum), at most half the window; default 0.
    """

    kind = "max"


@dataclass(frozen=True)
class AvgPool2D(Pool2D):
    """Average pooling (no parameters, no neurons): ``r[c, y, x]`` is the sum of its
    window's rates divided by ``kh*kw`` (padding counts as zeros); the error is spread
    evenly, ``I_fb / (kh*kw)`` to every unit of the window (docs/model.md §1.9).

    Parameters
    ----------
    size : int or (int, int)
        Window ``(kh, kw)``.
    stride : int or (int, int), optional
        Default: the window.
    padding : int or (int, int)
        Zero padding, at most half the window; default 0.
    """

    kind = "avg"


def _fast(net, l):
    """Whether layer ``l`` runs on le_brian's convolution templates (standalone devices,
    ``synapses="dense"``) rather than Brian2's own objects."""
    return net.synapses[l - 1] == "dense" and conv_fast_available()


def layers_from_text(text):
    """Layer specifications from the text form of
    `le_brian.engine.conv_geometry.parse_layers` (``"c20k5,m2,c50k5,m2"``)."""
    kinds = {"max": MaxPool2D, "avg": AvgPool2D}
    return [Conv2D(*t[1:]) if t[0] == "conv" else kinds[t[0]](*t[1:])
            for t in parse_layers(text)]
