"""The spiking view shared by both network classes (docs/model.md §5).

`SpikingSpec` holds and checks the spiking parameters of a network; `add_spiking`
attaches to a rate unit group the Brian2 objects of its spiking view: a spike group of
``n_per_unit`` neurons per unit (threshold ``le_uniform(...) < r_max*rate*dt``), the
sum of every unit's spikes of the step onto the unit, and the trace update
(``spike_draw='counts'``: each unit's count drawn at once, no spike group). The rate
network's projections then read ``x_pre`` instead of ``r_pre``. Values (``r_max``,
``tau_s``, the seed of the run) are state set per run: one compiled program serves all.
"""

import hashlib
import warnings
from dataclasses import dataclass

import numpy as np
from brian2 import NeuronGroup, SpikeMonitor, Synapses, linked_var

from .. import equations as eq
from ..equations import spiking as sq
from ..params.groups import SPIKE_DRAWS, MicrocircuitSpiking, Spiking
from .validation import as_rate, as_time

__all__ = ["SpikingSpec", "SpikeSaturationWarning", "add_spiking", "spike_seed",
           "DEFAULT_R_MAX", "DEFAULT_R_MAX_MICROCIRCUIT", "DEFAULT_TAU_S", "SPIKE_STRIDE",
           "SPIKING_OPS", "counts_to_neurons", "check_ref_counts",
           "document_spiking_parameters"]

#: Operations of one population's spiking step (see `add_spiking`).
SPIKING_OPS = 5
#: In spiking mode every per-layer order of a slot is multiplied by this, so that a
#: layer's spiking operations fit between its own operation and the next layer's.
SPIKE_STRIDE = SPIKING_OPS + 1

#: Default rate of a neuron at phi = 1: the most a Brian2 neuron can fire at dt = 0.1 ms
#: (one spike per step), the order of the effective rates (1e4-1e5 /s) of the published
#: spiking microcircuit. ``n_per_unit * r_max`` is the budget that matters: 10 kHz with
#: one neuron per unit equals 100 neurons at a biological 100 Hz.
DEFAULT_R_MAX = Spiking.fields()["r_max"].default
#: The microcircuit's default: its soft_relu rates reach ~5 (bars task), and 2 kHz keeps
#: r_max * phi * dt <= 1 there at dt = 0.1 ms.
DEFAULT_R_MAX_MICROCIRCUIT = MicrocircuitSpiking.fields()["r_max"].default
#: Default trace time constant: the published spiking microcircuit's dendritic filter.
DEFAULT_TAU_S = Spiking.fields()["tau_s"].default


class SpikeSaturationWarning(RuntimeWarning):
    """r_max * phi * dt exceeded 1 in some steps: those neurons fired every step, so the
    trace's mean fell below phi there."""


