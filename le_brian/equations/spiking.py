r"""Brian2 equations of the spiking view (docs/model.md §5).

A rate unit with rate :math:`\varphi` (dimensionless, the unit's ``r``) is represented
by ``n`` Brian2 neurons (``n_per_unit``), each an inhomogeneous Poisson process (at most
one spike per step) of rate :math:`r_{max}\varphi`: neuron ``j`` of the spike group
fires in step ``k`` when

.. math:: U(s, k, j) < r_{max}\,\varphi\,dt

with :math:`U` a counter-based uniform random number (`le_uniform`: a hash of the run's
seed ``s``, the step and the neuron index, identical on every code-generation target,
so the same seed gives the same spikes on runtime and standalone devices). What a
postsynaptic cell reads is the unit's normalised trace

.. math:: x_k = (1 - dt/\tau_s)\,x_{k-1} + \frac{c_k}{n\,r_{max}\,\tau_s}

(:math:`c_k` the unit's spikes in step k), whose mean is exactly :math:`\varphi` for a
constant :math:`\varphi` (as long as :math:`r_{max}\varphi\,dt \le 1`).

Variable names
==============

============  ======  ==================================================================
name          unit    meaning
============  ======  ==================================================================
x             1       normalised spike trace of a unit (mean phi); what projections read
s             1       the unit's spikes of its last step / (n r_max dt) (mean phi)
n_saturated   1       unit steps of this run with r_max phi dt > 1 (saturated)
tau_s         second  trace (synaptic) time constant (shared)
r_max         Hz      rate of a neuron at phi = 1 (shared)
rate          1       (spike group) phi of the neuron's unit (linked variable)
spike_seed    1       (spike group) integer seed of this run's random numbers (shared)
n_ref         1       (with t_ref) dead time in steps, round(t_ref/dt) (shared; unit
                      and spike group)
ref_left      1       (with t_ref; spike group) steps until the neuron may fire again + 1
============  ======  ==================================================================

With an absolute refractory period (``t_ref``, docs/model.md §5.4) a neuron that fired
in step k is silent in steps k+1 .. k+n_ref and fires in a free step with the
compensated probability :math:`p' = p/(1 - n_{ref}\,p)`, :math:`p = r_{max}\varphi\,dt`,
drawn as :math:`U\,(1 - n_{ref}\,p) < p` (no division; a free neuron fires every step
where :math:`n_{ref}\,p \ge 1`, counted as saturated where :math:`p\,(1 + n_{ref}) > 1`).
With n_ref = 0 it is the draw above, bit for bit.

This module imports nothing from the rest of the package.
"""

import numpy as np
from brian2 import Function

__all__ = ["UNIT_TRACE", "TRACE_UPDATE", "SPIKE_GROUP", "SPIKE_CLEAR", "SPIKE_MARK",
           "SPIKE_THRESHOLD", "SPIKE_COUNT", "unit_trace", "trace_update", "spike_group",
           "REFRACTORY_CLEAR", "REFRACTORY_MARK", "REFRACTORY_THRESHOLD", "GAUSSIAN_DRAW",
           "le_uniform", "le_uniform_numpy", "le_normal_numpy", "ring_names", "counts_draw",
           "COUNT_GROUP", "capped"]

#: Added to a unit's equations: its trace, saturation counter and the two constants.
UNIT_TRACE = """
x : 1  # normalised spike trace (mean phi)
s : 1  # spikes of the unit's last step / (n_per_unit r_max dt) (mean phi)
n_saturated : 1  # steps of this run with r_max*phi*dt > 1
tau_s : second (shared)  # trace time constant
r_max : hertz (shared)  # rate of a neuron at phi = 1
x_jump : 1 (shared)  # 1/(n_per_unit r_max tau_s), set per run
s_jump : 1 (shared)  # 1/(n_per_unit r_max dt), set per run
count : 1  # spikes of the unit's neurons in this step (summed)
"""

#: Last operation of a unit's spiking step (run_regularly): decay the trace and add the
#: step's spikes, the step's spike train, count a saturated step. ``{rate}`` is the
#: unit's rate variable.
TRACE_UPDATE = """
x = x - dt/tau_s*x + count*x_jump
s = count*s_jump
n_saturated = n_saturated + int(r_max*{rate}*dt > 1)
"""

#: The spike group: n_per_unit neurons per unit.
SPIKE_GROUP = """
rate : 1 (linked)  # phi of the neuron's unit
r_max : hertz (shared)
spike_seed : integer (shared)
spiked : 1  # 1 in the step the neuron fired (set by the reset)
"""

#: First operation of the spike group's step: no spike yet.
SPIKE_CLEAR = "spiked = 0"

#: Reset of the spike group (its fired neurons): mark them.
SPIKE_MARK = "spiked = 1"

#: Threshold of the spike group: a Bernoulli draw with probability r_max*phi*dt.
SPIKE_THRESHOLD = "le_uniform(spike_seed, int(t/dt + 0.5), i) < r_max*rate*dt"

