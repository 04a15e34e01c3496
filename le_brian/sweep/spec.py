"""Sweep specifications: a protocol, fixed parameters and a grid (product and zip axes),
read from TOML or YAML and checked against the protocol's parameter table before anything
runs.

A specification file::

    protocol = "bars"          # bars | mimic | train | python:<module>:<function>
    retries = 1                # optional: extra attempts of a failed point
    out = "sweeps/bars"        # optional: the sweep folder (the CLI's --out wins)

    [fixed]                    # every point
    epochs = 50
    device = "cpp_standalone"

    [grid]                     # the product of these axes
    presentation_time = ["0.3 ms", "1 ms", "10 ms"]
    mode = ["le", "original"]
    seed = [12354, 12355]

    [zip]                      # optional: axes of equal length that vary together
                               # (their points are combined with the grid's product)

Times and rates are strings with a unit (``"10 ms"``, ``"2 kHz"``) and become Brian2
Quantities; a number where a unit is required, or a unit of the wrong dimension, is an
error naming the parameter. Point ids are made from the checked values, so ``"1 ms"`` and
``"1000 us"`` are one point: a grid that names one point twice is refused.

The grid's size is the product of its axes' lengths (times the zip axes' length); it is
counted before any point is made, and a grid of more than ``max_points`` points
(default `DEFAULT_MAX_POINTS`, or ``$LE_BRIAN_MAX_POINTS``; ``le-brian sweep
--max-points``) is refused.

Nothing of the user's code runs while a specification is checked: a ``model`` that is a
``.py`` file is checked to exist (it is executed where the point runs), and a
``python:<module>:<function>`` protocol's module is found, not imported (it is imported
on the workers).
"""

import hashlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from brian2 import Hz, Quantity, ms, second

from ..params import ParameterError
from ..params import parse_quantity as _parse_quantity

__all__ = ["SweepSpec", "Point", "load_spec", "parse_quantity", "SpecError",
           "DEFAULT_MAX_POINTS", "SCHEDULER_TIMEOUT_S", "max_points_limit"]

#: The most points a sweep may have unless allowed more (``max_points``,
#: ``$LE_BRIAN_MAX_POINTS``, ``le-brian sweep --max-points``).
DEFAULT_MAX_POINTS = 10_000
#: How long connecting to a Dask ``scheduler`` address may take before a sweep gives up
#: (seconds).
SCHEDULER_TIMEOUT_S = 5


class SpecError(ValueError):
    """A sweep specification that cannot run (names the file and the entry)."""


def max_points_limit(value=None):
    """The largest grid allowed: ``value``, else ``$LE_BRIAN_MAX_POINTS``, else
    `DEFAULT_MAX_POINTS`; ValueError naming the setting for anything but an int >= 1."""
    name = "max_points" if value is not None else "LE_BRIAN_MAX_POINTS"
    raw = value if value is not None else os.environ.get("LE_BRIAN_MAX_POINTS",
                                                         DEFAULT_MAX_POINTS)
    try:
        limit = int(str(raw).replace("_", ""))
    except ValueError:
        limit = 0
    if isinstance(raw, (bool, float)) or limit < 1:
        raise ValueError(f"{name} must be an int >= 1, got {raw!r}")
    return limit


def parse_quantity(name, value, unit):
    """``"10 ms"`` -> 10*ms (`le_brian.params.parse_quantity`, the one reader of text
    forms), with a SpecError naming ``name`` for a value it refuses."""
    try:
        return _parse_quantity(name, value, unit)
    except ParameterError as err:
        raise SpecError(f"parameter {err}") from None


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its parameters (checked, Quantities where they have units)
    and ``id``, a folder name derived from them (stable across invocations)."""

    params: dict
    id: str

    @staticmethod
    def make(params, text, varying):
        """``id``: the varied parameters' values (readable) and a hash of every value."""
        digest = hashlib.sha256(json.dumps(text, sort_keys=True).encode()).hexdigest()[:10]
        readable = "_".join(f"{k}={text[k]}" for k in varying)
        readable = re.sub(r"[^A-Za-z0-9=._-]+", "", readable.replace(" ", ""))[:80]
        return Point(params, f"{readable}-{digest}")


@dataclass
class SweepSpec:
    """A checked sweep: ``protocol`` (a `le_brian.sweep.protocols.Protocol`), ``fixed``
    and ``grid`` / ``zip`` (raw values as written), ``retries``, ``out``, ``source``."""

    protocol: object
    fixed: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    zip: dict = field(default_factory=dict)
    retries: int = 0
    out: str = None
    source: str = "<dict>"

    def size(self):
        """The number of points, counted from the axes' lengths (nothing is made)."""
        n = math.prod(len(v) for v in self.grid.values())
        return n * (len(next(iter(self.zip.values()))) if self.zip else 1)

    def points(self):
        """Every point, in grid order (product axes, then zip rows).

        Raises
        ------
        SpecError
            Two points with equal checked values (``"1 ms"`` and ``"1000 us"``)."""
        names = list(self.grid)
        product = itertools.product(*(self.grid[n] for n in names)) if names else [()]
        zipped = list(zip(*self.zip.values())) if self.zip else [()]
        points, seen = [], {}
        for values in product:
            for row in zipped:
                raw = {**self.fixed, **dict(zip(names, values)), **dict(zip(self.zip, row))}
                params = self.protocol.check(raw, self.source)
                # the id from the checked values: "1 ms" and "1000 us" are one point
                point = Point.make(params, _plain(params), self.varying())
                if point.id in seen:
                    first = seen[point.id]
                    differ = ", ".join(f"{k}: {first[k]!r} and {raw[k]!r}" for k in raw
                                       if repr(first[k]) != repr(raw[k]))
                    raise SpecError(f"{self.source}: two points are the same point "
                                    f"{point.id} ({differ or 'repeated values'} are equal "
                                    f"values); give each value of an axis once")
                seen[point.id] = raw
                points.append(point)
        return points

    def varying(self):
        """Names of the parameters that vary across points (grid then zip)."""
        return [*self.grid, *self.zip]

    def as_dict(self):
        return {"protocol": self.protocol.name, "fixed": _plain(self.fixed),
                "grid": _plain(self.grid), "zip": _plain(self.zip), "retries": self.retries,
                "source": self.source}