@dataclass(frozen=True)
class SpikingSpec:
    """The spiking parameters of a network.

    Attributes
    ----------
    n_per_unit : int
        Brian2 neurons per rate unit (>= 1).
    r_max : float
        Rate of a neuron at phi = 1, in Hz.
    tau_s : float
        Trace time constant in seconds.
    populations : tuple
        The populations that spike.
    n_ref : int or None
        Absolute refractory period in steps (``t_ref / dt``); None: no refractoriness.
    draw : {'neurons', 'counts'}
        One draw per neuron and step, or one binomial count per unit and step
        (docs/model.md §5.5).
    prospective : bool
        Projections read the prospective trace ``xp = x + tau_s dx/dt`` (§5.2).
    max_rate : float or None
        Largest rate of a neuron in Hz (its rate is min(r_max phi, max_rate)); None: none.
    """

    n_per_unit: int
    r_max: float
    tau_s: float
    populations: tuple
    n_ref: int = None
    draw: str = "neurons"
    prospective: bool = False
    max_rate: float = None

    @property
    def cap(self):
        """Whether a neuron's rate is capped at ``max_rate``."""
        return self.max_rate is not None

    @property
    def counts(self):
        """Whether each unit's spike count is drawn at once (``draw == 'counts'``)."""
        return self.draw == "counts"

    @property
    def n_ring(self):
        """Dead-time counters of a counting unit (n_ref; 0 without them)."""
        return (self.n_ref or 0) if self.counts else 0

    @property
    def read_variable(self):
        """The unit variable projections read: ``'xp'`` or ``'x'``."""
        return "xp" if self.prospective else "x"

    @property
    def recordable(self):
        """The spiking variables a unit can record: x, s (and xp)."""
        return SPIKING_DYNAMIC + (("xp",) if self.prospective else ())

    def unit_equations(self):
        """The equations a spiking unit adds to its group (`le_brian.equations.spiking`)."""
        return sq.unit_trace(self.refractory, self.counts, self.n_ring, self.prospective,
                             self.cap)

    @property
    def refractory(self):
        """Whether the neurons have a refractory period (t_ref given, even 0)."""
        return self.n_ref is not None

    @classmethod
    def check(cls, n_per_unit, r_max, tau_s, activations, dt=None, t_ref=None,
              draw="neurons", prospective=False, max_rate=None):
        """A checked spec; ``activations`` maps every spiking population to its
        activation name; ``dt`` the network's time step in seconds (``tau_s`` must not be
        shorter: the trace's Euler decay ``x -= x dt / tau_s`` overshoots below zero
        then); ``t_ref`` (Quantity or None) the absolute refractory period: >= 0, below
        1/r_max (no dead-time process can fire at r_max otherwise) and a whole number
        of steps dt (the dead time is counted in steps). Raises ValueError / UnitError
        naming the parameter; ``draw`` one of `SPIKE_DRAWS`, ``prospective`` a bool,
        ``max_rate`` (Quantity or None) > 0 Hz."""
        if draw not in SPIKE_DRAWS:
            raise ValueError(f"spike_draw must be one of {list(SPIKE_DRAWS)}, got {draw!r}")
        if not isinstance(prospective, (bool, np.bool_)):
            raise TypeError(f"prospective_trace must be True or False, got {prospective!r}")
        if (isinstance(n_per_unit, (bool, np.bool_))
                or not isinstance(n_per_unit, (int, np.integer)) or n_per_unit < 1):
            raise ValueError(f"n_per_unit must be an int >= 1, got {n_per_unit!r}")
        rate = float(as_rate("r_max", r_max))
        if not rate > 0:
            raise ValueError(f"r_max must be > 0 Hz, got {r_max!r}")
        tau = float(as_time("tau_s", tau_s))
        if dt is not None and not tau >= dt:
            raise ValueError(f"tau_s = {tau * 1e3:g} ms is shorter than the time step dt = "
                             f"{dt * 1e3:g} ms: the spike trace's Euler decay would overshoot "
                             f"below zero; use tau_s >= dt")
        allowed = sorted(n for n, a in eq.ACTIVATIONS.items() if a.nonnegative)
        for pop, name in activations.items():
            if not eq.get_activation(name).nonnegative:
                raise ValueError(
                    f"spiking: population {pop!r} uses activation {name!r}, whose range "
                    f"includes negative values, which no firing rate can have; spiking "
                    f"layers need one of {allowed} (or keep that layer a rate read-out)")
        cap = None
        if max_rate is not None:
            cap = float(as_rate("max_rate", max_rate))
            if not cap > 0:
                raise ValueError(f"max_rate must be > 0 Hz (the largest rate of a neuron), "
                                 f"got {max_rate!r}")
        return cls(int(n_per_unit), rate, tau, tuple(activations),
                   check_refractory(t_ref, rate, dt), draw, bool(prospective), cap)


def check_refractory(t_ref, r_max, dt):
    """The refractory period ``t_ref`` (Quantity or None) in steps of ``dt`` (seconds),
    for neurons of rate ``r_max`` (Hz) at phi = 1; None for None."""
    if t_ref is None:
        return None
    t = float(as_time("t_ref", t_ref, allow_zero=True))
    if not t >= 0:
        raise ValueError(f"t_ref must be >= 0 ms (an absolute refractory period), got "
                         f"{t_ref!r}")
    if not t * r_max < 1:
        raise ValueError(f"t_ref = {t * 1e3:g} ms must be shorter than 1/r_max = "
                         f"{1e3 / r_max:g} ms (r_max = {r_max:g} Hz): a neuron with that "
                         f"dead time cannot fire at r_max; lower t_ref or r_max")
    if dt is None:
        raise ValueError("t_ref needs the network's time step dt")
    n_ref = int(round(t / dt))
    if abs(n_ref * dt - t) > 1e-9 * max(t, dt):
        raise ValueError(f"t_ref = {t * 1e3:g} ms is not a whole number of time steps dt = "
                         f"{dt * 1e3:g} ms (the dead time is counted in steps); use "
                         f"{n_ref * dt * 1e3:g} ms or {(n_ref + 1) * dt * 1e3:g} ms")
    return n_ref


