"""The spiking view shared by both network classes (docs/model.md §5).

`SpikingSpec` holds and checks the spiking parameters of a network; `add_spiking`
attaches to a rate unit group the Brian2 objects of its spiking view: a spike group of
``n_per_unit`` neurons per unit (threshold ``le_uniform(...) < r_max*rate*dt``), the
pathway that adds every spike to the unit's trace ``x``, and the trace decay. The rate
network's projections then read ``x_pre`` instead of ``r_pre``. Values (``r_max``,
``tau_s``, the seed of the run) are state set per run: one compiled program serves all.
"""

import hashlib
import warnings
from dataclasses import dataclass

import numpy as np
from brian2 import Hz, NeuronGroup, SpikeMonitor, Synapses, linked_var, ms, second

from .. import equations as eq
from ..equations import spiking as sq
from .validation import as_rate, as_time

__all__ = ["SpikingSpec", "SpikeSaturationWarning", "add_spiking", "spike_seed",
           "DEFAULT_R_MAX", "DEFAULT_R_MAX_MICROCIRCUIT", "DEFAULT_TAU_S", "SPIKE_STRIDE"]

#: In spiking mode every per-layer order of a slot is multiplied by this, so that a
#: layer's three spiking operations fit between its own operation and the next layer's.
SPIKE_STRIDE = 4

#: Default rate of a neuron at phi = 1: the most a Brian2 neuron can fire at dt = 0.1 ms
#: (one spike per step), the order of the effective rates (1e4-1e5 /s) of the published
#: spiking microcircuit. ``n_per_unit * r_max`` is the budget that matters: 10 kHz with
#: one neuron per unit equals 100 neurons at a biological 100 Hz.
DEFAULT_R_MAX = 10000 * Hz
#: The microcircuit's default: its soft_relu rates reach ~5 (bars task), and 2 kHz keeps
#: r_max * phi * dt <= 1 there at dt = 0.1 ms.
DEFAULT_R_MAX_MICROCIRCUIT = 2000 * Hz
#: Default trace time constant: the published spiking microcircuit's dendritic filter.
DEFAULT_TAU_S = 1 * ms


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
    """

    n_per_unit: int
    r_max: float
    tau_s: float
    populations: tuple

    @classmethod
    def check(cls, n_per_unit, r_max, tau_s, activations):
        """A checked spec; ``activations`` maps every spiking population to its
        activation name. Raises ValueError / UnitError naming the parameter."""
        if (isinstance(n_per_unit, (bool, np.bool_))
                or not isinstance(n_per_unit, (int, np.integer)) or n_per_unit < 1):
            raise ValueError(f"n_per_unit must be an int >= 1, got {n_per_unit!r}")
        rate = float(as_rate("r_max", r_max))
        if not rate > 0:
            raise ValueError(f"r_max must be > 0 Hz, got {r_max!r}")
        tau = float(as_time("tau_s", tau_s))
        allowed = sorted(n for n, a in eq.ACTIVATIONS.items() if a.nonnegative)
        for pop, name in activations.items():
            if not eq.get_activation(name).nonnegative:
                raise ValueError(
                    f"spiking: population {pop!r} uses activation {name!r}, whose range "
                    f"includes negative values, which no firing rate can have; spiking "
                    f"layers need one of {allowed} (or keep that layer a rate read-out)")
        return cls(int(n_per_unit), rate, tau, tuple(activations))

    @property
    def r_max_quantity(self):
        return self.r_max * Hz

    @property
    def tau_s_quantity(self):
        return self.tau_s * second


def spike_seed(seed, run_index, population):
    """The int32 seed of one population's random numbers in one run: a hash of the
    network seed, the run's index and the population name (runs draw new spikes;
    the same network seed and history give the same spikes on every device)."""
    digest = hashlib.sha256(f"{seed}/{run_index}/{population}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def add_spiking(unit, name, spec, rate_var, slot, order, clock, record_spikes):
    """Create the spiking view of ``unit`` (a NeuronGroup whose equations include
    `le_brian.equations.spiking.UNIT_TRACE`).

    Three operations run in ``slot`` at orders ``order``, ``order + 1``, ``order + 2``:
    the trace decay (and saturation count) of the unit, the spike group's threshold,
    and the pathway adding each spike to its unit's trace.

    Returns
    -------
    objects : list
        Brian2 objects to add to the network (spike group, pathway, monitor or not).
    state : dict
        ``key -> (group, variable)`` entries for `Built.state`.
    monitor : SpikeMonitor or None
    """
    n_units, n = len(unit), spec.n_per_unit
    unit.run_regularly(sq.TRACE_DECAY.format(rate=rate_var), when=slot, order=order,
                       name=f"{name}_trace")
    group = NeuronGroup(n_units * n, sq.SPIKE_GROUP, threshold=sq.SPIKE_THRESHOLD, reset="",
                        clock=clock, name=f"{name}_spikes",
                        namespace={"le_uniform": sq.le_uniform})
    group.rate = linked_var(unit, rate_var, index=np.repeat(np.arange(n_units), n))
    group.thresholder["spike"].when = slot
    group.thresholder["spike"].order = order + 1
    group.state_updater.when = slot  # no equations to integrate
    group.state_updater.order = order + 1
    pathway = Synapses(group, unit, on_pre=sq.TRACE_JUMP.format(n_per_unit=n), clock=clock,
                       name=f"{name}_to_trace")
    pathway.connect(i=np.arange(n_units * n), j=np.repeat(np.arange(n_units), n))
    pathway.pre.when = slot
    pathway.pre.order = order + 2
    objects = [group, pathway]
    monitor = None
    if record_spikes:
        monitor = SpikeMonitor(group, name=f"spikemonitor_{name}", when="end")
        objects.append(monitor)
    state = {f"{name}.x": (unit, "x"), f"{name}.n_saturated": (unit, "n_saturated"),
             f"{name}.tau_s": (unit, "tau_s"), f"{name}.r_max": (unit, "r_max"),
             f"{name}_spikes.r_max": (group, "r_max"),
             f"{name}_spikes.spike_seed": (group, "spike_seed")}
    return objects, state, monitor


def run_state(spec, name, seed, run_index, x):
    """Per-run values of one spiking population: trace, constants, seed, counter."""
    return {f"{name}.x": x, f"{name}.n_saturated": np.zeros(len(x)),
            f"{name}.tau_s": spec.tau_s, f"{name}.r_max": spec.r_max,
            f"{name}_spikes.r_max": spec.r_max,
            f"{name}_spikes.spike_seed": spike_seed(seed, run_index, name)}


def warn_saturation(spec, saturated, n_steps, stacklevel=3):
    """Warn (`SpikeSaturationWarning`) with the number of saturated unit steps per
    population (``saturated``: population -> count)."""
    bad = {p: int(c) for p, c in saturated.items() if c > 0}
    if bad:
        text = ", ".join(f"{p}: {c} of {n_steps[p]}" for p, c in bad.items())
        warnings.warn(f"spiking: r_max*phi*dt exceeded 1 in {text} unit steps (each such "
                      f"neuron fired every step, so its trace's mean fell below phi); lower "
                      f"r_max (now {spec.r_max:g} Hz) or dt, or raise n_per_unit",
                      SpikeSaturationWarning, stacklevel=stacklevel)
