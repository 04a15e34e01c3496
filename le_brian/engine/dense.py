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

`DenseSynapses.fuse` goes one step further where the caller's schedule allows it: one
code object (`FusedDenseUpdater`, template ``dense_fused``) computes both sums and the
state update in a single pass that reads and writes every weight once, instead of
three passes (docs/model.md §4.1). On cpp_standalone it runs under OpenMP threads too
(chunks of presynaptic rows, the same bits for any number of threads), and on both
standalone devices a run in which the group's learning rate is 0 takes its evaluation
branch: the sums only, every weight read once and none written, in the same compiled
program.

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
from brian2 import Quantity, Synapses
from brian2.codegen.generators.cpp_generator import CPPCodeGenerator
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from brian2.groups.group import CodeRunner
from brian2.parsing.expressions import parse_expression_dimensions
from brian2.units.fundamentalunits import fail_for_dimension_mismatch

from .codegen import derived_code_object_class, standalone_kind

__all__ = ["DenseSynapses", "FusedDenseUpdater", "check_all_to_all",
           "dense_code_object_class", "learning_rate_of", "DENSE_INDEX_VARIABLES"]

#: Presynaptic rows per block of the fused C++ loop (`FusedDenseUpdater`): each
#: postsynaptic forward sum stays in a register across them. Measured on the
#: 784x300 input projection of 784-300-100-10 alone (float64, AMD EPYC, one thread,
#: neuron values hoisted, time as a fraction of a read+write probe of the same size in
#: the same process): 1 row 0.50, 2 0.61, 4 0.68, 8 0.75, 12 0.75, 16 0.63 (registers
#: run out). Before the postsynaptic values were hoisted, 4-8 rows lay within noise.
DENSE_ROWS = 8

#: Cache lines (64 bytes) at the start of each row of the next block that the fused
#: C++ loop prefetches halfway through a block (0: none). Same measurement: 0 lines
#: 0.75-0.76, 1 0.80, 2 0.80-0.83, 3 0.82-0.84, 4 0.79; a whole block ahead 0.6 (the
#: miss queue overflows).
DENSE_PREFETCH_LINES = 3

#: Most chunks of presynaptic rows that the fused C++ loop is cut into under OpenMP
#: threads (``threads > 0``); the chunks (whole blocks of `DENSE_ROWS` rows) depend on
#: N_pre only, so a run gives the same bits for any number of threads. More chunks
#: than threads let the static schedule balance them; each chunk keeps a partial
#: forward sum (N_post values).
DENSE_CHUNKS = 16

#: Index variables that the dense templates compute from loop counters.
DENSE_INDEX_VARIABLES = ("_presynaptic_idx", "_postsynaptic_idx")


def _start(group):
    return int(getattr(group, "start", 0))


class _DenseIndexMixin:
    """Code generator mixin: the synapse's pre/post neuron indices from the template's
    loop counters ``_dense_pre`` / ``_dense_post`` (plus subgroup offsets), every
    other variable as Brian2 reads it.

    With ``hoist_neuron_values`` (the C++ class) the fused template's vector code
    reads the neuron variables it only reads from locals ``_dense_hoisted_<name>``:
    presynaptic ones (e.g. ``r_pre``) loaded once per presynaptic row, before the loop
    over postsynaptic neurons, postsynaptic ones (e.g. ``eps_post``) once per
    postsynaptic neuron, before the block's rows. The compiler cannot prove that the
    weight stores leave the neuron arrays alone and would otherwise reload (and
    re-broadcast) them for every row and every vector of weights. Nothing in the loop
    writes them (the sums are stored in the template's own accumulators and written
    after their rows / columns), so the values are the same."""

    hoist_neuron_values = False

    def translate_to_read_arrays(self, read, write, indices):
        owner = self.owner
        computed = {
            "_presynaptic_idx": f"_dense_pre + {_start(owner.source)}",
            "_postsynaptic_idx": f"_dense_post + {_start(owner.target)}",
        }
        lines = [f"const int32_t {name} = {computed[name]};"
                 for name in sorted(indices) if name in computed]
        rest = {name for name in indices if name not in computed}
        hoisted = set()
        if self.hoist_neuron_values and self.template_name == "dense_fused":
            hoisted = {name for name in read if name not in write
                       and self.variable_indices[name] in DENSE_INDEX_VARIABLES}
        lines += [f"const {self.c_data_type(self.variables[name].dtype)} {name} = "
                  f"_dense_hoisted_{name};" for name in sorted(hoisted)]
        return lines + super().translate_to_read_arrays(set(read) - hoisted, write, rest)


