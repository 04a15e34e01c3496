r"""Substrate imperfections: time-constant mismatch, rate noise, synaptic filtering
(Haider et al. 2021, Fig. 4; docs/model.md §1.8).

The network classes take these as constructor parameters (``tau_jitter``,
``tau_bounds``, ``tau_learning``, ``eta_tau``, ``rate_noise``, ``tau_syn``); this module
holds what both need: the seeded draw of per-neuron time constants and the conventions
of the noise amplitude, each checked with an error that names the parameter.

Conventions
-----------
Jitter. Every neuron's time constant is the nominal one times an independent
:math:`\mathcal{N}(1, \sigma^2)` factor, clipped to ``tau_bounds``
(default [1 ms, 1000 ms], the authors' range):

.. math:: \tau_i = \mathrm{clip}\big(\tau^{nom}_i\,(1 + \sigma\,\xi_i),\ \tau_{min},\ \tau_{max}\big),
          \qquad \xi_i \sim \mathcal{N}(0, 1)

Rate noise is white noise of density ``rate_noise`` (a Quantity in
:math:`\sqrt{\mathrm{s}}`, like the amplitude that multiplies Brian2's ``xi``): the
rate of step k is :math:`\varphi(\breve u) + \sigma_r\,\xi_k/\sqrt{dt}`. Its integral
over any window, and so what a low-pass filter of time constant
:math:`\tau_s \gg dt` passes on (standard deviation :math:`\sigma_r/\sqrt{2\tau_s}`),
does not depend on dt. A per-step standard deviation ``s`` at step ``dt`` is
``rate_noise = s * sqrt(dt)`` (`noise_density`).
"""

import numpy as np
from brian2 import second

from .engine.validation import UnitError, _quantity, as_time
from .params.groups import TAU_LEARNING as _TAU_LEARNING
from .params.groups import Substrate

__all__ = ["DEFAULT_TAU_BOUNDS", "JITTER_STREAM", "TAU_LEARNING", "check_sigma",
           "check_jitter", "check_tau_bounds", "draw_time_constants", "noise_density", "noise_std",
           "as_noise_density"]

#: Range the jittered time constants are clipped to (the authors' [1, 1000] ms).
DEFAULT_TAU_BOUNDS = Substrate.fields()["tau_bounds"].default

#: The jitter draw uses ``numpy.random.default_rng((seed, JITTER_STREAM))``: a stream
#: apart from the weight draw (``default_rng(seed)``) of the same network seed.
JITTER_STREAM = 1

#: Which time constant the local time-constant learning rule adapts.
TAU_LEARNING = _TAU_LEARNING