_PARAMETERS_DOC = """\
spiking : bool
    The spiking view (docs/model.md §5): every unit of a spiking population becomes
    ``n_per_unit`` Brian2 neurons firing as inhomogeneous Poisson processes of rate
    ``r_max * phi``; projections read each unit's normalised spike trace x (mean phi,
    time constant ``tau_s``) where the rate model reads r. Needs non-negative
    activations (sigmoid, hard_sigmoid, relu, softplus, soft_relu).
n_per_unit : int
    Brian2 neurons per unit (default 1).
r_max : Quantity
    Rate of a neuron at phi = 1 (Hz; default {r_max}).
    ``n_per_unit * r_max`` is the spike budget of a unit; ``r_max * phi * dt > 1``
    saturates (one spike per neuron and step at most) and is reported as a
    ``SpikeSaturationWarning``.
tau_s : Quantity
    Time constant of the spike trace (default 1 ms).
t_ref : Quantity or None
    Absolute refractory period of every spiking neuron (default None: none): a neuron
    that fired is silent for t_ref (a whole number of steps dt, below 1/r_max), and
    fires otherwise at the compensated rate that keeps its mean rate r_max * phi
    (docs/model.md §5).
spike_draw : {'neurons', 'counts'}
    ``'neurons'`` (default): one Bernoulli draw per neuron and step; ``'counts'``: one
    binomial count per unit and step, the same statistics at a cost per spike (no Brian2
    object per neuron; recorded spikes get their neurons after the run; docs/model.md
    §5.5).
prospective_trace : bool
    Projections read ``x + tau_s dx/dt`` instead of the trace x (no synaptic lag, the
    noise of one step's spikes; default False; docs/model.md §5.2).
max_rate : Quantity or None
    Largest rate of a neuron (default None: none): it fires at min(r_max phi, max_rate),
    and its unit's trace then has the mean min(phi, max_rate / r_max) (docs/model.md §5.1).
spiking_output : bool
    {output}"""


def fill_docstring(cls, marker, text):
    """Replace ``{marker}`` in ``cls``'s docstring by ``text`` (numpydoc lines written
    without indentation), indented as the marker is: parameters both network classes
    document the same way are written once."""
    doc = cls.__doc__
    if doc is None:  # python -OO strips docstrings
        return cls
    at = doc.index("{" + marker + "}")
    indent = doc[doc.rfind("\n", 0, at) + 1:at]
    cls.__doc__ = doc.replace("{" + marker + "}", ("\n" + indent).join(text.splitlines()))
    return cls


DEVICE_DOC = """\
device : {'cpp_standalone', 'runtime', 'cuda_standalone'}
    Brian2 device; default ``'cpp_standalone'``: one C++ program per network
    structure, compiled once per machine (kept in the program cache across
    processes, `le_brian.engine.program_cache`) and rerun with new values, 10-100x
    faster per step than ``'runtime'``. ``'runtime'`` needs no compiler (numpy
    code generation) but is slow for long runs; ``'cuda_standalone'`` needs
    brian2cuda and a GPU. See docs/guide/devices.md."""


def document_spiking_parameters(cls, r_max, output):
    """Put the spiking parameters' documentation (and the device's) into ``cls``'s
    docstring at its ``{spiking_parameters}`` (``{device_parameter}``) marker."""
    fill_docstring(cls, "device_parameter", DEVICE_DOC)
    return fill_docstring(cls, "spiking_parameters",
                          _PARAMETERS_DOC.replace("{r_max}", r_max).replace("{output}", output))