#: cpp_standalone code object class of the dense templates.
DenseCPPStandaloneCodeObject = derived_code_object_class(
    "DenseCPPStandaloneCodeObject", CPPStandaloneCodeObject, CPPCodeGenerator,
    "templates/dense_cpp", _DenseIndexMixin, hoist_neuron_values=True)

@functools.cache
def _cuda_code_object_class():
    """cuda_standalone code object class of the dense templates (brian2cuda is imported
    on first use only)."""
    from brian2cuda.codeobject import CUDAStandaloneCodeObject
    from brian2cuda.cuda_generator import CUDACodeGenerator

    return derived_code_object_class("DenseCUDAStandaloneCodeObject", CUDAStandaloneCodeObject,
                                     CUDACodeGenerator, "templates/dense_cuda", _DenseIndexMixin)


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
    kind = standalone_kind(device)
    if kind == "cuda":
        return _cuda_code_object_class()
    if kind == "cpp":
        return DenseCPPStandaloneCodeObject
    return None


class FusedDenseUpdater(CodeRunner):
    r"""One pass over the weights of an all-to-all projection that does the work of up
    to three code objects: the sum onto the target group (``forward``), the sum onto
    the source group (``feedback``) and the state update (``plasticity``: the group's
    differential equations, e.g. ``dw/dt = eta*eps_post*r_pre``).

    For every presynaptic neuron ``i`` and postsynaptic neuron ``j`` (synapse
    ``k = i*N_post + j``, pre-major) the loop reads ``w[k]`` once and

    .. math::

        I^\mathrm{ff}_j \mathrel{+}= f(w_k), \qquad
        I^\mathrm{fb}_i = \sum_j g(w_k), \qquad
        w_k \leftarrow w_k + dt\, \dot w_k,

    where ``f`` and ``g`` are the summed expressions, both evaluated with the weight
    *before* the update (the statements run in that order, on the value loaded once).
    The terms of both sums are added in synapse order, as in the separate dense
    templates; ``-ffast-math`` lets the compiler vectorise the presynaptic dot product
    in either path, so the two paths agree to rounding (tests/test_dense.py states the
    measured difference).

    Running the three at the forward sum's place in the schedule is only correct when
    nothing between that place and the places of the separate updaters writes what
    they read (the weights, the presynaptic rate, the postsynaptic error) or reads what
    they write (the two sums, the weights). That is a property of the schedule, so the
    network that builds the schedule decides (`DenseSynapses.fuse`); docs/model.md §4.1
    states where le_brian's schedules allow it.

    Created by `DenseSynapses.fuse`; not meant to be constructed directly.
    """

    def __init__(self, synapses, forward, feedback=None, plasticity=False, rate=None):
        self.forward, self.feedback, self.plasticity = forward, feedback, bool(plasticity)
        self.rate = rate if self.plasticity else None
        sums = [forward] + ([feedback] if feedback is not None else [])
        template_kwds = {
            "_ff_var": forward.target_var, "_ff_start": forward.template_kwds["_target_start"],
            "_fb_var": None if feedback is None else feedback.target_var,
            "_fb_start": 0 if feedback is None else feedback.template_kwds["_target_start"],
            "_dense_rate": self.rate, "dense_rows": DENSE_ROWS,
            "dense_prefetch_lines": DENSE_PREFETCH_LINES, "dense_chunks": DENSE_CHUNKS,
        }
        needed = [s.target_varname for s in sums] + ([self.rate] if self.rate else [])
        CodeRunner.__init__(
            self, group=synapses, template="dense_fused", code="",
            needed_variables=needed, clock=forward.clock,
            when=forward.when, order=forward.order, name=f"{synapses.name}_fused",
            check_units=False, template_kwds=template_kwds)

    def update_abstract_code(self, run_namespace):
        """Brian2 hook: the abstract code of the summed forward (and feedback) sums."""
        lines = [f"_synaptic_ff = {self.forward.expression}"]
        if self.feedback is not None:
            lines.append(f"_synaptic_fb = {self.feedback.expression}")
        for summed in filter(None, (self.forward, self.feedback)):
            # the dimension check of SummedVariableUpdater.before_run
            variables = self.group.resolve_all(summed.expression.identifiers, run_namespace)
            rhs = parse_expression_dimensions(summed.expression.code, variables)
            fail_for_dimension_mismatch(
                summed.target_var, Quantity(1, dim=rhs),
                f"The target variable '{summed.target_varname}' does not have the same "
                f"dimensions as the right-hand side expression '{summed.expression}'.")
        sums = "\n".join(lines)
        if self.plasticity:  # after the sums: they read the weights before the update
            updater = self.group.state_updater
            updater.update_abstract_code(run_namespace)
            lines.append(updater.abstract_code)
        # the templates' blocks (C++ and CUDA): 'update' always, 'eval' (the sums
        # only) where a learning rate selects the branch at run time
        self.abstract_code = {"update": "\n".join(lines)}
        if self.rate is not None:
            self.abstract_code["eval"] = sums


