r"""The smaller per-step operations of convolutional networks as geometry-baked code
objects on the standalone devices: a channel's bias gradient and a pooling layer's
forward pass and error routing.

On the plain path these are Brian2 objects (a summed variable over one synapse per
output position; a run-regularly operation over linked variables, one per window
position; a summed variable over the windows' synapses). Per step of LeNet-5 on
cpp_standalone they cost more than the first convolution (profiled: conv1's bias sum
32 us, pooling 9 us, error routing 18 us), almost all of it index arrays and
per-synapse loop overhead. Here the geometry is baked into the code as constants:

`ChannelSum`
    ``target[o] = sum_p source[o P + p]`` (P positions per channel, row-major): the
    bias gradient ``gb`` of a convolution layer, from its error.
`PoolPass`
    ``mode="forward"``: the pooled rate of each window (max: the first largest rate in
    row-major window order, and its input unit in ``am``; average: the sum over the
    window's positions inside the input divided by kh kw); ``mode="route"``: the error
    of the pooling units handed to the layer below (max: to the arg-max unit; average:
    ``I_fb / (kh kw)`` to every unit of the window), docs/model.md §1.9.

Both run serially in a fixed order (results independent of the OpenMP thread count)
and agree with the plain path to rounding. On cuda_standalone each is one kernel with
one thread per output (no atomics). Runtime targets: use the plain path
(`le_brian.engine.conv.conv_fast_available` tells which applies).
"""

from brian2.core.variables import ArrayVariable, Variables
from brian2.groups.group import CodeRunner

from .conv import conv_code_object_class, conv_fast_available
from .conv_geometry import PoolGeometry

__all__ = ["BakedPass", "ChannelSum", "PoolPass"]


def _start(group):
    return int(getattr(group, "start", 0))


def _array(owner, group, name, size):
    var = group.variables[name] if name in group.variables else None
    if not isinstance(var, ArrayVariable) or var.scalar:
        raise ValueError(f"{owner}: {name!r} must be a per-neuron variable of group "
                         f"'{group.name}'")
    if len(group) != size:
        raise ValueError(f"{owner}: group '{group.name}' must have {size} neurons for this "
                         f"geometry, has {len(group)}")
    return var


class BakedPass(CodeRunner):
    """The base of `ChannelSum` and `PoolPass`: a Brian2 `~brian2.groups.group.CodeRunner`
    of le_brian's convolution templates (``templates/conv_cpp``, ``templates/conv_cuda``)
    with references to variables of several groups and the geometry as template constants.

    Parameters
    ----------
    owner : str
        The subclass's name, for error messages.
    group : NeuronGroup
        The group that owns the code object (its clock).
    template : str
        Template name (``conv_channel_sum``, ``conv_pool``).
    refs : dict
        ``{name in the code: (group, variable name)}``.
    values : dict
        The code's constants (sizes, offsets of subgroups, geometry).
    when, order : str, int
        Scheduling slot and order.
    name : str

    Raises
    ------
    ValueError
        On a device other than cpp_standalone and cuda_standalone.
    """

    def __init__(self, owner, group, template, refs, values, when, order, name):
        if not conv_fast_available():
            raise ValueError(f"{owner} runs on cpp_standalone and cuda_standalone only: "
                             "use the plain path on runtime devices")
        self.groups = tuple({id(g): g for g, _ in refs.values()}.values())
        #: the code's constants (part of the network's fingerprint)
        self.conv_signature = repr(sorted(values.items()))
        CodeRunner.__init__(self, group=group, template=template, code="",
                            needed_variables=sorted(refs), clock=group.clock, when=when,
                            order=order, name=name, check_units=False,
                            template_kwds={"conv": values})
        self.variables = Variables(self)
        for key, (g, varname) in refs.items():
            self.variables.add_reference(key, g, varname)

    def before_run(self, run_namespace):
        """Brian2 hook: the code object class of the active device."""
        self.codeobj_class = conv_code_object_class()
        if self.codeobj_class is None:
            raise ValueError(f"'{self.name}' runs on cpp_standalone and cuda_standalone "
                             "only: use the plain path on runtime devices")
        super().before_run(run_namespace)


