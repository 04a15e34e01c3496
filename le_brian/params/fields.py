"""Typed parameter fields: one place for a parameter's unit, default, check and doc, and
the one text form of Quantities (``"10 ms"``, ``"2 kHz"``, ``"0.03 / ms"``) used by run
folders, the command line and sweep specifications."""

import math
import re
from dataclasses import dataclass

import numpy as np
from brian2 import Hz, Quantity, kHz, ms, second, us
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions

from ..engine.validation import UnitError

__all__ = ["Field", "UNITS", "parse_quantity", "format_quantity", "ParameterError",
           "ParameterTypeError", "ParameterUnitError"]

#: Unit names a text form may use.
UNITS = {"s": second, "second": second, "ms": ms, "us": us, "Hz": Hz, "kHz": kHz}

_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")
_TOKEN = re.compile(r"\s*(?:(\*\*|\^)|([*/()])|(\d+(?:\.\d*)?)|([A-Za-z_]\w*))")


class ParameterError(ValueError):
    """A parameter value that cannot be used (names the parameter and what it expects)."""


class ParameterTypeError(ParameterError, TypeError):
    """A value of the wrong type (a number where true or false is expected): a
    `ParameterError` (ValueError) and a TypeError."""


class ParameterUnitError(ParameterError, UnitError):
    """A parameter value without its unit or with a unit of other dimensions: a
    `ParameterError` (ValueError) and le_brian's `UnitError` (a
    `brian2.DimensionMismatchError` and a TypeError), as Brian2 users expect."""

    def __init__(self, message):
        UnitError.__init__(self, message)


def _unit_expression(text, name):
    """The Quantity of a unit expression such as ``ms``, ``/ ms``, ``ms**0.5``."""
    expr, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ParameterError(f"{name}: cannot read the unit {text!r}")
        power, op, number, word = m.groups()
        if word is not None and word not in UNITS:
            raise ParameterError(f"{name}: unknown unit {word!r} in {text!r} (known: "
                                 f"{', '.join(sorted(UNITS))})")
        expr.append("**" if power else op or number or word)
        pos = m.end()
    source = "".join(expr)
    if source.startswith(("/", "*")):
        source = "1" + source
    try:
        return eval(source, {"__builtins__": {}}, dict(UNITS))  # tokens checked above
    except Exception:  # noqa: BLE001 - any malformed expression
        raise ParameterError(f"{name}: cannot read the unit {text!r}") from None


def parse_quantity(name, value, unit, unit_text=None):
    """``"10 ms"`` -> ``10*ms``, checked to have ``unit``'s dimensions.

    Parameters
    ----------
    name : str
        The parameter (named in errors).
    value : str or Quantity
        A number followed by a unit expression (``"10 ms"``, ``"2 kHz"``,
        ``"0.03 / ms"``, ``"0.01 ms**0.5"``), or a Quantity (checked the same way).
    unit : Quantity
        Any value of the expected dimensions.
    unit_text : str, optional
        How messages write the unit (default: ms, Hz, / ms, ... by dimensions).

    Returns
    -------
    Quantity

    Raises
    ------
    ParameterError
        A value without a unit, an unknown unit, or one of other dimensions.

    Examples
    --------
    >>> from brian2 import ms
    >>> parse_quantity("tau_m", "10 ms", ms)
    10. * msecond
    """
    dim = get_dimensions(unit)
    shown = unit_text or _display_unit(unit)
    if isinstance(value, Quantity) or (isinstance(value, np.ndarray) and dim is DIMENSIONLESS):
        q = value
    else:
        m = _NUMBER.match(value) if isinstance(value, str) else None
        if m is None or (not m.group(2) and dim is not DIMENSIONLESS):
            raise ParameterUnitError(
                f"{name}: expected a value with a unit such as "
                f"{format_quantity(1 * unit, shown)!r}, got {value!r}")
        q = float(m.group(1)) * (_unit_expression(m.group(2), name) if m.group(2) else 1)
    if get_dimensions(q) is not dim:
        kind = "conductance" if shown == "/ ms" else _kind(dim)
        got = str(value) if isinstance(value, Quantity) else repr(value)
        raise ParameterUnitError(f"{name}: expected a {kind}, got {got} (a value in "
                                 f"{shown}; its dimensions are {get_dimensions(q)})")
    return q


