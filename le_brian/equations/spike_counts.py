r"""Spike counts of a unit drawn at once (docs/model.md §5.5, ``spike_draw='counts'``).

A unit of ``n`` exchangeable neurons, each firing in a step with probability :math:`p`
(at most once), emits :math:`c \sim \mathrm{Binomial}(n, p)` spikes in that step: the
sum of the neurons' Bernoulli draws. `le_binomial` draws that count from counter-based
uniform numbers (a hash of the run's seed, the step, the unit and a chunk index, as
`le_brian.equations.spiking.le_uniform`), by inversion of the distribution function:

.. math:: c = \min\{k : U < F(k)\},\quad P(0) = (1-q)^m,\quad
          P(k+1) = P(k)\,\frac{m-k}{k+1}\,\frac{q}{1-q}

with :math:`q = \min(p, 1-p)` (the count of the complement where :math:`p > 1/2`) and
the ``n`` neurons split into chunks of ``m`` whose :math:`(1-q)^m` stays far above the
smallest double (:math:`-m \log(1-q) \le 500`; one uniform per chunk). The loop runs
:math:`c + 1` times per chunk: the cost is that of the spikes, not of the neurons.
C++, CUDA, Cython and NumPy implementations (`le_binomial_numpy` is the reference); they
give the same counts up to the last bit of ``exp`` / ``log1p`` of each target's maths
library (a difference changes a count only where U falls within an ulp of F(k)).

This module imports nothing from the rest of the package.
"""

import numpy as np
from brian2 import Function

__all__ = ["le_binomial", "le_binomial_numpy", "le_uniform4_numpy", "CHUNK_LOG"]

#: Largest -m log(1 - q) of one chunk of m neurons: (1 - q)^m >= e^-500.
CHUNK_LOG = 500.0

_M1, _M2, _GOLDEN = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x9E3779B97F4A7C15

_CPP = """
static inline uint64_t _le_bmix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static inline double _le_uniform4(int32_t seed, int32_t step, int32_t i, int32_t c)
{
    uint64_t h = _le_bmix64((uint64_t)(uint32_t)seed);
    h = _le_bmix64(h ^ (uint64_t)(uint32_t)step);
    h = _le_bmix64(h ^ (uint64_t)(uint32_t)i);
    h = _le_bmix64(h ^ (uint64_t)(uint32_t)c);
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}
static inline double le_binomial(int32_t seed, int32_t step, int32_t i, double n_d, double p)
{
    int64_t n = (int64_t)(n_d + 0.5);
    if (n <= 0 || !(p > 0.0)) return 0.0;
    if (p >= 1.0) return (double)n;
    const bool flip = p > 0.5;
    const double q = flip ? 1.0 - p : p;
    const double lq = log1p(-q);
    int64_t per = (int64_t)(CHUNK_LOG_VALUE / -lq);
    if (per < 1) per = 1;
    const double ratio = q / (1.0 - q);
    int64_t left = n, total = 0;
    int32_t c = 0;
    while (left > 0) {
        const int64_t m = left < per ? left : per;
        left -= m;
        const double u = _le_uniform4(seed, step, i, c);
        c++;
        double f = exp((double)m * lq);
        double F = f;
        int64_t k = 0;
        while (u >= F && k < m) {
            f *= (double)(m - k) / (double)(k + 1) * ratio;
            k++;
            F += f;
        }
        total += k;
    }
    return (double)(flip ? n - total : total);
}
""".replace("CHUNK_LOG_VALUE", repr(CHUNK_LOG))

_CUDA = _CPP.replace("static inline", "__host__ __device__ static inline")

