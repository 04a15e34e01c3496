r"""Convolutional projections with a shared kernel: one fused pass on the standalone
devices.

`ConvProjection` is one code object (a Brian2 `CodeRunner`) per convolutional
projection r_{l-1} (C, H, W) -> layer l (O, H', W') with kernel K (O, C, kh, kw),
generated from le_brian's templates ``templates/conv_cpp/conv_fused.cpp``
(cpp_standalone) and ``templates/conv_cuda/conv_fused.cu`` (cuda_standalone: three
kernels, one thread per output unit, input unit and kernel entry, no atomics;
compile-tested only). The
geometry (`~le_brian.engine.conv_geometry.ConvGeometry`) is baked into the code as
constants: the loops run over kernel entries and positions, with no per-pair index
arrays (a plain `brian2.Synapses` over ``ConvGeometry.pairs()`` reads three index
arrays per pair). In one pass, from the kernel as it was at the start of the pass,
it computes (docs/model.md §4.1, CONV layers)

.. math::

    I^\mathrm{ff}_l[o,y,x] &= \sum_{c,i,j} K[o,c,i,j]\, r_{l-1}[c, y s_h + i - p_h, x s_w + j - p_w],\\
    I^\mathrm{fb}_{l-1}[c,y',x'] &= \sum_{(o,i,j,y,x) \to (c,y',x')} K[o,c,i,j]\, e_l[o,y,x],\\
    K[o,c,i,j] &\mathrel{+}= dt\, \eta_l \sum_{y,x} e_l[o,y,x]\, r_{l-1}[c, y s_h + i - p_h, x s_w + j - p_w],

each part optional (``forward``, ``feedback``, ``plasticity``). Loop order: output
channel o, input channel c, kernel row i, column j, output row y, column x; the
innermost loop runs over contiguous memory (for stride 1) and is vectorised by the
compiler. Where output rows are one float64 vector at stride 1 and padded input rows at
most two (LeNet-5's conv2), input channel c is the outer loop of a chunk and its
feedback goes by input rows (vector shuffles for the kernel column's shift), before
the gradients of (o, c) update the kernel. The forward sum of a position adds its terms in kernel-entry order and the
kernel gradient its positions in row-major order, as Brian2's summed variables over
``ConvGeometry.pairs()`` do; the feedback sums are added per chunk of output
channels and the chunks in a fixed order, so the results are the same bits for any
number of OpenMP threads (``threads`` 0 included), and agree with the plain Synapses
to rounding.

A run in which the learning rate is 0 (``learn=False``) takes the template's
evaluation branch: the sums only, no kernel entry written, in the same compiled
program.

The per-channel bias is not part of the pass: in le_brian's schedules the bias is
integrated with the membrane, after the forward sum, and must keep its old value
until then; its gradient (the sum of the error over positions) costs one read of the
error per position.

On the runtime targets (numpy, cython) there is no such code object: use the plain
path (kernel group + `brian2.Synapses` over ``ConvGeometry.pairs()``);
`conv_fast_available` tells which applies.
"""

import functools

from brian2 import second
from brian2.codegen.generators.cpp_generator import CPPCodeGenerator
from brian2.core.variables import ArrayVariable, Variables
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from brian2.groups.group import CodeRunner
from brian2.units.fundamentalunits import DIMENSIONLESS

from .codegen import derived_code_object_class, standalone_kind
from .conv_geometry import ConvGeometry

__all__ = ["ConvProjection", "conv_code_object_class", "conv_fast_available",
           "CONV_CHUNKS"]

#: Most chunks of output channels that the pass is cut into (threads take chunks;
#: each chunk with a feedback sum keeps a partial copy of the layer below's I_fb).
#: The number depends on O only, so the results do not depend on the thread count.
CONV_CHUNKS = 8

#: Forward sums kept in registers at a time by the C++ loops (where an output row is
#: not exactly one 64-byte vector at stride 1, which has a loop of its own): a whole
#: output plane where it has at most this many positions, else one output row
#: (measured in a C++ harness by CPU time, Intel Xeon with AVX-512, float64: an 8x8
#: plane at once 4,250 evaluation steps/s of LeNet-5's conv2 against 2,220 row by row;
#: conv1's 24-wide rows one at a time 63,000 against 35,000 eight at a time). The
#: scalar gradient loop (strides > 1, rows not a whole number of vectors) takes
#: ``CONV_REGISTER_VALUES // (2 W')`` kernel columns at a time.
CONV_REGISTER_VALUES = 64

#: Whether cuda_standalone uses the CUDA template (else the plain path).
CONV_CUDA = True

#: cpp_standalone code object class of the convolution template.
ConvCPPStandaloneCodeObject = derived_code_object_class(
    "ConvCPPStandaloneCodeObject", CPPStandaloneCodeObject, CPPCodeGenerator,
    "templates/conv_cpp")