def _kind(dim):
    return {second.dim: "time", Hz.dim: "rate",
            (second ** 0.5).dim: "noise density"}.get(dim, f"quantity of dimensions {dim}")


def _display_unit(unit):
    dim = get_dimensions(unit)
    for text, u in (("ms", ms), ("Hz", Hz), ("/ ms", 1 / ms), ("ms**0.5", ms ** 0.5),
                    ("s", second)):
        if get_dimensions(u) is dim:
            return text
    return str(dim)


def format_quantity(q, unit_text):
    """The text form of Quantity ``q`` in the unit ``unit_text`` (``"ms"``, ``"Hz"``,
    ``"/ ms"``, ``"ms**0.5"``): the shortest number that `parse_quantity` reads back to
    the same float."""
    unit = _unit_expression(unit_text, "unit")
    number, target = float(q / unit), float(q)
    for digits in range(1, 18):
        candidate = float(f"{number:.{digits}g}")
        if float(candidate * unit) == target:
            break
    else:
        candidate = number
    text = repr(candidate)
    return f"{text[:-2] if text.endswith('.0') else text} {unit_text}"


@dataclass(frozen=True)
class Field:
    """One parameter: its name, default, unit (Quantity fields) or plain type, check and
    one-line doc.

    Parameters
    ----------
    name : str
    default : object
        Quantity for Quantity fields; None where ``optional``.
    doc : str
        One line, shown by ``--help`` and in the API reference.
    unit : str, optional
        The unit of a Quantity field as written in the text form (``"ms"``, ``"Hz"``,
        ``"/ ms"``, ``"ms**0.5"``).
    kind : {'float', 'int', 'bool', 'str', 'ints', 'dict', 'any'}
        Type of a plain field (ignored for Quantity fields).
    choices : tuple, optional
        Allowed values of a plain field.
    low, high : float, optional
        Bounds (SI units for Quantities); ``low_open``: ``> low`` instead of ``>= low``.
    optional : bool
        None is allowed.
    per_layer : bool
        One value or a list (one per layer).
    pair : bool
        Exactly two values (a range).
    """

    name: str
    default: object
    doc: str
    unit: str = None
    kind: str = "float"
    choices: tuple = None
    low: float = None
    low_open: bool = True
    high: float = None
    optional: bool = False
    per_layer: bool = False
    pair: bool = False

    # ------------------------------------------------------------------ checks
    @property
    def quantity_unit(self):
        """The Brian2 unit of a Quantity field (None for plain fields)."""
        return None if self.unit is None else _unit_expression(self.unit, self.name)

    def expects(self):
        """What the field takes, in words."""
        if self.unit is not None:
            what = f"a value in {self.unit}"
        elif self.choices is not None:
            what = f"one of {list(self.choices)}"
        else:
            what = {"float": "a number", "int": "an integer", "bool": "true or false",
                    "str": "a string", "ints": "a list of positive integers",
                    "dict": "a table of options", "any": "a value"}[self.kind]
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>' if self.low_open else '>='} {self._bound_text(self.low)}")
        if self.high is not None:
            bounds.append(f"<= {self._bound_text(self.high)}")
        what += (" " + " and ".join(bounds)) if bounds else ""
        if self.per_layer:
            what += " (or a list, one per layer)"
        if self.pair:
            what = f"two values, each {what}"
        return what + (" or null" if self.optional else "")

    def _bound_text(self, value):
        if self.unit is None:
            return f"{value:g}"
        return format_quantity(Quantity(value, dim=get_dimensions(self.quantity_unit)),
                               self.unit)

    def _fail(self, value, why="", type_error=False):
        shown = repr(value)
        if self.unit is not None and isinstance(value, Quantity) and np.ndim(value) == 0:
            shown = format_quantity(value, self.unit)  # in the field's unit, not SI
        error = ParameterTypeError if type_error else ParameterError
        raise error(f"parameter {self.name} must be {self.expects()}, got {shown}{why}")

    def check(self, value):
        """The value in its canonical form (Quantities for Quantity fields; text forms
        parsed), or ParameterError naming the field."""
        if value is None:
            if self.optional:
                return None
            self._fail(value)
        if self.pair:
            if not isinstance(value, (list, tuple)) or len(value) != 2:
                self._fail(value)
            return tuple(self._check_one(v) for v in value)
        if self.per_layer and isinstance(value, (list, tuple)):
            if not value:
                self._fail(value)
            return [self._check_one(v) for v in value]
        return self._check_one(value)

    def check_argument(self, value):
        """`check` for a keyword argument of a network constructor: as `check`, and a
        per-layer Quantity field also takes one array per layer (a value per neuron),
        each element checked (unit, finite, bounds). Returns the checked value."""
        if self.per_layer and self.unit is not None and value is not None:
            if isinstance(value, (list, tuple)) and value:
                return [self._check_array(v) for v in value]
            return self._check_array(value)
        return self.check(value)

    def _check_array(self, value):
        if np.ndim(value) == 0 or isinstance(value, str):
            return self._check_one(value)
        try:
            q = parse_quantity(self.name, value, self.quantity_unit, self.unit)
        except ParameterError as err:
            raise type(err)(f"parameter {err}") from None
        x = np.asarray(q, dtype=float)
        if not np.all(np.isfinite(x)):
            self._fail(value, " (every value finite)")
        if x.size:
            self._bounds(float(x.min()), value)
            self._bounds(float(x.max()), value)
        return q

    def _check_one(self, value):
        if self.unit is not None:
            try:
                q = parse_quantity(self.name, value, self.quantity_unit, self.unit)
            except ParameterError as err:
                raise type(err)(f"parameter {err}") from None
            if np.ndim(q) != 0:
                self._fail(value, " (one value expected)")
            x = float(q)
            if not math.isfinite(x):
                self._fail(value)
            self._bounds(x, value)
            return q
        if self.kind == "any":
            return value
        if self.kind == "dict":
            if not isinstance(value, dict):
                self._fail(value)
            return dict(value)
        if self.kind == "ints":
            if (not isinstance(value, (list, tuple)) or not value
                    or not all(_is_int(n) and n > 0 for n in value)):
                self._fail(value)
            return [int(n) for n in value]
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                self._fail(value, type_error=True)
            return bool(value)
        if self.kind == "str" or self.choices is not None:
            if self.choices is not None and value not in self.choices:
                self._fail(value)
            if not isinstance(value, str):
                self._fail(value)
            return value
        if self.kind == "int":
            if not _is_int(value):
                self._fail(value)
            self._bounds(int(value), value)
            return int(value)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float,
                                                                        np.number)):
            self._fail(value)
        x = float(value)
        if not math.isfinite(x):
            self._fail(value)
        self._bounds(x, value)
        return x

    def _bounds(self, x, value):
        if self.low is not None and (x <= self.low if self.low_open else x < self.low):
            self._fail(value)
        if self.high is not None and x > self.high:
            self._fail(value)

    # ------------------------------------------------------------------ text form
    def to_json(self, value):
        """The JSON form of a checked value (Quantities as text with the field's unit)."""
        if value is None or self.unit is None:
            return list(value) if isinstance(value, tuple) else value
        if isinstance(value, (list, tuple)):
            return [format_quantity(v, self.unit) for v in value]
        return format_quantity(value, self.unit)

    def text(self, value):
        """``value`` as a short human-readable string (``--help``, tables)."""
        j = self.to_json(value)
        if isinstance(j, list):
            return ",".join(str(v) for v in j)
        return "none" if j is None else str(j).lower() if isinstance(j, bool) else str(j)

    @property
    def legacy_name(self):
        """The field's name in run folders of le_brian <= 0.2.0 (unit in the name:
        ``tau_m_ms``, ``r_max_hz``, ``rate_noise_sqrt_ms``), or None."""
        suffix = {"ms": "_ms", "Hz": "_hz", "ms**0.5": "_sqrt_ms"}.get(self.unit)
        return None if suffix is None else self.name + suffix

    @property
    def legacy_unit_doc(self):
        """How `legacy_name` takes its value, in words."""
        return f"{self.name} in {self.unit}, 0.2.0 form"

    def from_legacy(self, value):
        """A value of `legacy_name` (plain numbers in that unit) as the field's value."""
        unit = self.quantity_unit
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            return [_legacy_number(self.legacy_name, v) * unit for v in value]
        return _legacy_number(self.legacy_name, value) * unit


def _legacy_number(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ParameterError(f"parameter {name} must be a number, got {v!r}")
    return float(v)


def _is_int(v):
    if isinstance(v, (bool, np.bool_)):
        return False
    return isinstance(v, (int, np.integer))
