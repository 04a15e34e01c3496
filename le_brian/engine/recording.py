"""What a run records: parsing ``record`` / ``record_neurons`` against a network's table
of recordable variables, and the monitors of states and weights (a mixin of
`le_brian.engine.network.BaseNetwork`)."""

import numpy as np
from brian2 import Clock, StateMonitor

__all__ = ["RecordingMixin", "monitor_clock", "weight_monitor", "weight_monitor_indices",
           "kernel_monitors"]


def monitor_clock(dt, name):
    """The clock of a monitor recording every ``dt``, named ``<name>_clock``: Brian2
    would name it ``<name>_clock``, ``<name>_clock_1``, ... in creation order, and the
    name is part of the arrays (and result files) of the generated program."""
    return Clock(dt, name=f"{name}_clock")


class RecordingMixin:
    """Record parsing of `BaseNetwork` (uses the hooks ``recordable``,
    ``projections_shapes``, ``kernel_shapes``, ``populations`` and
    ``_population_key``)."""

    def kernel_shapes(self):
        """``{projection: (O, C, kh, kw)}`` of the projections with a shared kernel
        (convolutions), whose kernel ``w`` and bias ``b`` live in the groups
        ``kernel{l}`` and ``bias{l}`` of projection ``proj{l}``; none by default."""
        return {}

    def _parse_record(self, record, default):
        """``record`` -> (``{population: [variables]}``, ``{projection: (post, pre)
        pairs}``), checked against `recordable` and `projections_shapes`."""
        if record is None:
            record = default
        if not isinstance(record, dict):
            raise TypeError("record must be a dict {population: [variables], projection: "
                            f"True or [(post, pre), ...]}}, got {type(record).__name__}")
        table, shapes = self.recordable(), self.projections_shapes()
        kernels = self.kernel_shapes()
        rec, wrec = {}, {}
        for key, value in record.items():
            pop = self._population_key(key)
            if pop in table:
                names = [value] if isinstance(value, str) else value
                if not isinstance(names, (list, tuple, set)):
                    raise TypeError(f"record[{key!r}] must be a variable name or a list of "
                                    f"them ({table[pop]}), got {value!r}")
                for n in names:
                    if n not in table[pop]:
                        raise ValueError(f"record: unknown variable {n!r} of {key!r}; "
                                         f"expected one of {table[pop]}")
                if names:
                    rec[pop] = sorted(set(rec.get(pop, [])) | set(names))
            elif key in shapes:
                wrec[key] = _synapse_pairs(key, value, shapes[key])
            elif key in kernels:
                wrec[key] = _kernel_entries(key, value, kernels[key])
            else:
                raise ValueError(f"record: unknown key {key!r}; populations {sorted(table)}, "
                                 f"projections {sorted(shapes) + sorted(kernels)}")
        return rec, wrec

    def _parse_record_neurons(self, record_neurons, rec, whole):
        """``record_neurons`` (``{population: neuron indices}``) -> ``{population:
        sorted unique int array}`` for populations in ``rec``; the others (and every
        population when None) are recorded whole. ``whole``: the population the
        read-out comes from, which is always recorded whole."""
        if record_neurons is None:
            return {}
        if not isinstance(record_neurons, dict):
            raise TypeError("record_neurons must be a dict {population: neuron indices}, "
                            f"got {type(record_neurons).__name__}")
        sizes, out = self.populations(), {}
        for key, value in record_neurons.items():
            pop = self._population_key(key)
            if pop not in sizes:
                raise ValueError(f"record_neurons: unknown population {key!r}; populations "
                                 f"{sorted(sizes)}")
            if pop == whole:
                raise ValueError(f"record_neurons: the output population {key!r} is always "
                                 "recorded whole (result.output)")
            if pop not in rec:
                raise ValueError(f"record_neurons[{key!r}]: {key!r} records no variable; "
                                 f"add it to record= as well")
            arr = np.asarray(value)
            if (arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu"
                    or np.any(arr < 0) or np.any(arr >= sizes[pop])):
                raise ValueError(f"record_neurons[{key!r}] must be a non-empty 1D array of "
                                 f"neuron indices in 0..{sizes[pop] - 1}, got {value!r}")
            if len(np.unique(arr)) != arr.size:
                raise ValueError(f"record_neurons[{key!r}] repeats a neuron: {value!r}")
            out[pop] = np.sort(arr).astype(int)
        return out

    def _recorded_neurons(self, info):
        """``{population: indices}`` of every population with recorded states."""
        sizes, chosen = self.populations(), info.get("neurons", {})
        return {p: chosen.get(p, np.arange(sizes[p])) for p in info.get("rec", {})}