def check_sigma(name, value):
    r"""A relative spread :math:`\sigma \ge 0` (a finite number), else ValueError."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a number >= 0, got {value!r}")
    try:
        sigma = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number >= 0 (a relative spread), got "
                        f"{value!r}") from None
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"{name} must be a finite number >= 0 (a relative spread), got "
                         f"{value!r}")
    return sigma


def check_jitter(tau_jitter):
    """``tau_jitter``: one sigma for tau_m and tau_r, or ``(sigma_m, sigma_r)`` ->
    (sigma_m, sigma_r), each checked by `check_sigma`."""
    if isinstance(tau_jitter, (tuple, list)):
        if len(tau_jitter) != 2:
            raise ValueError(f"tau_jitter must be one sigma or (sigma_m, sigma_r), got "
                             f"{tau_jitter!r}")
        sigmas = tuple(tau_jitter)
    else:
        sigmas = (tau_jitter, tau_jitter)
    return tuple(check_sigma("tau_jitter", sigma) for sigma in sigmas)


def check_tau_bounds(tau_bounds):
    """``(low, high)`` Quantities with 0 ms < low < high -> (low, high) in seconds."""
    if not isinstance(tau_bounds, (tuple, list)) or len(tau_bounds) != 2:
        raise ValueError(f"tau_bounds must be a pair (low, high) of times, e.g. "
                         f"(1*ms, 1000*ms), got {tau_bounds!r}")
    low = float(as_time("tau_bounds[0]", tau_bounds[0]))
    high = float(as_time("tau_bounds[1]", tau_bounds[1]))
    if not low < high:
        raise ValueError(f"tau_bounds must satisfy low < high, got {tau_bounds!r}")
    return low, high


def draw_time_constants(tau, sigma, rng, bounds=DEFAULT_TAU_BOUNDS, name="tau"):
    r"""Per-neuron time constants :math:`\tau (1 + \sigma \xi)`, clipped to ``bounds``.

    Parameters
    ----------
    tau : list of array
        Nominal time constants in seconds, one array per layer (one value per neuron).
    sigma : float
        Relative spread (>= 0); 0 returns copies of ``tau`` (no draw, no clipping; the
        nominal values must still lie within ``bounds`` when bounds other than
        `DEFAULT_TAU_BOUNDS` are given).
    rng : numpy.random.Generator
        Drawn in layer order, one normal per neuron.
    bounds : (Quantity, Quantity)
        Clipping range (both > 0 ms).
    name : str
        Parameter name for errors.

    Returns
    -------
    list of array (seconds)

    Raises
    ------
    ValueError
        ``sigma`` negative or not finite, bounds not 0 < low < high, or a nominal value
        outside the bounds (clipping it would replace a value the user gave).

    Examples
    --------
    >>> import numpy as np
    >>> from brian2 import ms
    >>> taus = draw_time_constants([np.full(3, 0.01)], 0.3, np.random.default_rng(0))
    >>> bool(np.all((taus[0] >= 0.001) & (taus[0] <= 1.0)))
    True
    """
    sigma = check_sigma(f"{name}_jitter" if name != "tau" else "tau_jitter", sigma)
    low, high = check_tau_bounds(bounds)
    taus = [np.array(t, dtype=float) for t in tau]
    # bounds that exclude a nominal value contradict it, with or without jitter; the
    # default bounds (not given) do not constrain a network without jitter
    given = bounds is not DEFAULT_TAU_BOUNDS
    for k, t in enumerate(taus):
        if (sigma > 0 or given) and (np.any(t < low) or np.any(t > high)):
            raise ValueError(f"{name}[{k}]: nominal values {t.min() * 1e3:g} .. "
                             f"{t.max() * 1e3:g} ms lie outside tau_bounds "
                             f"[{low * 1e3:g}, {high * 1e3:g}] ms")
    if sigma == 0:
        return taus
    return [np.clip(t * (1 + sigma * rng.standard_normal(t.shape)), low, high) for t in taus]


def as_noise_density(name, value):
    r"""``value`` as a noise density in :math:`\sqrt{\mathrm{s}}` (float >= 0)."""
    try:
        arr = _quantity(name, value, second ** 0.5, "ms**0.5")
    except UnitError:
        raise UnitError(f"{name} must be a noise density in sqrt(second) (white noise: the "
                        f"per-step standard deviation is {name}/sqrt(dt); e.g. "
                        f"{name}=0.2*sqrt(0.01*ms) for 0.2 per step at dt = 0.01 ms), got "
                        f"{value!r}") from None
    if arr.ndim != 0 or arr < 0:
        raise ValueError(f"{name} must be one value >= 0, got {value!r}")
    return float(arr)


def noise_density(std, dt):
    r"""The density :math:`s\sqrt{dt}` (a Quantity in :math:`\sqrt{\mathrm{s}}`) that gives
    a per-step standard deviation ``std`` at step ``dt``."""
    s = check_sigma("std", std)
    return s * float(as_time("dt", dt)) ** 0.5 * second ** 0.5


def noise_std(density, dt):
    r"""Per-step standard deviation :math:`\sigma_r/\sqrt{dt}` of a density (seconds**0.5
    as a float) at step ``dt`` (seconds)."""
    return density / np.sqrt(dt)