def spike_seed(seed, run_index, population):
    """The int32 seed of one population's random numbers in one run: a hash of the
    network seed, the run's index and the population name (runs draw new spikes;
    the same network seed and history give the same spikes on every device)."""
    digest = hashlib.sha256(f"{seed}/{run_index}/{population}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def add_spiking(unit, name, spec, rate_var, slot, order, clock, record_spikes):
    """Create the spiking view of ``unit`` (a NeuronGroup whose equations include
    `le_brian.equations.spiking.UNIT_TRACE`).

    `SPIKING_OPS` operations run in ``slot`` at orders ``order`` to ``order + 4``: the
    spike group's marks cleared, its threshold (the draw), its reset (marking the
    neurons that fired), the sum of the marks onto their units (``count``), and the
    unit's trace update (decay + count / (n r_max tau_s)), spike train and saturation
    count. With ``spec.draw == 'counts'`` one operation at ``order`` draws every unit's
    count at once and updates its trace (docs/model.md §5.5; no spike group).

    Returns
    -------
    objects : list
        Brian2 objects to add to the network (spike group, spike sum, monitor or not).
    state : dict
        ``key -> (group, variable)`` entries for `Built.state`.
    monitor : SpikeMonitor or None
    """
    if spec.counts:
        return _add_counts(unit, name, spec, rate_var, slot, order, clock, record_spikes)
    n_units, n = len(unit), spec.n_per_unit
    model, threshold, reset, clear = sq.spike_group(spec.refractory, spec.cap)
    group = NeuronGroup(n_units * n, model, threshold=threshold, reset=reset, clock=clock,
                        name=f"{name}_spikes", namespace={"le_uniform": sq.le_uniform})
    group.rate = linked_var(unit, rate_var, index=np.repeat(np.arange(n_units), n))
    group.run_regularly(clear, when=slot, order=order, name=f"{name}_spikes_clear")
    group.state_updater.when = slot  # no equations to integrate
    group.state_updater.order = order
    group.thresholder["spike"].when = slot
    group.thresholder["spike"].order = order + 1
    group.resetter["spike"].when = slot
    group.resetter["spike"].order = order + 2
    count = Synapses(group, unit, model=sq.SPIKE_COUNT, clock=clock, name=f"{name}_count")
    count.connect(i=np.arange(n_units * n), j=np.repeat(np.arange(n_units), n))
    count.summed_updaters["count_post"].when = slot
    count.summed_updaters["count_post"].order = order + 3
    unit.run_regularly(sq.trace_update(rate_var, spec.refractory, spec.prospective,
                                       spec.cap),
                       when=slot, order=order + 4, name=f"{name}_trace")
    objects = [group, count]
    monitor = None
    if record_spikes:
        monitor = SpikeMonitor(group, name=f"spikemonitor_{name}", when="end")
        objects.append(monitor)
    state = _unit_state(unit, name, spec)
    state.update({f"{name}_spikes.r_max": (group, "r_max"),
                  f"{name}_spikes.spike_seed": (group, "spike_seed")})
    if spec.cap:
        state[f"{name}_spikes.max_rate"] = (group, "max_rate")
    if spec.refractory:
        state.update({f"{name}_spikes.n_ref": (group, "n_ref"),
                      f"{name}_spikes.ref_left": (group, "ref_left")})
    return objects, state, monitor


def _unit_state(unit, name, spec):
    """``key -> (group, variable)`` of a spiking unit's own state."""
    names = ["x", "s", "n_saturated", "n_fired", "phi_max", "tau_s", "r_max", "x_jump", "s_jump"]
    names += ["n_ref"] if spec.refractory else []
    names += ["spike_seed", "n_draw", *sq.ring_names(spec.n_ring)] if spec.counts else []
    names += ["xp"] if spec.prospective else []
    names += ["max_rate"] if spec.cap else []
    return {f"{name}.{v}": (unit, v) for v in names}


def _add_counts(unit, name, spec, rate_var, slot, order, clock, record_spikes):
    """`add_spiking` with ``spike_draw='counts'`` (docs/model.md §5.5): one operation,
    the unit's binomial count and trace update; a recorded unit adds a group of one
    element per unit that 'fires' in the steps its unit spikes (its SpikeMonitor records
    the count; `counts_to_neurons` gives every spike a neuron after the run)."""
    code = (sq.counts_draw(rate_var, spec.refractory, spec.n_ring, spec.cap)
            + sq.trace_update(rate_var, spec.refractory, spec.prospective, spec.cap))
    unit.run_regularly(code, when=slot, order=order, name=f"{name}_trace")
    objects, monitor = [], None
    if record_spikes:
        group = NeuronGroup(len(unit), sq.COUNT_GROUP, threshold="n_spk > 0", reset="",
                            clock=clock, name=f"{name}_counts")
        group.n_spk = linked_var(unit, "count")
        group.state_updater.when = slot  # no equations to integrate
        group.state_updater.order = order + 1
        group.thresholder["spike"].when = slot
        group.thresholder["spike"].order = order + 1
        monitor = SpikeMonitor(group, variables=["n_spk"], name=f"spikemonitor_{name}",
                               when="end")
        objects += [group, monitor]
    return objects, _unit_state(unit, name, spec), monitor


#: Dynamic variables of a spiking unit (kept across runs like u).
SPIKING_DYNAMIC = ("x", "s")


def initial_state(n, rest):
    """The spiking variables of ``n`` units at rest: x and s at their mean phi(0)."""
    return {v: np.full(n, rest) for v in SPIKING_DYNAMIC}


def run_state(spec, name, seed, run_index, state, dt, ref_left=None):
    """Per-run values of one spiking population: trace and spike train (from the
    population's ``state``), constants (``dt`` in seconds), seed, counter; with
    refractoriness the dead time and every neuron's ``ref_left`` (None: all free); with
    ``spike_draw='counts'`` ``ref_left`` is the units' dead-time ring (n_ref, units) of
    spikes of the last n_ref steps (None: none). The prospective trace ``xp`` starts a
    run at x."""
    x = state["x"]
    budget = spec.n_per_unit * spec.r_max
    out = {f"{name}.x": x, f"{name}.s": state["s"], f"{name}.n_saturated": np.zeros(len(x)),
           f"{name}.n_fired": np.zeros(len(x)), f"{name}.phi_max": np.zeros(len(x)),
           f"{name}.x_jump": 1.0 / (budget * spec.tau_s), f"{name}.s_jump": 1.0 / (budget * dt),
           f"{name}.tau_s": spec.tau_s, f"{name}.r_max": spec.r_max}
    if spec.prospective:
        out[f"{name}.xp"] = x
    if spec.cap:
        out[f"{name}.max_rate"] = spec.max_rate
    if spec.counts:  # the dead-time ring (n_ring, units): spikes of the last steps
        ring = np.zeros((spec.n_ring, len(x))) if ref_left is None else ref_left
        out.update({f"{name}.spike_seed": spike_seed(seed, run_index, name),
                    f"{name}.n_draw": float(spec.n_per_unit)})
        out.update({f"{name}.{v}": ring[k] for k, v in enumerate(sq.ring_names(spec.n_ring))})
        if spec.refractory:
            out[f"{name}.n_ref"] = float(spec.n_ref)
        return out
    out.update({f"{name}_spikes.r_max": spec.r_max,
                f"{name}_spikes.spike_seed": spike_seed(seed, run_index, name)})
    if spec.cap:
        out[f"{name}_spikes.max_rate"] = spec.max_rate
    if spec.refractory:
        out.update({f"{name}.n_ref": float(spec.n_ref), f"{name}_spikes.n_ref": spec.n_ref,
                    f"{name}_spikes.ref_left": (np.zeros(len(x) * spec.n_per_unit, dtype=int)
                                                if ref_left is None else ref_left)})
    return out


def counts_to_neurons(spec, units, times, counts, dt, n_steps, n_units, seed, ref_left=None):
    """A neuron for every spike of counted units (``spike_draw='counts'``, docs/model.md
    §5.5): each step's ``counts[e]`` spikes of unit ``units[e]`` at ``times[e]``
    (seconds from the run's start) go to as many distinct neurons of that unit, drawn
    uniformly among those outside their dead time (the neurons are exchangeable: this is
    the distribution of one draw per neuron given the unit's count).

    ``ref_left`` (per neuron, as `run_state`'s; None: all free) is the dead time carried
    from the previous recorded run. Returns ``(i, t, ref_left)``: neuron indices, spike
    times (seconds) and the dead times after this run's ``n_steps`` steps."""
    n, n_ref = spec.n_per_unit, spec.n_ref or 0
    rng = np.random.default_rng(seed)
    units = np.asarray(units, dtype=np.int64)
    times = np.asarray(times, dtype=float)
    counts = np.rint(np.asarray(counts, dtype=float)).astype(np.int64)
    steps = np.rint(times / dt).astype(np.int64)
    # the step of every neuron's last spike; a carried ref_left r means step r - n_ref - 2
    last = np.full(n_units * n, -(n_ref + 2), dtype=np.int64)
    if ref_left is not None:
        last = np.asarray(ref_left, dtype=np.int64) - n_ref - 2
    out = np.empty(int(counts.sum()), dtype=np.int64)
    t = np.empty(len(out))
    pos = 0
    for e in np.argsort(steps, kind="stable"):
        u, k, c = units[e], steps[e], counts[e]
        base = u * n
        chosen = set()
        for _ in range(8 * c + 16):  # rejection: busy or chosen neurons are rare
            j = int(rng.integers(n))
            if j not in chosen and k - last[base + j] > n_ref:
                chosen.add(j)
                if len(chosen) == c:
                    break
        if len(chosen) < c:  # many busy neurons: draw among the free ones explicitly
            free = np.flatnonzero(k - last[base:base + n] > n_ref)
            free = free[~np.isin(free, list(chosen))]
            chosen |= set(rng.choice(free, min(c - len(chosen), len(free)), replace=False)
                          .tolist())
        picked = base + np.fromiter(sorted(chosen), dtype=np.int64, count=len(chosen))
        last[picked] = k
        out[pos:pos + len(picked)] = picked
        t[pos:pos + len(picked)] = times[e]
        pos += len(picked)
    carried = np.clip(last + n_ref + 1 - (n_steps - 1), 0, None) if n_ref else None
    return out[:pos], t[:pos], carried


def check_ref_counts(name, value, shape, n_per_unit):
    """The dead-time ring of counted units (whole numbers in [0, n_per_unit], shape
    ``(n_ref, units)``) as a float array, else ValueError naming ``name``."""
    a = np.asarray(value)
    if a.shape != tuple(shape) or not np.issubdtype(a.dtype, np.number) \
            or not np.isfinite(a).all() or np.any(a != np.round(a)) \
            or a.min(initial=0) < 0 or a.max(initial=0) > n_per_unit \
            or np.any(a.sum(axis=0) > n_per_unit):
        raise ValueError(f"{name} must hold whole numbers of spikes in [0, {n_per_unit}] "
                         f"of shape (n_ref, units) = {tuple(shape)} (at most n_per_unit per "
                         f"unit in all), got shape {a.shape}")
    return a.astype(float)


def check_ref_left(name, value, n, n_ref):
    """Every neuron's ``ref_left`` (ints in [0, n_ref + 1], shape (n,)) as an int array,
    else ValueError naming ``name``."""
    a = np.asarray(value)
    if a.shape != (n,) or not np.issubdtype(a.dtype, np.number) or not np.isfinite(a).all() \
            or np.any(a != np.round(a)) or a.min(initial=0) < 0 or a.max(initial=0) > n_ref + 1:
        raise ValueError(f"{name} must hold {n} whole numbers of steps in [0, {n_ref + 1}] "
                         f"(one per spiking neuron), got shape {a.shape}")
    return a.astype(int)


def warn_saturation(spec, saturated, n_steps, stacklevel=3):
    """Warn (`SpikeSaturationWarning`) with the number of saturated unit steps per
    population (``saturated``: population -> count)."""
    bad = {p: int(c) for p, c in saturated.items() if c > 0}
    if bad:
        text = ", ".join(f"{p}: {c} of {n_steps[p]}" for p, c in bad.items())
        what = "r_max*phi*(dt + t_ref)" if spec.refractory else "r_max*phi*dt"
        warnings.warn(f"spiking: {what} exceeded 1 in {text} unit steps (each such "
                      f"neuron fired every free step, so its trace's mean fell below phi); "
                      f"lower "
                      f"r_max (now {spec.r_max:g} Hz) or dt, or raise n_per_unit",
                      SpikeSaturationWarning, stacklevel=stacklevel)
