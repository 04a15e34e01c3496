r"""Dense all-to-all projections: a fast path through Brian2's code generation.

`DenseSynapses` is a `brian2.Synapses` for plastic all-to-all projections. It takes
the same equation strings; on ``cpp_standalone`` and ``cuda_standalone`` its state
updater and its summed-variable updaters are generated from the package's own code
templates (``le_brian/templates/dense_*``), in which the synapse index comes from loop
counters instead of Brian2's index arrays:

.. math:: k = i\,N_\mathrm{post} + j \qquad (i = 0..N_\mathrm{pre}-1,\ j = 0..N_\mathrm{post}-1),

the pre-major layout that a plain ``connect()`` creates. The loops run pre-major
("axpy" over contiguous postsynaptic neurons), which lets the compiler vectorise them:

* state update (``dw/dt = eta*eps_post*r_pre``): ``for i: for j: w[k] += ...``;
* summed onto the target group (``I_ff_post = w*r_pre``): zero, then
  ``for i: for j: I[j] += w[k] r[i]``;
* summed onto the source group (``I_fb_pre = w*eps_post``): one dot product per
  presynaptic neuron.

Every sum adds its terms in synapse order, as Brian2's own template does, so results
agree with plain `Synapses` to rounding (measured: <= 1e-15, see tests/test_dense.py).
On CUDA the state update runs one thread per synapse, the sum onto the target group one
thread per target neuron (no atomics) and the sum onto the source group one warp per
presynaptic neuron (a warp-shuffle reduction). The runtime targets (numpy, cython) use
Brian2's own templates: a dense loop gains nothing there.

What the fast path relies on (checked by tests/test_dense.py, which fails loudly if a
Brian2 upgrade changes it; Brian2 is pinned in setup.cfg):

* `brian2.codegen.templates.Templater.derive` puts a package's templates in front of
  Brian2's; ``CodeRunner.codeobj_class`` selects the code object class per runner;
* the C++ / CUDA generators read index variables in ``translate_to_read_arrays``;
* ``connect()`` with no arguments creates synapses in pre-major order
  (``_synaptic_pre = repeat(arange(N_pre))``, ``_synaptic_post = tile(arange(N_post))``,
  offset by subgroup starts).

Only a single plain ``connect()`` is accepted (anything else raises at once), and the
generated code checks the layout once, at its first call. ``on_pre`` / ``on_post``
pathways and equations that use ``i`` / ``j`` still work, through index arrays.
"""

import functools

import numpy as np
from brian2 import Synapses
from brian2.codegen.generators.cpp_generator import CPPCodeGenerator
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from brian2.devices.device import get_device

__all__ = ["DenseSynapses", "check_all_to_all", "dense_code_object_class",
           "DENSE_INDEX_VARIABLES"]

#: Index variables that the dense templates compute from loop counters.
DENSE_INDEX_VARIABLES = ("_presynaptic_idx", "_postsynaptic_idx")


def _start(group):
    return int(getattr(group, "start", 0))


class _DenseIndexMixin:
    """Code generator mixin: the synapse's pre/post neuron indices from the template's
    loop counters ``_dense_pre`` / ``_dense_post`` (plus subgroup offsets), every
    other variable as Brian2 reads it."""

    def translate_to_read_arrays(self, read, write, indices):
        owner = self.owner
        computed = {
            "_presynaptic_idx": f"_dense_pre + {_start(owner.source)}",
            "_postsynaptic_idx": f"_dense_post + {_start(owner.target)}",
        }
        lines = [f"const int32_t {name} = {computed[name]};"
                 for name in sorted(indices) if name in computed]
        rest = {name for name in indices if name not in computed}
        return lines + super().translate_to_read_arrays(read, write, rest)


def _dense_code_object_class(name, codeobj_base, generator_base, templates_dir):
    """A code object class: ``codeobj_base`` with le_brian's dense templates in front of
    its own and a generator that adds `_DenseIndexMixin` to ``generator_base``."""
    generator = type(f"Dense{generator_base.__name__}", (_DenseIndexMixin, generator_base),
                     {"__doc__": f"{generator_base.__name__} for le_brian's dense templates."})
    return type(name, (codeobj_base,), {
        "__doc__": f"{codeobj_base.__name__} with le_brian's dense templates ({templates_dir}).",
        "templater": codeobj_base.templater.derive("le_brian", templates_dir=templates_dir),
        "generator_class": generator,
        # function implementations registered for the base generator apply here too
        "original_generator_class": generator_base,
    })


#: cpp_standalone code object class of the dense templates.
DenseCPPStandaloneCodeObject = _dense_code_object_class(
    "DenseCPPStandaloneCodeObject", CPPStandaloneCodeObject, CPPCodeGenerator,
    "templates/dense_cpp")

@functools.cache
def _cuda_code_object_class():
    """cuda_standalone code object class of the dense templates (brian2cuda is imported
    on first use only)."""
    from brian2cuda.codeobject import CUDAStandaloneCodeObject
    from brian2cuda.cuda_generator import CUDACodeGenerator

    return _dense_code_object_class("DenseCUDAStandaloneCodeObject", CUDAStandaloneCodeObject,
                                    CUDACodeGenerator, "templates/dense_cuda")


