"""Sweeps of a protocol over a grid of parameters (seeds x presentation times x any
parameter) on Dask distributed or in this process, resumable, aggregated.

>>> from le_brian import sweep                                     # doctest: +SKIP
>>> result = sweep.run("bars.toml", workers=4)                      # doctest: +SKIP

See `le_brian.sweep.spec` for the specification format, `le_brian.sweep.protocols` for
the protocols and `le_brian.sweep.runner` for how points run and where results go.
"""

from .protocols import PROTOCOLS, get_protocol
from .runner import SweepResult, aggregate, execute_point, run
from .spec import Point, SpecError, SweepSpec, load_spec

__all__ = ["run", "load_spec", "aggregate", "execute_point", "SweepSpec", "SweepResult",
           "Point", "SpecError", "PROTOCOLS", "get_protocol"]