class ChannelSum(BakedPass):
    """``target[o] = sum over p of source[o*positions + p]`` for every neuron o of
    ``target`` (row-major positions), in one code object.

    Parameters
    ----------
    source : NeuronGroup or Subgroup
        ``len(target) * positions`` neurons, channel-major (a convolution layer).
    source_var : str
        Its variable that is summed (e.g. the error ``eps``).
    target : NeuronGroup or Subgroup
        One neuron per channel (e.g. the bias group).
    target_var : str
        Its variable that receives the sum (overwritten; e.g. ``gb``).
    positions : int
        Positions per channel (H' W').
    when, order : str, int
        Scheduling slot and order.
    name : str

    Raises
    ------
    ValueError
        On a runtime device, sizes that do not match, missing or shared variables.
    """

    def __init__(self, source, source_var, target, target_var, positions, when="start",
                 order=0, name=None):
        positions = int(positions)
        src = _array("ChannelSum", source, source_var, len(target) * positions)
        dst = _array("ChannelSum", target, target_var, len(target))
        if src.dim != dst.dim or src.dtype != dst.dtype:
            raise ValueError("ChannelSum: source and target variables must have the same "
                             "dimensions and type")
        values = {"n": len(target), "positions": positions, "src_start": _start(source),
                  "dst_start": _start(target)}
        super().__init__("ChannelSum", target, "conv_channel_sum",
                         {"_cs_src": (source, source_var), "_cs_dst": (target, target_var)},
                         values, when, order, name or f"{target.name}_channel_sum")


class PoolPass(BakedPass):
    """A pooling layer's forward pass or its error routing (module docstring), the
    window geometry baked in.

    Parameters
    ----------
    below : NeuronGroup
        The layer below (``C*H*W`` neurons, flat C order): ``r`` (read by the forward
        pass) and ``I_fb`` (written by the routing).
    pool : NeuronGroup
        The pooling layer (``C*H'*W'`` units): ``r`` (written by the forward pass),
        ``I_fb`` (read by the routing) and, for max pooling, the integer ``am``.
    geometry : le_brian.engine.conv_geometry.PoolGeometry
    mode : {'forward', 'route'}
    when, order : str, int
        Scheduling slot and order.
    name : str

    Raises
    ------
    ValueError
        On a runtime device, a geometry that is not a `PoolGeometry`, an unknown mode
        or group sizes that do not match.
    """

    def __init__(self, below, pool, geometry, mode, when="start", order=0, name=None):
        if not isinstance(geometry, PoolGeometry):
            raise ValueError(f"PoolPass: geometry must be a PoolGeometry, got "
                             f"{type(geometry).__name__}")
        if mode not in ("forward", "route"):
            raise ValueError(f"PoolPass: mode must be 'forward' or 'route', got {mode!r}")
        C, H, W = geometry.in_shape
        _, HO, WO = geometry.out_shape
        _array("PoolPass", below, "r", C * H * W)
        _array("PoolPass", pool, "r", C * HO * WO)
        refs = {"_pool_r_in": (below, "r"), "_pool_r": (pool, "r")} if mode == "forward" \
            else {"_pool_fb_in": (below, "I_fb"), "_pool_fb": (pool, "I_fb")}
        if geometry.kind == "max":
            refs["_pool_am"] = (pool, "am")
        (kh, kw), (sh, sw), (ph, pw) = geometry.size, geometry.stride, geometry.padding
        values = {"mode": mode, "kind": geometry.kind, "C": C, "H": H, "W": W, "HO": HO,
                  "WO": WO, "KH": kh, "KW": kw, "SH": sh, "SW": sw, "PH": ph, "PW": pw,
                  "below_start": _start(below), "pool_start": _start(pool)}
        super().__init__("PoolPass", pool, "conv_pool", refs, values, when, order,
                         name or f"{pool.name}_{mode}")
