"""The spiking view shared by both network classes (docs/model.md §5).

`SpikingSpec` holds and checks the spiking parameters of a network; `add_spiking`
attaches to a rate unit group the Brian2 objects of its spiking view: a spike group of
``n_per_unit`` neurons per unit (threshold ``le_uniform(...) < r_max*rate*dt``), the
sum of every unit's spikes of the step onto the unit, and the trace update. The rate
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
from ..params.groups import MicrocircuitSpiking, Spiking
from .validation import as_rate, as_time

__all__ = ["SpikingSpec", "SpikeSaturationWarning", "add_spiking", "spike_seed",
           "DEFAULT_R_MAX", "DEFAULT_R_MAX_MICROCIRCUIT", "DEFAULT_TAU_S", "SPIKE_STRIDE",
           "SPIKING_OPS",
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
    """

    n_per_unit: int
    r_max: float
    tau_s: float
    populations: tuple
    n_ref: int = None

    @property
    def refractory(self):
        """Whether the neurons have a refractory period (t_ref given, even 0)."""
        return self.n_ref is not None

    @classmethod
    def check(cls, n_per_unit, r_max, tau_s, activations, dt=None, t_ref=None):
        """A checked spec; ``activations`` maps every spiking population to its
        activation name; ``dt`` the network's time step in seconds (``tau_s`` must not be
        shorter: the trace's Euler decay ``x -= x dt / tau_s`` overshoots below zero
        then); ``t_ref`` (Quantity or None) the absolute refractory period: >= 0, below
        1/r_max (no dead-time process can fire at r_max otherwise) and a whole number
        of steps dt (the dead time is counted in steps). Raises ValueError / UnitError
        naming the parameter."""
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
        return cls(int(n_per_unit), rate, tau, tuple(activations),
                   check_refractory(t_ref, rate, dt))


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
    count.

    Returns
    -------
    objects : list
        Brian2 objects to add to the network (spike group, spike sum, monitor or not).
    state : dict
        ``key -> (group, variable)`` entries for `Built.state`.
    monitor : SpikeMonitor or None
    """
    n_units, n = len(unit), spec.n_per_unit
    model, threshold, reset, clear = sq.spike_group(spec.refractory)
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
    unit.run_regularly(sq.trace_update(rate_var, spec.refractory), when=slot, order=order + 4,
                       name=f"{name}_trace")
    objects = [group, count]
    monitor = None
    if record_spikes:
        monitor = SpikeMonitor(group, name=f"spikemonitor_{name}", when="end")
        objects.append(monitor)
    state = {f"{name}.x": (unit, "x"), f"{name}.s": (unit, "s"),
             f"{name}.n_saturated": (unit, "n_saturated"),
             f"{name}.tau_s": (unit, "tau_s"), f"{name}.r_max": (unit, "r_max"),
             f"{name}.x_jump": (unit, "x_jump"), f"{name}.s_jump": (unit, "s_jump"),
             f"{name}_spikes.r_max": (group, "r_max"),
             f"{name}_spikes.spike_seed": (group, "spike_seed")}
    if spec.refractory:
        state.update({f"{name}.n_ref": (unit, "n_ref"), f"{name}_spikes.n_ref": (group, "n_ref"),
                      f"{name}_spikes.ref_left": (group, "ref_left")})
    return objects, state, monitor


#: Dynamic variables of a spiking unit (kept across runs like u).
SPIKING_DYNAMIC = ("x", "s")


def initial_state(n, rest):
    """The spiking variables of ``n`` units at rest: x and s at their mean phi(0)."""
    return {v: np.full(n, rest) for v in SPIKING_DYNAMIC}


def run_state(spec, name, seed, run_index, state, dt, ref_left=None):
    """Per-run values of one spiking population: trace and spike train (from the
    population's ``state``), constants (``dt`` in seconds), seed, counter; with
    refractoriness the dead time and every neuron's ``ref_left`` (None: all free)."""
    x = state["x"]
    budget = spec.n_per_unit * spec.r_max
    out = {f"{name}.x": x, f"{name}.s": state["s"], f"{name}.n_saturated": np.zeros(len(x)),
           f"{name}.x_jump": 1.0 / (budget * spec.tau_s), f"{name}.s_jump": 1.0 / (budget * dt),
           f"{name}.tau_s": spec.tau_s, f"{name}.r_max": spec.r_max,
           f"{name}_spikes.r_max": spec.r_max,
           f"{name}_spikes.spike_seed": spike_seed(seed, run_index, name)}
    if spec.refractory:
        out.update({f"{name}.n_ref": float(spec.n_ref), f"{name}_spikes.n_ref": spec.n_ref,
                    f"{name}_spikes.ref_left": (np.zeros(len(x) * spec.n_per_unit, dtype=int)
                                                if ref_left is None else ref_left)})
    return out


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