#: A standard normal number of neuron i in the current step (Box-Muller from two
#: counter-based uniforms of the stream ``{seed}``: indices 2i and 2i + 1; 1 - U lies in
#: (0, 1], so the logarithm stays finite). Reference: `le_normal_numpy`.
GAUSSIAN_DRAW = ("sqrt(-2*log(1 - le_uniform({seed}, int(t/dt + 0.5), 2*i)))"
                 "*cos(2*pi*le_uniform({seed}, int(t/dt + 0.5), 2*i + 1))")

#: The unit's variable of the refractory variant (the saturation count reads it).
_UNIT_REFRACTORY = """
n_ref : 1 (shared)  # dead time in steps
"""

#: Variables of the spike group's refractory variant.
_GROUP_REFRACTORY = """
n_ref : integer (shared)  # dead time in steps, round(t_ref/dt)
ref_left : integer  # steps until the neuron may fire again, + 1 (0: free)
"""

#: First operation of the refractory spike group's step: no spike yet, one dead step less.
REFRACTORY_CLEAR = """
spiked = 0
ref_left = ref_left - int(ref_left > 0)
"""

#: Reset of the refractory spike group: mark, and keep the neuron silent n_ref steps.
REFRACTORY_MARK = """
spiked = 1
ref_left = n_ref + 1
"""

#: Threshold of the refractory spike group: a free neuron fires with probability
#: p/(1 - n_ref p), p = r_max*phi*dt (docs/model.md §5.4).
REFRACTORY_THRESHOLD = ("ref_left == 0 and le_uniform(spike_seed, int(t/dt + 0.5), i)"
                        "*(1 - n_ref*r_max*rate*dt) < r_max*rate*dt")


#: Variables of a unit whose spike count is drawn at once (``spike_draw='counts'``).
_UNIT_COUNTS = """
spike_seed : integer (shared)  # seed of this run's counts
n_draw : 1 (shared)  # neurons per unit
"""

#: The prospective trace a postsynaptic cell reads with ``prospective_trace=True``.
_UNIT_PROSPECTIVE = """
xp : 1  # x + tau_s dx/dt of the step (mean phi, no lag)
"""

#: Spikes of the unit in this run (every draw; the mean rate without a monitor) and its
#: largest rate phi in this run (a neuron's peak rate is r_max times it).
_UNIT_FIRED = """
n_fired : 1  # spikes of the unit's neurons in this run
phi_max : 1  # largest phi of the unit in this run
"""


def ring_names(n_ring):
    """Names of a counting unit's dead-time ring: its spikes of the last ``n_ring``
    steps (``ref_h1``: the previous step)."""
    return [f"ref_h{k}" for k in range(1, n_ring + 1)]


#: The largest rate of a neuron (``max_rate``): its rate is min(r_max phi, max_rate).
_CAP = """
max_rate : hertz (shared)  # largest rate of a neuron
"""


def capped(code, rate):
    """``code`` with the firing probability ``r_max*<rate>*dt`` of a neuron replaced by
    ``clip(r_max*<rate>, 0*max_rate, max_rate)*dt`` (a neuron fires at most at max_rate)."""
    return code.replace(f"r_max*{rate}*dt", f"clip(r_max*{rate}, 0*max_rate, max_rate)*dt")


def unit_trace(refractory=False, counts=False, n_ring=0, prospective=False, cap=False):
    """`UNIT_TRACE`, with the unit's ``n_ref`` for a refractory spike group; with
    ``counts`` the variables of the unit's binomial draw and ``n_ring`` dead-time
    counters (docs/model.md §5.5); with ``prospective`` the trace ``xp``; with ``cap``
    the largest rate ``max_rate``."""
    text = (UNIT_TRACE + _UNIT_FIRED + (_UNIT_REFRACTORY if refractory else "")
            + (_CAP if cap else ""))
    if counts:
        text += _UNIT_COUNTS + "".join(f"{n} : 1  # spikes {k} step(s) ago\n"
                                       for k, n in enumerate(ring_names(n_ring), 1))
    return text + (_UNIT_PROSPECTIVE if prospective else "")


def trace_update(rate, refractory=False, prospective=False, cap=False):
    """`TRACE_UPDATE` of the unit rate variable ``rate``; with refractoriness a step
    counts as saturated where the compensated probability exceeds 1; with
    ``prospective`` also ``xp = x_k - x_{k-1} + s_k`` (= x + tau_s dx/dt of the Euler
    step, docs/model.md §5.2)."""
    code = (TRACE_UPDATE.format(rate=rate) + "n_fired = n_fired + count\n"
            + f"phi_max = phi_max + ({rate} - phi_max)*int({rate} > phi_max)\n")
    if refractory:
        code = code.replace(f"int(r_max*{rate}*dt > 1)",
                            f"int(r_max*{rate}*dt*(1 + n_ref) > 1)")
    if prospective:
        code = "xp = -x\n" + code + "xp = xp + x + s\n"
    return capped(code, rate) if cap else code


