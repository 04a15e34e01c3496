"""Argument checks shared by the builders: clear errors naming the parameter and the
expected unit or shape, raised before anything is built."""

import numbers

import numpy as np
from brian2 import DimensionMismatchError, Quantity, second
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

__all__ = [
    "DIVERGENCE_BOUND",
    "UnitError",
    "check_sizes",
    "check_choice",
    "check_count",
    "check_seed",
    "as_time",
    "as_rate",
    "as_dimensionless",
    "as_matrix",
    "steps_of",
    "per_neuron",
    "as_conductance",
    "as_flags",
]


class UnitError(DimensionMismatchError, TypeError):
    """A parameter with the wrong physical dimensions (or none where one is needed).

    A `brian2.DimensionMismatchError`, as Brian2 users expect, and a `TypeError` (the
    type of a value without units where a Quantity is needed)."""

    def __init__(self, message):
        DimensionMismatchError.__init__(self, message)


def check_sizes(layer_sizes, minimum, what):
    """``layer_sizes`` as a list of positive ints (bools refused) of at least
    ``minimum`` entries; ``what`` describes the expected form in the error."""
    sizes = list(layer_sizes) if isinstance(layer_sizes, (list, tuple, np.ndarray)) else None
    if (sizes is None or len(sizes) < minimum
            or not all(isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))
                       and n > 0 for n in sizes)):
        raise ValueError(f"layer_sizes must be a list of at least {minimum} positive ints "
                         f"{what}, got {layer_sizes!r}")
    return [int(n) for n in sizes]


def check_choice(name, value, choices):
    """``value`` if it is one of ``choices``, else ValueError naming the parameter."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_count(name, value, minimum=0):
    """An int >= ``minimum`` (bools and floats refused), else ValueError naming ``name``."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer))
            or value < minimum):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_seed(seed):
    """An int seed (bools refused)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r}")
    return int(seed)


def _quantity(name, value, unit, unit_name):
    """Return ``value`` as a float array in SI units after checking its dimensions."""
    dim = get_dimensions(unit)
    if isinstance(value, Quantity):
        if value.dim is not dim:
            raise UnitError(
                f"{name} must be a quantity in {unit_name}, got {value!r} "
                f"(dimensions {value.dim})"
            )
        arr = np.asarray(value, dtype=float)
    elif dim is DIMENSIONLESS and (
        isinstance(value, numbers.Real) or isinstance(value, (np.ndarray, list, tuple))
    ):
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    else:
        raise UnitError(
            f"{name} must be a quantity in {unit_name} (e.g. {name}=10*{unit_name}), "
            f"got {value!r} without units"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return arr


def as_time(name, value, *, positive=True, allow_zero=False):
    """Float (s) or array (s) of a time quantity; checks the sign."""
    arr = _quantity(name, value, second, "ms")
    if positive and allow_zero and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 ms, got {value!r}")
    if positive and not allow_zero and np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0 ms, got {value!r}")
    return arr


def as_rate(name, value):
    """Float or array in Hz (>= 0)."""
    arr = _quantity(name, value, 1 / second, "Hz")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 Hz, got {value!r}")
    return arr


def as_dimensionless(name, value, *, nonnegative=False):
    """``value`` as a dimensionless float array; UnitError for a dimensioned value,
    ValueError for a negative one where ``nonnegative``."""
    arr = _quantity(name, value, 1, "dimensionless units")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return arr


#: Magnitude beyond which a network value counts as diverging (and an input or parameter
#: is refused before a run): far beyond any sensible potential, rate or weight.
DIVERGENCE_BOUND = 1e9


def as_matrix(name, value, shape, *, what="array", bound=DIVERGENCE_BOUND):
    """Finite float64 array of exactly ``shape`` (``None`` entries match any size) with
    every magnitude <= ``bound`` (None: no bound), else an error naming ``name``."""
    if isinstance(value, Quantity) and not value.is_dimensionless:
        raise UnitError(f"{name} must be dimensionless, got units {value.dim}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a numeric {what} of shape {_fmt(shape)}") from None
    if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        raise ValueError(f"{name} must have shape {_fmt(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} contains NaN or infinite values (first at index {tuple(bad)})")
    if bound is not None and arr.size and np.abs(arr).max() > bound:
        worst = np.unravel_index(np.abs(arr).argmax(), arr.shape)
        raise ValueError(f"{name} must lie within +-{bound:g} (beyond it a network value "
                         f"counts as diverging), found {arr[worst]:g} at index {worst}")
    return arr


def _fmt(shape):
    return "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"


def steps_of(name, duration, dt):
    """Number of steps of ``dt`` in ``duration``; error unless an integer multiple."""
    arr = as_time(name, duration)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single time (e.g. 1*ms), got shape {arr.shape}")
    d = float(arr)
    steps = int(round(d / dt))
    if steps < 1 or abs(steps * dt - d) > 1e-9 * d:
        raise ValueError(
            f"{name} must be a positive integer multiple of dt = {dt * 1e3:g} ms, "
            f"got {d * 1e3:g} ms"
        )
    return steps


def per_neuron(name, value, sizes, convert):
    """Expand a scalar, or one value per layer (each scalar or one per neuron), to a
    list of arrays, one per layer, of the layers' sizes."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(sizes):
            raise ValueError(
                f"{name} must be a scalar or a list with one entry per layer "
                f"({len(sizes)}), got {len(value)} entries"
            )
        out = []
        for k, (v, n) in enumerate(zip(value, sizes)):
            arr = convert(f"{name}[{k}]", v)
            if arr.ndim == 0:
                arr = np.full(n, float(arr))
            elif arr.shape != (n,):
                raise ValueError(f"{name}[{k}] must be a scalar or have shape ({n},), "
                                 f"got {arr.shape}")
            out.append(arr)
        return out
    arr = convert(name, value)
    if arr.ndim != 0:
        raise ValueError(
            f"{name} must be a scalar or a list with one entry per layer, got shape {arr.shape}"
        )
    return [np.full(n, float(arr)) for n in sizes]


def as_conductance(name, value):
    """A scalar conductance (1/ms, Hz-dimensioned) as a float array in SI units; a
    UnitError naming ``name`` otherwise."""
    try:
        arr = as_rate(name, value)
    except TypeError:
        raise UnitError(f"{name} must be a conductance in 1/ms (Hz-dimensioned), e.g. "
                        f"{name}=0.1/ms, got {value!r}") from None
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar conductance (1/ms), got shape {arr.shape}")
    return arr


def as_flags(name, value, n):
    """A bool or one bool per pattern as a bool array of length ``n`` (a copy)."""
    arr = np.asarray(value)
    if arr.dtype != bool:
        raise TypeError(f"{name} must be a bool or an array of bool with one entry per "
                        f"pattern ({n}), got dtype {arr.dtype}")
    if arr.ndim == 0:
        return np.full(n, bool(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one entry per pattern ({n},), got {arr.shape}")
    return arr.copy()