@functools.cache
def _cuda_code_object_class():
    """cuda_standalone code object class of the convolution template."""
    from brian2cuda.codeobject import CUDAStandaloneCodeObject
    from brian2cuda.cuda_generator import CUDACodeGenerator

    return derived_code_object_class("ConvCUDAStandaloneCodeObject",
                                     CUDAStandaloneCodeObject, CUDACodeGenerator,
                                     "templates/conv_cuda")


def conv_code_object_class(device=None):
    """The convolution code object class for ``device`` (default: the active
    device), or None where there is none (runtime targets: use plain Synapses)."""
    kind = standalone_kind(device)
    if kind == "cpp":
        return ConvCPPStandaloneCodeObject
    if kind == "cuda" and CONV_CUDA:
        return _cuda_code_object_class()
    return None


def conv_fast_available(device=None):
    """Whether `ConvProjection` runs on ``device`` (default: the active device):
    True on cpp_standalone and cuda_standalone."""
    return conv_code_object_class(device) is not None


def _start(group):
    return int(getattr(group, "start", 0))


def _array(group, name, what, size=None):
    """The non-shared array variable ``name`` of ``group`` (ValueError otherwise)."""
    var = group.variables.get(name) if name in group.variables else None
    if not isinstance(var, ArrayVariable) or var.scalar:
        raise ValueError(f"ConvProjection: {what} must name a per-neuron variable of "
                         f"group '{group.name}', got {name!r}")
    if size is not None and len(group) != size:
        raise ValueError(f"ConvProjection: group '{group.name}' ({what}) must have {size} "
                         f"neurons for this geometry, has {len(group)}")
    return var


def _dim(*variables):
    out = DIMENSIONLESS
    for v in variables:
        out = out * v.dim
    return out