_CYTHON = """
from libc.math cimport exp as _le_exp, log1p as _le_log1p

cdef inline unsigned long long _le_bmix64(unsigned long long z) nogil:
    z = z + 0x9E3779B97F4A7C15ULL
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)

cdef inline double _le_uniform4(int seed, int step, int i, int c) nogil:
    cdef unsigned long long h = _le_bmix64(<unsigned long long>(<unsigned int>seed))
    h = _le_bmix64(h ^ <unsigned long long>(<unsigned int>step))
    h = _le_bmix64(h ^ <unsigned long long>(<unsigned int>i))
    h = _le_bmix64(h ^ <unsigned long long>(<unsigned int>c))
    return <double>(h >> 11) * (1.0 / 9007199254740992.0)

cdef inline double le_binomial(int seed, int step, int i, double n_d, double p) nogil:
    cdef long long n = <long long>(n_d + 0.5)
    cdef long long per, left, total, m, k
    cdef int c = 0
    cdef double q, lq, ratio, u, f, F
    cdef bint flip
    if n <= 0 or not (p > 0.0):
        return 0.0
    if p >= 1.0:
        return <double>n
    flip = p > 0.5
    q = 1.0 - p if flip else p
    lq = _le_log1p(-q)
    per = <long long>(CHUNK_LOG_VALUE / -lq)
    if per < 1:
        per = 1
    ratio = q / (1.0 - q)
    left = n
    total = 0
    while left > 0:
        m = left if left < per else per
        left -= m
        u = _le_uniform4(seed, step, i, c)
        c += 1
        f = _le_exp(<double>m * lq)
        F = f
        k = 0
        while u >= F and k < m:
            f *= <double>(m - k) / <double>(k + 1) * ratio
            k += 1
            F += f
        total += k
    return <double>(n - total if flip else total)
""".replace("CHUNK_LOG_VALUE", repr(CHUNK_LOG))


def _mix(z):
    z = z + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def _as_u64(v):
    return (np.asarray(v, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint64)


def le_uniform4_numpy(seed, step, i, c):
    """Counter-based uniform numbers in [0, 1) of seed, step, index and chunk (splitmix64
    chained over the four, 53 bits), broadcast over the arguments."""
    with np.errstate(over="ignore"):
        h = _mix(_as_u64(seed))
        h = _mix(h ^ _as_u64(step))
        h = _mix(h ^ _as_u64(i))
        h = _mix(h ^ _as_u64(c))
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def le_binomial_numpy(seed, step, i, n, p):
    """Binomial(n, p) counts of `le_binomial` in NumPy (the reference of every target),
    broadcast over the arguments; returns floats."""
    seed, step, i, n_d, p = np.broadcast_arrays(*(np.asarray(a) for a in (seed, step, i, n, p)))
    shape = p.shape
    seed, step, i = (a.ravel().astype(np.int64) for a in (seed, step, i))
    n = np.floor(n_d.ravel().astype(float) + 0.5).astype(np.int64)
    p = p.ravel().astype(float)
    out = np.zeros(len(p))
    full = (n > 0) & (p >= 1.0)
    out[full] = n[full]
    draw = (n > 0) & (p > 0.0) & (p < 1.0)
    idx = np.nonzero(draw)[0]
    if len(idx):
        pp, nn = p[idx], n[idx]
        flip = pp > 0.5
        q = np.where(flip, 1.0 - pp, pp)
        lq = np.log1p(-q)
        per = np.maximum((CHUNK_LOG / -lq).astype(np.int64), 1)
        ratio = q / (1.0 - q)
        left, total = nn.copy(), np.zeros(len(idx), dtype=np.int64)
        c = 0
        while np.any(left > 0):
            on = left > 0
            m = np.where(on, np.minimum(left, per), 0)
            left = left - m
            u = le_uniform4_numpy(seed[idx], step[idx], i[idx], c)
            c += 1
            with np.errstate(under="ignore"):
                f = np.exp(m.astype(float) * lq)
            F, k = f.copy(), np.zeros(len(idx), dtype=np.int64)
            go = on & (u >= F) & (k < m)
            while np.any(go):
                f = np.where(go, f * ((m - k) / (k + 1.0) * ratio), f)
                k = k + go
                F = np.where(go, F + f, F)
                go = go & (u >= F) & (k < m)
            total += k
        out[idx] = np.where(flip, nn - total, total)
    return out.reshape(shape)


#: The Brian2 function ``le_binomial(seed, step, i, n, p)``: a Binomial(n, p) count
#: (float) of unit ``i`` in step ``step`` of the stream ``seed``.
le_binomial = Function(le_binomial_numpy, arg_units=[1, 1, 1, 1, 1], return_unit=1,
                       arg_types=["integer", "integer", "integer", "float", "float"],
                       return_type="float", stateless=True)
# numpy: without Brian2's unit-checking wrapper, which formats the result array into an
# error message on every call (most of a runtime step's time)
le_binomial.implementations.add_numpy_implementation(le_binomial_numpy, discard_units=True)
le_binomial.implementations.add_implementation("cpp", _CPP, name="le_binomial")
le_binomial.implementations.add_implementation("cython", _CYTHON, name="le_binomial")
try:  # brian2cuda registers the 'cuda' code-generation target
    le_binomial.implementations.add_implementation("cuda", _CUDA, name="le_binomial")
except Exception:  # noqa: BLE001 (no brian2cuda: no CUDA implementation needed)
    pass
