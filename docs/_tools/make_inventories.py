"""Write local Sphinx inventories (``objects.inv``) for the other projects the docs link to.

The build machines reach no documentation site, so intersphinx cannot download the
projects' own ``objects.inv``. This script writes one inventory per project instead, in
Sphinx's version 2 format (four header lines, then zlib-compressed ``name domain:role
priority uri display`` lines), for the names the le_brian docs reference. Every name is
imported from the installed package first, so a misspelt or vanished name fails the build
rather than producing a dead link; its role (class, function, module, data) is read from the
object, and its address follows the page layout of that project's published documentation.

Run by ``docs/conf.py`` at the start of every build; by hand::

    python docs/_tools/make_inventories.py docs/_build/inventories

Adding a link target is one line in ``TARGETS``.
"""

import importlib
import inspect
import sys
import zlib
from pathlib import Path

#: project -> (documentation root, page template, names referenced from the docs).
#: A name is either a dotted path, whose page follows the template (which receives
#: ``canonical``, the object's own ``module.qualname``, and ``section``, the name's second
#: component), or a ``(dotted path, page)`` pair for projects documented on shared pages.
TARGETS = {
    "python": ("https://docs.python.org/3/", None, [
        ("pathlib.Path", "library/pathlib.html#pathlib.Path"),
        ("dataclasses.dataclass", "library/dataclasses.html#dataclasses.dataclass"),
        ("os.PathLike", "library/os.html#os.PathLike"),
        ("datetime.datetime", "library/datetime.html#datetime.datetime"),
    ]),
    "numpy": ("https://numpy.org/doc/stable/", "reference/generated/{canonical}.html#{canonical}", [
        ("numpy.ndarray", "reference/generated/numpy.ndarray.html#numpy.ndarray"),
        ("numpy.random.Generator", "reference/random/generator.html#numpy.random.Generator"),
        ("numpy.random.RandomState", "reference/random/legacy.html#numpy.random.RandomState"),
    ]),
    "brian2": ("https://brian2.readthedocs.io/en/stable/",
               "reference/{canonical}.html#{canonical}", [
        "brian2.NeuronGroup", "brian2.Synapses", "brian2.Network", "brian2.StateMonitor",
        "brian2.SpikeMonitor", "brian2.PoissonGroup", "brian2.Equations", "brian2.TimedArray",
        "brian2.NetworkOperation", "brian2.Quantity", "brian2.units.fundamentalunits.Quantity",
        "brian2.set_device", "brian2.Subgroup", "brian2.Clock",
        "brian2.groups.group.CodeRunner", "brian2.units.fundamentalunits.DimensionMismatchError",
        "brian2.synapses.synapses.Synapses",
    ]),
    "matplotlib": ("https://matplotlib.org/stable/", None, [
        ("matplotlib.figure.Figure",
         "api/_as_gen/matplotlib.figure.Figure.html#matplotlib.figure.Figure"),
        ("matplotlib.axes.Axes", "api/_as_gen/matplotlib.axes.Axes.html#matplotlib.axes.Axes"),
    ]),
    "neo": ("https://neo.readthedocs.io/en/stable/", None, [
        (name, f"api_reference.html#neo.core.{name.rsplit('.', 1)[1]}")
        for name in ("neo.core.SpikeTrain", "neo.core.Block", "neo.core.Segment",
                     "neo.core.AnalogSignal", "neo.core.Epoch", "neo.SpikeTrain", "neo.Block")
    ]),
    "elephant": ("https://elephant.readthedocs.io/en/stable/",
                 "reference/_toctree/{section}/{canonical}.html#{canonical}", [
        "elephant.statistics.mean_firing_rate", "elephant.statistics.isi",
        "elephant.statistics.cv", "elephant.statistics.fanofactor",
        "elephant.spike_train_correlation.correlation_coefficient",
    ]),
    "pynwb": ("https://pynwb.readthedocs.io/en/stable/", None, [
        ("pynwb.NWBFile", "pynwb.file.html#pynwb.file.NWBFile"),
        ("pynwb.file.NWBFile", "pynwb.file.html#pynwb.file.NWBFile"),
        ("pynwb.NWBHDF5IO", "pynwb.html#pynwb.NWBHDF5IO"),
    ]),
    "dask": ("https://distributed.dask.org/en/stable/", None, [
        (name, f"api.html#distributed.{name.rsplit('.', 1)[1]}")
        for name in ("dask.distributed.Client", "dask.distributed.LocalCluster",
                     "distributed.Client", "distributed.LocalCluster")
    ]),
}

HEADER = "# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n" \
         "# The remainder of this file is compressed using zlib.\n"


def resolve(dotted):
    """Import ``dotted`` (``package.module.Object``) and return the object.

    Raises
    ------
    ImportError
        If no prefix of ``dotted`` imports or the attribute path does not exist.
    """
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                raise ImportError(f"cannot import {dotted!r}: {attr!r} is not in {obj!r}")
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot import {dotted!r}")


def role_of(obj):
    """The Sphinx Python-domain role of ``obj``."""
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    if callable(obj):
        return "function"
    return "data"


def canonical_name(obj, written):
    """The dotted path the project's own documentation uses for ``obj``."""
    if inspect.ismodule(obj):
        return obj.__name__
    module = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None)
    if module and qual and (inspect.isclass(obj) or inspect.isfunction(obj)):
        return f"{module}.{qual}"
    return written


def entries(project):
    """The inventory lines for one project of ``TARGETS``: each name as written and, where
    different, under its canonical path, both pointing at the same page."""
    _, template, names = TARGETS[project]
    lines = []
    for item in names:
        written, page = item if isinstance(item, tuple) else (item, None)
        obj = resolve(written)
        role = role_of(obj)
        canonical = canonical_name(obj, written)
        if page is None:
            page = template.format(canonical=canonical, section=written.split(".")[1])
        for name in dict.fromkeys([written, canonical]):
            lines.append(f"{name} py:{role} 1 {page} -")
    return lines


def version_of(project):
    """Installed version of ``project`` (Python's own for ``python``)."""
    if project == "python":
        return f"{sys.version_info.major}.{sys.version_info.minor}"
    top = {"dask": "distributed"}.get(project, project)
    return getattr(importlib.import_module(top), "__version__", "")


def write_all(folder):
    """Write ``folder/<project>.inv`` for every project; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for project in TARGETS:
        body = "\n".join(sorted(set(entries(project)))) + "\n"
        path = folder / f"{project}.inv"
        path.write_bytes(HEADER.format(project=project, version=version_of(project)).encode()
                         + zlib.compress(body.encode()))
        paths[project] = path
    return paths


if __name__ == "__main__":
    for project, path in write_all(sys.argv[1] if len(sys.argv) > 1 else "inventories").items():
        print(project, path)