def learning_rate_of(synapses):
    r"""The learning rate of ``synapses``: a shared parameter (e.g. ``eta``) that is a
    factor of every differential equation's right-hand side, so that the state update
    leaves every variable unchanged (``x + dt*0``) in a run in which it is 0; None
    where there is none (no differential equations, no such parameter, or more than
    one candidate).

    Parameters
    ----------
    synapses : brian2.Synapses

    Returns
    -------
    str or None

    Examples
    --------
    >>> from brian2 import NeuronGroup
    >>> S = DenseSynapses(NeuronGroup(2, 'r : 1'), NeuronGroup(2, 'eps : 1'),
    ...                   'eta : hertz (shared)\ndw/dt = eta*eps_post*r_pre : 1 (clock-driven)')
    >>> learning_rate_of(S)
    'eta'
    """
    import sympy
    from brian2.equations.equations import DIFFERENTIAL_EQUATION, PARAMETER
    from brian2.parsing.sympytools import str_to_sympy

    eqs = synapses.equations
    diff = [eq for eq in eqs.values() if eq.type == DIFFERENTIAL_EQUATION]
    if not diff:
        return None
    shared = sorted(eq.varname for eq in eqs.values()
                    if eq.type == PARAMETER and "shared" in eq.flags
                    and "constant" not in eq.flags)
    candidates = []
    for name in shared:
        def vanishes(expr):
            expr = str_to_sympy(expr)
            return sympy.simplify(expr.subs({s: 0 for s in expr.free_symbols
                                             if s.name == name})) == 0
        if all(vanishes(eq.expr.code) for eq in diff):
            candidates.append(name)
    return candidates[0] if len(candidates) == 1 else None


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
        self.fused_updater = None
        super().__init__(source, target, model, *args, **kwds)

    def fuse(self, forward, feedback=None, plasticity=False, learning_rate="auto"):
        """Run the summed variable ``forward`` (onto the target group), optionally the
        summed variable ``feedback`` (onto the source group) and the state update
        (``plasticity``) as one `FusedDenseUpdater` at ``forward``'s slot and order.

        The caller asserts that its schedule allows it (see `FusedDenseUpdater`); call
        after the updaters' ``when`` / ``order`` are set. The separate updaters are then
        deactivated (they generate no code). Fusion applies on cpp_standalone (with
        OpenMP threads too: chunks of presynaptic rows per thread, see the template
        ``dense_fused.cpp``) and on cuda_standalone; elsewhere (runtime targets,
        ``dense=False``) nothing changes.

        On cpp_standalone and cuda_standalone, a fused pass with plasticity and a
        learning rate has two branches in one compiled program: a run in which the
        rate is 0 (``learn=False``) takes the evaluation branch, which computes the sums
        only (each weight read once, none written); other runs take the update branch. Both add the same
        terms in the same order, so the sums agree to rounding (the same bits where
        the compiler vectorises both branches alike; see docs/model.md §4.1); the
        weights are the same bits (``w + dt*0*...`` is ``w`` for finite values).

        Parameters
        ----------
        forward : str
            Name of a summed variable onto the target group, e.g. ``'I_ff_post'``.
        feedback : str or None
            Name of a summed variable onto the source group, e.g. ``'I_fb_pre'``.
        plasticity : bool
            Include the group's state update.
        learning_rate : str, None or 'auto'
            Shared parameter whose value 0 in a run selects the evaluation branch;
            it must be a factor of every differential equation.
            'auto': `learning_rate_of` (None if there is none); None: no evaluation
            branch.

        Returns
        -------
        bool
            Whether the updaters were fused.

        Raises
        ------
        ValueError
            On unknown summed variables, sums onto the wrong group, plasticity without
            differential equations, a ``learning_rate`` that is not a factor of every
            differential equation, or a second call.
        """
        if self.fused_updater is not None:
            raise ValueError(f"DenseSynapses '{self.name}': fuse() may be called once")
        parts = {}
        for role, name, index in (("forward", forward, "_synaptic_post"),
                                  ("feedback", feedback, "_synaptic_pre")):
            if name is None:
                continue
            updater = self.summed_updaters.get(name)
            if updater is None:
                raise ValueError(f"DenseSynapses '{self.name}': {role}={name!r} is not a "
                                 f"summed variable of this group ({sorted(self.summed_updaters)})")
            if updater.template_kwds["_index_var"].name != index:
                onto = "target" if index == "_synaptic_post" else "source"
                raise ValueError(f"DenseSynapses '{self.name}': {role}={name!r} must be "
                                 f"summed onto the {onto} group")
            parts[role] = updater
        if "forward" not in parts:
            raise ValueError(f"DenseSynapses '{self.name}': fuse() needs forward")
        if plasticity and self.state_updater is None:
            raise ValueError(f"DenseSynapses '{self.name}': plasticity=True but the group "
                             "has no differential equations")
        rate = learning_rate_of(self) if plasticity else None
        if learning_rate != "auto" and plasticity and learning_rate is not None \
                and learning_rate != rate:
            raise ValueError(f"DenseSynapses '{self.name}': learning_rate={learning_rate!r} "
                             "must be a shared parameter that is a factor of every "
                             f"differential equation of the group (found: {rate!r})")
        if learning_rate is None:
            rate = None
        if "feedback" not in parts and not plasticity:
            return False  # nothing to fuse with
        if not self.dense or dense_code_object_class() is None:
            return False
        self.fused_updater = FusedDenseUpdater(self, parts["forward"], parts.get("feedback"),
                                               plasticity, rate)
        for updater in parts.values():
            updater.active = False
        if plasticity:
            self.state_updater.active = False
        self.contained_objects.append(self.fused_updater)
        return True

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
        """The state updater, the fused updater, the summed-variable updaters and
        ``run_regularly`` operations of this group (template ``stateupdate``): the code
        objects that get the dense templates."""
        runners = [self.state_updater, self.fused_updater] + list(self.summed_updaters.values())
        runners += [obj for obj in self.contained_objects
                    if getattr(obj, "template", None) == "stateupdate" and obj not in runners]
        return [r for r in runners if r is not None]

    def before_run(self, run_namespace):
        """Brian2 hook: choose the dense code object class before the updaters build."""
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