def counts_draw(rate, refractory=False, n_ring=0, cap=False):
    """The unit's spike count of the step drawn at once (docs/model.md §5.5):
    Binomial(free neurons, p') with p = r_max phi dt, p' = p / (1 - n_ref p) (capped at
    1) and the free neurons those that did not fire in the last n_ref steps (the ring
    ``ref_h1 .. ref_h<n_ring>``, shifted after the draw)."""
    p = f"clip(r_max*{rate}, 0*max_rate, max_rate)*dt" if cap else f"r_max*{rate}*dt"
    draw = "le_binomial(spike_seed, int(t/dt + 0.5), i, {n}, {p})"
    if not refractory:
        return f"count = {draw.format(n='n_draw', p=p)}\n"
    ring = ring_names(n_ring)
    busy = " - ".join(["n_draw", *ring])
    p_comp = f"{p}/clip(1 - n_ref*{p}, {p}, 1)"
    lines = [f"count = {draw.format(n=busy, p=p_comp)}"]
    lines += [f"{ring[k]} = {ring[k - 1]}" for k in range(len(ring) - 1, 0, -1)]
    lines += [f"{ring[0]} = count"] if ring else []
    return "\n".join(lines) + "\n"


#: The counting group of a recorded counting unit: its count, seen by a SpikeMonitor.
COUNT_GROUP = """
n_spk : 1 (linked)  # the unit's spikes of the step
"""


def spike_group(refractory=False, cap=False):
    """``(equations, threshold, reset, clear)`` of the spike group (with ``cap`` its
    neurons fire at most at ``max_rate``)."""
    model, threshold, reset, clear = (
        (SPIKE_GROUP + _GROUP_REFRACTORY, REFRACTORY_THRESHOLD, REFRACTORY_MARK,
         REFRACTORY_CLEAR) if refractory else
        (SPIKE_GROUP, SPIKE_THRESHOLD, SPIKE_MARK, SPIKE_CLEAR))
    if cap:
        model, threshold = model + _CAP, capped(threshold, "rate")
    return model, threshold, reset, clear


#: The spike group -> unit sum: the unit's spikes of this step (a summed variable over
#: the n_per_unit neurons of each unit, no spike queue: brian2cuda's pathway template
#: needs Brian2's defaultclock, and le_brian's networks run on their own clock).
SPIKE_COUNT = """
count_post = spiked_pre : 1 (summed)
"""

_M1, _M2, _GOLDEN = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x9E3779B97F4A7C15

_CPP = """
static inline uint64_t _le_mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static inline double le_uniform(int32_t seed, int32_t step, int32_t i)
{
    uint64_t h = _le_mix64((uint64_t)(uint32_t)seed);
    h = _le_mix64(h ^ (uint64_t)(uint32_t)step);
    h = _le_mix64(h ^ (uint64_t)(uint32_t)i);
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}
"""

_CUDA = _CPP.replace("static inline", "__host__ __device__ static inline")

_CYTHON = """
cdef inline unsigned long long _le_mix64(unsigned long long z) nogil:
    z = z + 0x9E3779B97F4A7C15ULL
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)

cdef inline double le_uniform(int seed, int step, int i) nogil:
    cdef unsigned long long h = _le_mix64(<unsigned long long>(<unsigned int>seed))
    h = _le_mix64(h ^ <unsigned long long>(<unsigned int>step))
    h = _le_mix64(h ^ <unsigned long long>(<unsigned int>i))
    return <double>(h >> 11) * (1.0 / 9007199254740992.0)
"""


def _mix(z):
    z = z + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def _as_u64(v):
    return (np.atleast_1d(np.asarray(v, dtype=np.int64)) & 0xFFFFFFFF).astype(np.uint64)


def le_uniform_numpy(seed, step, i):
    """The counter-based uniform numbers in [0, 1) of `le_uniform` in NumPy (splitmix64
    of seed, step and index, chained; 53 bits): the reference for every target."""
    with np.errstate(over="ignore"):
        h = _mix(_as_u64(seed))
        h = _mix(h ^ _as_u64(step))
        h = _mix(h ^ _as_u64(i))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def le_normal_numpy(seed, step, i):
    """The standard normal numbers of `GAUSSIAN_DRAW` in NumPy."""
    i = np.asarray(i, dtype=np.int64)
    u1, u2 = le_uniform_numpy(seed, step, 2 * i), le_uniform_numpy(seed, step, 2 * i + 1)
    return np.sqrt(-2 * np.log(1 - u1)) * np.cos(2 * np.pi * u2)


le_uniform = Function(le_uniform_numpy, arg_units=[1, 1, 1], return_unit=1,
                      arg_types=["integer", "integer", "integer"], return_type="float",
                      stateless=True)
# numpy: without Brian2's unit-checking wrapper, which formats the result array into an
# error message on every call (most of a runtime step's time)
le_uniform.implementations.add_numpy_implementation(le_uniform_numpy, discard_units=True)
le_uniform.implementations.add_implementation("cpp", _CPP, name="le_uniform")
le_uniform.implementations.add_implementation("cython", _CYTHON, name="le_uniform")
try:  # brian2cuda registers the 'cuda' code-generation target
    le_uniform.implementations.add_implementation("cuda", _CUDA, name="le_uniform")
except Exception:  # noqa: BLE001 (no brian2cuda: no CUDA implementation needed)
    pass