def _index_rows(key, value, shape, names, whole, every):
    """``True`` (``every``: all index rows of ``shape``) or a list of integer index rows
    named ``names`` (e.g. ``"(post, pre)"``) within ``shape``, as an (n, len(shape)) int
    array; ``whole`` names what True records in the error messages."""
    if value is True:
        return every
    if value is False or value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"record[{key!r}] must be True ({whole}) or a list of {names} "
                        f"index rows, got {value!r}")
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(int)
    if (arr.dtype.kind not in "iu" or arr.size == 0 or arr.ndim != 2
            or arr.shape[1] != len(shape)):
        raise ValueError(f"record[{key!r}] must be True or a non-empty list of {names} "
                         f"integer index rows (shape {tuple(shape)}), got {value!r}")
    if np.any(arr < 0) or np.any(arr >= np.asarray(shape)):
        raise ValueError(f"record[{key!r}]: {names} rows must lie within the shape "
                         f"{tuple(shape)}, got {value!r}")
    return arr.astype(int)


def _synapse_pairs(key, value, shape):
    """``True`` (every synapse) or (post, pre) integer pairs within ``shape``
    ``(n_post, n_pre)``, as an (n, 2) int array (every synapse: pre-major order)."""
    n_post, n_pre = shape
    every = (np.array([(j, i) for i in range(n_pre) for j in range(n_post)], dtype=int)
             if value is True else None)
    return _index_rows(key, value, shape, "(post, pre)", "every synapse", every)


def _kernel_entries(key, value, shape):
    """``True`` (every kernel entry) or (o, c, i, j) integer entries within ``shape``
    ``(O, C, kh, kw)``, as an (n, 4) int array."""
    every = np.argwhere(np.ones(shape, dtype=bool)).astype(int) if value is True else None
    return _index_rows(key, value, shape, "(o, c, i, j)", "the whole kernel", every)


def kernel_monitors(groups, proj, entries, shape, dt):
    """StateMonitors (when='end', every ``dt``) of the kernel entries ``entries``
    ((n, 4) array of (o, c, i, j)) of projection ``proj`` (``'proj{l}'``: group
    ``kernel{l}``, entry index ``((o C + c) kh + i) kw + j``) and of every bias of its
    group ``bias{l}``: ``{'proj:<proj>': ..., 'bias:<proj>': ...}``."""
    layer = proj[len("proj"):]
    name = f"monitor_{proj}"
    flat = np.ravel_multi_index(tuple(entries.T), shape)
    return {f"proj:{proj}": StateMonitor(groups[f"kernel{layer}"], "w", record=flat,
                                         when="end", clock=monitor_clock(dt, name),
                                         name=name),
            f"bias:{proj}": StateMonitor(groups[f"bias{layer}"], "b", record=True,
                                         when="end", clock=monitor_clock(dt, f"{name}_bias"),
                                         name=f"{name}_bias")}


def weight_monitor(synapses, variable, indices, dt, name):
    """A StateMonitor of synaptic weights at ``indices`` (when='end'). le_brian checks
    the indices against the all-to-all layout itself (`_synapse_pairs`); Brian2 cannot
    in standalone mode before the synapses exist, and would warn that it cannot."""
    from brian2.utils.logger import catch_logs

    with catch_logs():  # "Cannot check whether the indices to record from are valid"
        return StateMonitor(synapses, variable, record=indices, when="end",
                            clock=monitor_clock(dt, name), name=name)


def weight_monitor_indices(pairs, n_post):
    """Synapse indices (pre-major layout k = pre * n_post + post) of (post, pre) pairs."""
    return pairs[:, 1] * n_post + pairs[:, 0]