class ConvProjection(CodeRunner):
    r"""One fused pass over the shared kernel of a convolutional projection
    (cpp_standalone; see the module docstring for what it computes).

    Add it to the `brian2.Network` with the three groups. It takes the place of the
    plain path's forward Synapses, feedback Synapses and kernel update, and runs all
    of them at its own ``when`` / ``order``: the caller asserts that the schedule
    allows that (nothing between that place and the separate operations' places
    writes the rate, the error or the kernel, or reads the sums or the kernel; in
    le_brian's sweep scheme that holds as for dense projections, docs/model.md §4.1).

    Parameters
    ----------
    kernel : NeuronGroup or Subgroup
        ``geometry.n_kernel`` neurons, one per kernel entry
        ``k = ((o*C + c)*kh + i)*kw + j``, holding ``weight`` (per neuron) and
        ``learning_rate`` (shared, e.g. ``eta : hertz (shared)``).
    below : NeuronGroup or Subgroup
        The layer below: ``C*H*W`` neurons (flat C order) with ``rate`` (and
        ``feedback``).
    layer : NeuronGroup or Subgroup
        The convolutional layer: ``O*H'*W'`` neurons with ``forward`` and ``error``.
    geometry : le_brian.engine.conv_geometry.ConvGeometry
    rate : str
        Rate variable of ``below`` (read by the forward sum and the gradient).
    forward : str or None
        Variable of ``layer`` that receives the forward sum (overwritten each step).
    feedback : str or None
        Variable of ``below`` that receives the feedback sum ``conv^T(e)``.
    error : str
        Error variable of ``layer`` (read by the feedback sum and the gradient).
    plasticity : bool
        Update the kernel: ``w += dt*eta*g`` with ``g`` the sum over positions.
    weight, learning_rate : str
        Names of the kernel group's variables.
    when, order : str, int
        Scheduling slot and order of the pass.
    name : str, optional
        Default: ``'<kernel name>_conv'``.

    Raises
    ------
    ValueError
        Before anything is built: on a device without the template (runtime targets:
        use plain Synapses), group sizes that do not match ``geometry``, missing or
        shared variables, mixed floating-point types, dimensions that do not fit
        (``forward`` = weight x rate, ``feedback`` = weight x error, weight =
        learning rate x time x error x rate), or nothing to do.

    Examples
    --------
    On cpp_standalone (``set_device('cpp_standalone')``), for a 1x4x4 input, two
    3x3 kernels (output 2x2x2)::

        geo = ConvGeometry((1, 4, 4), 2, 3)
        below = NeuronGroup(16, "r : 1\nI_fb : 1")
        layer = NeuronGroup(8, "I_ff : 1\neps : 1")
        kernel = NeuronGroup(geo.n_kernel, "w : 1\neta : hertz (shared)")
        conv = ConvProjection(kernel, below, layer, geo, feedback="I_fb")
        net = Network(below, layer, kernel, conv)
    """

    def __init__(self, kernel, below, layer, geometry, rate="r", forward="I_ff",
                 feedback=None, error="eps", plasticity=True, weight="w",
                 learning_rate="eta", when="start", order=0, name=None):
        if not isinstance(geometry, ConvGeometry):
            raise ValueError(f"ConvProjection: geometry must be a ConvGeometry, got "
                             f"{type(geometry).__name__}")
        if not conv_fast_available():
            raise ValueError("ConvProjection runs on cpp_standalone and cuda_standalone only (the active device "
                             "is a runtime device): use the plain path (kernel group + "
                             "Synapses over ConvGeometry.pairs())")
        C, H, W = geometry.in_shape
        O, HO, WO = geometry.out_shape
        plasticity = bool(plasticity)
        if forward is None and feedback is None and not plasticity:
            raise ValueError("ConvProjection: nothing to do (forward=None, feedback=None, "
                             "plasticity=False)")
        w = _array(kernel, weight, "weight", geometry.n_kernel)
        variables = {"_conv_w": w, "_conv_rate": _array(below, rate, "rate", C * H * W)}
        refs = {"_conv_w": (kernel, weight), "_conv_rate": (below, rate)}
        if forward is not None:
            variables["_conv_ff"] = _array(layer, forward, "forward", O * HO * WO)
            refs["_conv_ff"] = (layer, forward)
        if feedback is not None:
            variables["_conv_fb"] = _array(below, feedback, "feedback", C * H * W)
            refs["_conv_fb"] = (below, feedback)
        if feedback is not None or plasticity:
            variables["_conv_error"] = _array(layer, error, "error", O * HO * WO)
            refs["_conv_error"] = (layer, error)
        if plasticity:
            eta = kernel.variables.get(learning_rate) \
                if learning_rate in kernel.variables else None
            if not isinstance(eta, ArrayVariable) or not eta.scalar:
                raise ValueError(f"ConvProjection: learning_rate must name a shared "
                                 f"variable of group '{kernel.name}' (e.g. 'eta : hertz "
                                 f"(shared)'), got {learning_rate!r}")
            variables["_conv_eta"] = eta
            refs["_conv_eta"] = (kernel, learning_rate)
        names = {id(v) for v in variables.values()}
        if len(names) != len(variables):
            raise ValueError("ConvProjection: rate, forward, feedback, error and weight must "
                             "be different variables")
        dtypes = {v.dtype for v in variables.values()}
        if len(dtypes) != 1:
            raise ValueError(f"ConvProjection: every variable must have the same "
                             f"floating-point type, got {sorted(map(str, dtypes))}")
        v = variables
        checks = [("forward", "_conv_ff", _dim(w, v["_conv_rate"])),
                  ("feedback", "_conv_fb", _dim(w, v.get("_conv_error", w)))]
        if plasticity:
            checks.append(("weight", "_conv_w", _dim(v["_conv_eta"], v["_conv_error"],
                                                     v["_conv_rate"]) * second.dim))
        for what, key, expected in checks:
            if key in v and v[key].dim != expected:
                raise ValueError(f"ConvProjection: the {what} variable has dimensions "
                                 f"{v[key].dim!r}, expected {expected!r}")
        self.geometry = geometry
        # Brian2 holds weak references to groups; subgroups made for this call live here
        self.groups = (kernel, below, layer)
        chunk_o = -(-O // CONV_CHUNKS)  # output channels per chunk
        conv = {"C": C, "H": H, "W": W, "O": O, "HO": HO, "WO": WO,
                "KH": geometry.kernel[0], "KW": geometry.kernel[1],
                "SH": geometry.stride[0], "SW": geometry.stride[1],
                "PH": geometry.padding[0], "PW": geometry.padding[1],
                "chunks": -(-O // chunk_o), "chunk_o": chunk_o,
                "RB": HO if HO * WO <= CONV_REGISTER_VALUES else 1,
                "JB": max(1, min(geometry.kernel[1], CONV_REGISTER_VALUES // (2 * WO))),
                "forward": forward is not None,
                "feedback": feedback is not None, "plasticity": plasticity,
                "error": "_conv_error" in variables,
                "rate_start": _start(below), "fb_start": _start(below),
                "ff_start": _start(layer), "error_start": _start(layer),
                "w_start": _start(kernel)}
        #: the code's constants (part of the network's fingerprint)
        self.conv_signature = repr(sorted(conv.items()))
        CodeRunner.__init__(
            self, group=kernel, template="conv_fused", code="",
            needed_variables=sorted(variables) + ["dt"], clock=kernel.clock,
            when=when, order=order, name=name or f"{kernel.name}_conv",
            check_units=False, template_kwds={"conv": conv})
        #: the arrays the template reads and writes, under fixed names (``_conv_*``)
        self.variables = Variables(self)
        for key, (group, varname) in refs.items():
            self.variables.add_reference(key, group, varname)

    def before_run(self, run_namespace):
        """Brian2 hook: the code object class of the active device."""
        codeobj_class = conv_code_object_class()
        if codeobj_class is None:
            raise ValueError(f"ConvProjection '{self.name}' runs on cpp_standalone and cuda_standalone only: "
                             "use the plain path on runtime devices")
        self.codeobj_class = codeobj_class
        super().before_run(run_namespace)