def check_all_to_all(synapses, what=None):
    """Raise RuntimeError unless ``synapses`` (any `Synapses`) hold the pre-major
    all-to-all layout of a plain ``connect()``: synapse ``k = i*N_post + j``. The weight
    arrays of `LENetwork` and `Microcircuit` and the dense templates rely on it. Needs
    the synapses to exist (runtime mode, or after a standalone run)."""
    n_pre, n_post = len(synapses.source), len(synapses.target)
    i, j = np.asarray(synapses.i[:]), np.asarray(synapses.j[:])
    if not (len(i) == n_pre * n_post
            and np.array_equal(i, np.repeat(np.arange(n_pre), n_post))
            and np.array_equal(j, np.tile(np.arange(n_post), n_pre))):
        raise RuntimeError(
            f"{what or synapses.name}: {len(i)} synapses not in the pre-major all-to-all "
            f"layout of connect() (expected {n_pre}*{n_post}, synapse k = i*N_post + j); a "
            "Brian2 upgrade may have changed connect() ordering")


def dense_code_object_class(device=None):
    """The dense code object class for ``device`` (default: the active device), or
    None where Brian2's own templates are used (runtime targets)."""
    device = get_device() if device is None else device
    name = type(device).__name__
    if name == "CUDAStandaloneDevice":
        return _cuda_code_object_class()
    if name == "CPPStandaloneDevice":
        return DenseCPPStandaloneCodeObject
    return None


class DenseSynapses(Synapses):
    r"""All-to-all `Synapses` whose state and summed-variable updates run through
    dense code templates on the standalone devices.

    Takes the arguments of `brian2.Synapses`. Connect it with a single plain
    ``connect()`` (all-to-all, the only connectivity it supports); the synapse of
    presynaptic neuron ``i`` and postsynaptic neuron ``j`` is ``k = i*N_post + j``.

    Parameters
    ----------
    source, target : NeuronGroup or Subgroup
    model : str or Equations
        Synaptic equations; summed variables must target ``source`` or ``target``.
    dense : bool
        False: Brian2's own templates everywhere (this class then behaves exactly like
        `Synapses`; used to compare the two paths).
    **kwds
        Passed to `brian2.Synapses`.

    Raises
    ------
    ValueError
        On ``connect`` with a condition, ``i``/``j`` arrays, ``p < 1`` or ``n != 1``,
        or a second ``connect``.

    Notes
    -----
    See the module docstring for the loops and what they rely on.

    Examples
    --------
    >>> from brian2 import NeuronGroup
    >>> pre = NeuronGroup(3, 'r : 1')
    >>> post = NeuronGroup(2, 'I : 1')
    >>> S = DenseSynapses(pre, post, 'w : 1\nI_post = w*r_pre : 1 (summed)')
    >>> S.connect()
    """

    def __init__(self, source, target, model=None, *args, dense=True, **kwds):
        self.dense = bool(dense)
        self._dense_connected = False
        super().__init__(source, target, model, *args, **kwds)

    def connect(self, condition=None, i=None, j=None, p=1.0, n=1, skip_if_invalid=False,
                namespace=None, level=0):
        """All-to-all connection (no arguments). Anything else raises ValueError:
        use `brian2.Synapses` for sparse connectivity."""
        plain = (condition is None or condition is True) and i is None and j is None
        if not plain or p != 1 or n != 1:
            raise ValueError(
                f"DenseSynapses '{self.name}': only a plain all-to-all connect() is "
                f"supported (got condition={condition!r}, i={'...' if i is not None else None},"
                f" j={'...' if j is not None else None}, p={p!r}, n={n!r}); use "
                "brian2.Synapses for other connectivity")
        if self._dense_connected:
            raise ValueError(f"DenseSynapses '{self.name}': connect() may be called once")
        self._dense_connected = True
        super().connect(skip_if_invalid=skip_if_invalid, namespace=namespace, level=level + 1)

    def check_layout(self):
        """`check_all_to_all` on this group (needs the synapses to exist: runtime mode,
        or after a standalone run)."""
        check_all_to_all(self)

    def _dense_runners(self):
        """The state updater, the summed-variable updaters and ``run_regularly``
        operations of this group (template ``stateupdate``): the code objects that
        get the dense templates."""
        runners = [self.state_updater] + list(self.summed_updaters.values())
        runners += [obj for obj in self.contained_objects
                    if getattr(obj, "template", None) == "stateupdate" and obj not in runners]
        return [r for r in runners if r is not None]

    def before_run(self, run_namespace):
        # Runs before the updaters' own before_run (slot 'start' precedes 'groups'),
        # so the code objects they create use the class chosen here.
        if not self._dense_connected:
            raise RuntimeError(f"DenseSynapses '{self.name}': call connect() before running")
        dense_class = dense_code_object_class()
        if dense_class is None:
            self.check_layout()  # runtime: synapses exist now (standalone: checked in code)
        codeobj_class = dense_class if self.dense else None
        for runner in self._dense_runners():
            if codeobj_class is not None and hasattr(runner, "target_var"):
                index = runner.template_kwds["_index_var"].name
                if index not in ("_synaptic_pre", "_synaptic_post"):
                    raise ValueError(f"DenseSynapses '{self.name}': summed variable "
                                     f"{runner.target_varname!r} must target the source "
                                     "or the target group")
            runner.codeobj_class = codeobj_class
            runner.template_kwds = dict(runner.template_kwds or {},
                                        dense_pre_start=_start(self.source),
                                        dense_post_start=_start(self.target),
                                        dense_n_pre=len(self.source),
                                        dense_n_post=len(self.target))
        super().before_run(run_namespace)