def _plain(value):
    """JSON-able form of spec values (Quantities as strings with their unit)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Quantity):
        # 12 significant digits: equal values spelled differently ("1 ms", "1000 us",
        # "0.001 s") give one text, values that differ in the 7th digit stay apart
        unit, name = (ms, "ms") if value.dim == second.dim else (Hz, "Hz")
        return f"{float(value / unit):.12g} {name}"
    return value


def _read(path):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep specification {path} not found")
    text = path.read_text()
    if path.suffix == ".toml":
        import tomllib

        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise SpecError(f"{path}: not valid TOML ({err})") from None
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ImportError("YAML sweep files need PyYAML (in the 'sweep' extra): pip "
                              "install 'le_brian[sweep]'") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise SpecError(f"{path}: not valid YAML ({err})") from None
        if not isinstance(data, dict):
            raise SpecError(f"{path}: expected a mapping at the top level")
        return data
    raise SpecError(f"{path}: a sweep specification is a .toml or .yaml file")


def load_spec(spec, max_points=None):
    """A `SweepSpec` from a file (``.toml``, ``.yaml``), a dict of the same structure, or
    a `SweepSpec` (returned as is). Every point is checked against the protocol's
    parameter table here, before anything runs; no code of the user's runs here.

    Parameters
    ----------
    spec : path, dict or SweepSpec
    max_points : int, optional
        The largest grid allowed (default `max_points_limit` ()).

    Raises
    ------
    SpecError
        Naming the file and the entry: unknown top-level key or protocol, unknown
        parameter, an empty grid axis, zip axes of unequal length, a parameter both fixed
        and varied, a value of the wrong type or unit, one point given twice, more
        points than ``max_points`` (counted before any point is made).
    """
    from .protocols import get_protocol

    if isinstance(spec, SweepSpec):
        return spec
    source = "<dict>"
    if isinstance(spec, (str, Path)):
        source = str(spec)
        spec = _read(spec)
    if not isinstance(spec, dict):
        raise TypeError(f"spec must be a path, a dict or a SweepSpec, got {type(spec).__name__}")
    unknown = set(spec) - {"protocol", "fixed", "grid", "zip", "retries", "out"}
    if unknown:
        raise SpecError(f"{source}: unknown entries {sorted(unknown)}; expected protocol, "
                        "fixed, grid, zip, retries, out")
    if "protocol" not in spec:
        raise SpecError(f"{source}: no protocol given (protocol = \"bars\", ...)")
    protocol = get_protocol(spec["protocol"], source)
    tables = {}
    for key in ("fixed", "grid", "zip"):
        value = spec.get(key, {})
        if not isinstance(value, dict):
            raise SpecError(f"{source}: [{key}] must be a table of parameters")
        tables[key] = dict(value)
    for key in ("grid", "zip"):
        for name, values in tables[key].items():
            if not isinstance(values, list):
                raise SpecError(f"{source}: {key}.{name} must be a list of values")
            if not values:
                raise SpecError(f"{source}: {key}.{name} is empty: the grid has no points")
    lengths = {len(v) for v in tables["zip"].values()}
    if len(lengths) > 1:
        raise SpecError(f"{source}: the zip axes must have equal lengths, got "
                        f"{ {k: len(v) for k, v in tables['zip'].items()} }")
    names = [n for t in tables.values() for n in t]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise SpecError(f"{source}: {twice} given more than once (fixed, grid and zip "
                        "exclude each other)")
    if not tables["grid"] and not tables["zip"]:
        raise SpecError(f"{source}: the grid is empty (give [grid] or [zip] axes)")
    retries = spec.get("retries", 0)
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise SpecError(f"{source}: retries must be a non-negative int, got {retries!r}")
    out = spec.get("out")
    if out is not None and not isinstance(out, str):
        raise SpecError(f"{source}: out must be a folder name, got {out!r}")
    result = SweepSpec(protocol, tables["fixed"], tables["grid"], tables["zip"], retries, out,
                       source)
    limit = max_points_limit(max_points)
    if result.size() > limit:
        axes = " x ".join(f"{n} ({len(v)})" for n, v in {**tables["grid"]}.items())
        if tables["zip"]:
            axes += f" x zip ({len(next(iter(tables['zip'].values())))})"
        raise SpecError(f"{source}: the grid has {result.size():,} points ({axes}), more than "
                        f"the limit of {limit:,} (max_points; le-brian sweep --max-points N "
                        f"or LE_BRIAN_MAX_POINTS to allow more)")
    result.points()  # every point checked now
    return result
