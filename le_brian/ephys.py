r"""Electrophysiology-facing output: Neo and NWB export of a run, spike-train statistics
with Elephant.

Needs the ``ephys`` extra (``pip install 'le_brian[ephys]'``: neo, elephant, pynwb,
nwbinspector); everything else in le_brian works without it.

* `to_neo` (result) -> ``neo.Block``: one Segment per run, a ``SpikeTrain`` per neuron
  of every spiking population (seconds, the run's t_start / t_stop, annotations:
  population, layer, cell type, unit, neuron), an ``AnalogSignal`` (time x channels) per
  recorded state variable with its sampling period (``array_annotations['neuron']``: the
  recorded neurons), an ``Epoch`` of the presented samples, one ``neo.Group`` per
  population.
* `to_nwb` (result, path) -> an NWB file: a Units table (spike times in seconds,
  ``resolution`` = dt, columns population / layer / cell_type / unit_index), a trials
  table (one trial per sample), recorded states as ``TimeSeries`` in the ``misc``
  processing module, a Subject describing the
  simulated circuit, ``was_generated_by`` le_brian and its version.
* `spike_statistics` (trains, ...) -> per-population firing rates, ISI CV, CV2, LV,
  Fano factors over samples, pairwise correlation coefficients and the PSTH aligned to
  sample onsets, all computed by Elephant.
* `read_nwb_units` (path) -> a recording's (or a simulation's) Units table as neo
  SpikeTrains by group (one per unit and observed interval); `read_nwb_trials` its
  trials; `compare_statistics` (sim, rec) -> the statistics side by side
  with the Kolmogorov-Smirnov distance, the Wasserstein distance and Cohen's d (with
  its confidence interval) of their distributions (`le_brian.ephys_scores`).

Potentials of the model are dimensionless and are exported as such; ``potential_map=(rest,
scale)`` (Quantities in volts, e.g. ``(-70*mV, 10*mV)``) exports ``rest + scale * u``
instead, to overlay a simulation with recordings (a documented linear map, not physiology).
"""

import datetime
import uuid
from pathlib import Path

import numpy as np
from brian2 import mV, second, volt

from .engine.validation import UnitError
from .ephys_scores import STATISTIC_UNITS, STATISTICS, cohens_d, compare_statistics, wasserstein

#: Recorded variables that are membrane or compartment potentials (potential_map applies).
POTENTIALS = ("u", "ub", "w", "v_B", "v_A", "v_I")


def as_voltage(name, value):
    """A scalar voltage Quantity, else UnitError naming ``name``."""
    from brian2 import Quantity

    if not isinstance(value, Quantity) or value.dim != volt.dim or np.ndim(value) != 0:
        raise UnitError(f"potential_map {name} must be a voltage such as -70*mV, got {value!r}")
    return value

__all__ = ["to_neo", "to_nwb", "spike_statistics", "read_nwb_units", "read_nwb_trials",
           "compare_statistics", "population_info", "sample_onsets", "require_ephys",
           "STATISTICS", "STATISTIC_UNITS", "cohens_d", "wasserstein"]


def require_ephys():
    """Import the ephys libraries, or raise ImportError naming the extra to install."""
    try:
        import elephant  # noqa: F401
        import neo  # noqa: F401
        import pynwb  # noqa: F401
        import quantities  # noqa: F401
    except ImportError as err:
        raise ImportError(f"le_brian's ephys export needs the 'ephys' extra ({err.name} is "
                          f"missing): pip install 'le_brian[ephys]'") from None


def population_info(name):
    """``(layer, cell type, compartment names)`` of a population name of either network
    class (``layer2`` -> (2, 'LE unit'); ``pyr1`` -> (1, 'pyramidal'); ``int1`` ->
    (1, 'interneuron'); ``out`` -> ('output', 'output pyramidal'))."""
    if name.startswith("layer"):
        return int(name[5:]), "LE unit"
    if name.startswith("pyr"):
        return int(name[3:]), "pyramidal"
    if name.startswith("int"):
        return int(name[3:]), "interneuron"
    if name == "out":
        return "output", "output pyramidal"
    return "", "unknown"


def sample_onsets(result):
    """``(onsets in seconds, presentation time in seconds)`` of a run's samples."""
    period = float(result.presentation_time / second)
    return float(result.t_start / second) + period * np.arange(result.n_samples), period


def _neurons(result, population, n_columns):
    """Neuron indices of the recorded columns of ``population``."""
    chosen = getattr(result, "recorded_neurons", {}).get(population)
    return np.arange(n_columns) if chosen is None else np.asarray(chosen)


def _check_result(result):
    if not hasattr(result, "spikes") or getattr(result, "t_start", None) is None:
        raise TypeError(f"expected a le_brian RunResult, got {type(result).__name__}")


def _mapped(values, potential_map, variable):
    """(values, unit string) with the optional linear map to volts for potentials."""
    import quantities as pq

    if potential_map is not None and variable in POTENTIALS:
        rest, scale = (float(as_voltage(name, v) / mV)
                       for name, v in zip(("rest", "scale"), potential_map))
        return rest + scale * np.asarray(values), pq.mV
    return np.asarray(values), pq.dimensionless


def _spike_trains(result, segment_name=""):
    """neo SpikeTrains of every neuron of every spiking population, by population."""
    import neo
    import quantities as pq

    t_start = float(result.t_start / second)
    t_stop = float(result.t_stop / second)
    out = {}
    for pop, s in result.spikes.items():
        layer, cell_type = population_info(pop)
        times = np.asarray(s["t"] / second)
        index = np.asarray(s["i"])
        trains = []
        for j in range(s["n_neurons"]):
            tj = np.sort(times[index == j])
            unit = j // s["n_per_unit"]
            trains.append(neo.SpikeTrain(
                tj * pq.s, t_start=t_start * pq.s, t_stop=t_stop * pq.s,
                name=f"{pop}[{j}]", population=pop, layer=str(layer), cell_type=cell_type,
                neuron=j, unit=unit, segment=segment_name))
        out[pop] = trains
    return out


def to_neo(results, name="le_brian simulation", potential_map=None, description=None):
    """A run (or a list of runs) as a ``neo.Block``.

    Parameters
    ----------
    results : RunResult or list of RunResult
        One Segment per run, in order.
    name : str
    potential_map : (Quantity, Quantity), optional
        ``(rest, scale)`` in volts: potentials exported as ``rest + scale * u`` in mV.
    description : str, optional
        Stored as the Block's description (e.g. the network's parameters).

    Returns
    -------
    neo.Block
        ``block.segments[k].spiketrains`` (one per neuron of every spiking population;
        annotations population, layer, cell_type, neuron, unit), ``analogsignals`` (one
        per recorded state variable and population, time x recorded neurons,
        annotations population, variable, array annotation neuron), ``epochs`` (one
        Epoch ``samples``: onset and duration of every presented sample),
        ``block.groups`` one per population.

    Raises
    ------
    ImportError
        Without the ``ephys`` extra.
    """
    require_ephys()
    import neo
    import quantities as pq

    from . import __version__

    results = results if isinstance(results, (list, tuple)) else [results]
    block = neo.Block(name=name, description=description, generated_by="le_brian",
                      le_brian_version=__version__)
    groups = {}
    for k, result in enumerate(results):
        _check_result(result)
        seg = neo.Segment(name=f"run {k}", index=k)
        for pop, trains in _spike_trains(result, seg.name).items():
            seg.spiketrains.extend(trains)
            groups.setdefault(pop, []).extend(trains)
        if len(result.t):
            period = float(result.record_every_steps * result.dt / second)
            t0 = float(result.t[0] / second)
            for pop, variables in result.states.items():
                for var, values in variables.items():
                    data, unit = _mapped(values, potential_map, var)
                    data = data.reshape(len(data), -1)
                    sig = neo.AnalogSignal(
                        data, units=unit, sampling_period=period * pq.s, t_start=t0 * pq.s,
                        name=f"{pop}.{var}", population=pop, variable=var,
                        array_annotations={"neuron": _neurons(result, pop, data.shape[1])})
                    seg.analogsignals.append(sig)
                    groups.setdefault(pop, []).append(sig)
        onsets, duration = sample_onsets(result)
        seg.epochs.append(neo.Epoch(times=onsets * pq.s,
                                    durations=np.full(len(onsets), duration) * pq.s,
                                    labels=np.array([f"sample {k}" for k in range(len(onsets))]),
                                    name="samples"))
        block.segments.append(seg)
    for pop, objects in groups.items():
        block.groups.append(neo.Group(objects, name=pop))
    block.check_relationships()
    return block


def to_nwb(result, path, session_description="le_brian simulation", network=None,
           potential_map=None, source_script=None, session_start_time=None, labels=None,
           overwrite=False):
    """Write a run as an NWB file (pynwb) and return its path.

    The file is written atomically (a temporary file beside ``path``, renamed when
    complete): an interrupted or failed export leaves no partial file.

    Parameters
    ----------
    result : RunResult
    path : path-like
    session_description : str
    network : LENetwork or Microcircuit, optional
        Its repr and sizes describe the simulated circuit (Subject, description).
    potential_map : (Quantity, Quantity), optional
        As in `to_neo`.
    source_script : str, optional
        The script that produced the run (``source_script`` of the file).
    session_start_time : datetime, optional
        Default: now (UTC).
    labels : array of int (n_samples,), optional
        Class label of every sample (a ``label`` column of the trials table).
    overwrite : bool
        Replace an existing file (default: refuse).

    Raises
    ------
    FileExistsError
        ``path`` exists and not ``overwrite``.
    ValueError
        ``labels`` of the wrong shape; a non-finite spike time.

    Notes
    -----
    Units: one row per neuron of every spiking population (no Units table for a rate
    network, whose recording is its states and trials), spike times in seconds
    (sorted), ``resolution`` = dt, ``obs_intervals`` the run, columns population, layer,
    cell_type, unit_index. Trials: one per presented sample (start / stop time,
    ``sample`` index, ``label``), the alignment of Fano factors and PSTHs. Recorded
    states: ``misc`` processing module, one TimeSeries per population and variable
    (time x recorded neurons, the neuron indices in its description; ``unit``
    'dimensionless' or 'mV'). NWB's guidance for simulations: store outputs, not
    settings; the network's settings go into the descriptions only.
    """
    require_ephys()
    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.file import Subject

    from . import __version__
    from .io import atomic_path, check_overwrite

    _check_result(result)
    check_overwrite(path, overwrite)
    start = session_start_time or datetime.datetime.now(datetime.timezone.utc)
    circuit = repr(network) if network is not None else "a le_brian network"
    nwb = NWBFile(session_description=session_description, identifier=str(uuid.uuid4()),
                  session_start_time=start, was_generated_by=[["le_brian", __version__]],
                  source_script=source_script,
                  source_script_file_name=(str(source_script).rsplit("/", 1)[-1]
                                           if source_script else None),
                  experiment_description=f"Brian2 simulation of {circuit} with le_brian "
                                         f"{__version__} (Latent Equilibrium)",
                  institution="in silico", lab="le_brian")
    # no experimenter / keywords: neo.io.NWBIO (0.14) cannot read list-valued file
    # attributes back (they arrive as datasets it refuses as annotations)
    # NCBI taxonomy 32630: "synthetic construct" (a simulated circuit has no species)
    nwb.subject = Subject(subject_id="simulated-circuit",
                          species="http://purl.obolibrary.org/obo/NCBITaxon_32630",
                          description=f"simulated circuit: {circuit}", sex="U", age="P0D")
    dt = float(result.dt / second)
    t0, t1 = float(result.t_start / second), float(result.t_stop / second)
    if result.spikes:  # a rate network has no units (an empty table has no dtypes)
        nwb.units = _units_table(result, dt, t0, t1)
    onsets, duration = sample_onsets(result)
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (len(onsets),):
            raise ValueError(f"labels must have one entry per sample ({len(onsets)},), got "
                             f"shape {labels.shape}")
    nwb.add_trial_column("sample", "index of the presented sample in the run")
    if labels is not None:
        nwb.add_trial_column("label", "class label of the sample")
    for k, onset in enumerate(onsets):
        extra = {"label": int(labels[k])} if labels is not None else {}
        nwb.add_trial(start_time=onset, stop_time=onset + duration, sample=k, **extra)
    if len(result.t) and result.states:
        module = nwb.create_processing_module("misc", "recorded model states (le_brian)")
        rate = 1.0 / float(result.record_every_steps * result.dt / second)
        for pop, variables in result.states.items():
            for var, values in variables.items():
                data, unit = _mapped(values, potential_map, var)
                neurons = _neurons(result, pop, data.reshape(len(data), -1).shape[1])
                module.add(TimeSeries(
                    name=f"{pop}_{var}", data=data, unit="mV" if str(unit.dimensionality)
                    == "mV" else "dimensionless", rate=rate,
                    starting_time=float(result.t[0] / second),
                    description=f"{var} of {pop} (time x neurons); columns are neurons "
                                f"{neurons.tolist()} of the population"))
    with atomic_path(path, overwrite=overwrite) as tmp:
        with NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)
    return path


def _units_table(result, dt, t0, t1):
    """The NWB Units table of a run's spikes, one row per neuron of every spiking
    population, built as whole columns (the ragged spike_times / obs_intervals columns as
    flat data plus an index of row ends): the cost follows the spikes, not a table row
    added per neuron (a 36,000-neuron recording: ~0.3 s instead of ~25 s)."""
    from hdmf.common import ElementIdentifiers, VectorData, VectorIndex
    from pynwb.misc import Units

    times, ends, pops, layers, cells, unit_index = [], [], [], [], [], []
    offset = 0
    for pop, s in result.spikes.items():
        layer, cell_type = population_info(pop)
        t, i = np.asarray(s["t"] / second, dtype=float), np.asarray(s["i"], dtype=np.int64)
        if not np.isfinite(t).all():
            raise ValueError(f"to_nwb: population {pop!r} has a non-finite spike time")
        n = int(s["n_neurons"])
        order = np.lexsort((t, i))  # by neuron, then time
        times.append(t[order])
        ends.append(offset + np.cumsum(np.bincount(i, minlength=n)))
        offset += len(t)
        pops += [pop] * n
        layers += [str(layer)] * n
        cells += [cell_type] * n
        unit_index.append(np.arange(n) // int(s["n_per_unit"]))
    n_rows = len(pops)
    spike_times = VectorData(name="spike_times", description="the spike times for each unit "
                             "in seconds", data=np.concatenate(times))
    obs = VectorData(name="obs_intervals", description="the observation intervals for each "
                     "unit", data=np.tile([[t0, t1]], (n_rows, 1)))
    columns = [spike_times,
               VectorIndex(name="spike_times_index", data=np.concatenate(ends),
                           target=spike_times),
               obs, VectorIndex(name="obs_intervals_index", data=np.arange(1, n_rows + 1),
                                target=obs)]
    for name, text, data in (
            ("population", "le_brian population", pops),
            ("layer", "layer of the population", layers),
            ("cell_type", "LE unit, pyramidal, interneuron or output pyramidal", cells),
            ("unit_index", "rate unit the neuron belongs to", np.concatenate(unit_index))):
        columns.append(VectorData(name=name, description=text, data=data))
    return Units(name="units", id=ElementIdentifiers(name="id", data=np.arange(n_rows)),
                 columns=columns, resolution=dt,
                 description="neurons of le_brian's spiking populations")


def spike_statistics(trains, sample_onsets=None, sample_duration=None, bin_size=None):
    r"""Elephant statistics of a population's spike trains.

    Parameters
    ----------
    trains : list of neo.SpikeTrain
        One per neuron (e.g. ``to_neo(result).groups[k].spiketrains``), or one per unit
        and observed interval (`read_nwb_units`): nothing is computed across the gap
        between two intervals.
    sample_onsets : array of quantities.Quantity, optional
        Onsets of the samples (trials) for the Fano factor over samples and the PSTH.
    sample_duration : quantities.Quantity, optional
        Duration of a sample (required with ``sample_onsets``).
    bin_size : quantities.Quantity, optional
        Bin of the correlation coefficients (default 5 ms) and of the PSTH (at most a
        tenth of ``sample_duration``).

    Returns
    -------
    dict
        ``rate`` (Hz per train, `elephant.statistics.mean_firing_rate`), ``cv`` (of the
        ISIs), ``cv2``, ``lv`` (per train with >= 3 spikes, NaN otherwise), ``fano``
        (per train: variance / mean of the spike counts in the sample windows that lie
        inside the train, NaN with fewer than 2 windows or no spike),
        ``correlation`` (pairwise coefficients of the binned trains among the trains
        that share t_start and t_stop, upper triangle; NaN for a pair with a silent
        train, where it is undefined: Elephant warns), ``psth`` ((bin starts in s,
        rate in Hz) of the spikes aligned to the sample onsets).

    Raises
    ------
    ValueError
        No trains; ``sample_onsets`` without ``sample_duration``.

    Notes
    -----
    With ISIs :math:`I_i`: :math:`CV = \sigma(I)/\langle I\rangle`,
    :math:`CV_2 = \langle 2|I_{i+1}-I_i|/(I_{i+1}+I_i)\rangle`,
    :math:`LV = \frac{3}{n-1}\sum_i ((I_i-I_{i+1})/(I_i+I_{i+1}))^2`; a Poisson process
    has CV = CV2 = LV = Fano = 1, a gamma process of shape k has CV = 1/sqrt(k) and
    LV = 3/(2k+1).

    Examples
    --------
    >>> import numpy as np, quantities as pq
    >>> from elephant.spike_train_generation import StationaryPoissonProcess
    >>> np.random.seed(0)
    >>> trains = StationaryPoissonProcess(20 * pq.Hz, t_stop=50 * pq.s
    ...                                   ).generate_n_spiketrains(5)
    >>> round(float(spike_statistics(trains)["cv"].mean()), 1)
    1.0
    """
    require_ephys()
    import quantities as pq
    from elephant import statistics
    from elephant.conversion import BinnedSpikeTrain
    from elephant.spike_train_correlation import correlation_coefficient

    if not trains:
        raise ValueError("spike_statistics: no spike trains")
    bin_size = 5 * pq.ms if bin_size is None else bin_size
    out = {"rate": np.array([float(statistics.mean_firing_rate(st).rescale(pq.Hz))
                             for st in trains])}
    for key, fn in (("cv", statistics.cv), ("cv2", statistics.cv2), ("lv", statistics.lv)):
        values = []
        for st in trains:
            isi = statistics.isi(st)
            values.append(float(fn(isi)) if len(isi) >= 2 else np.nan)
        out[key] = np.array(values)
    spans = {}
    for st in trains:
        spans.setdefault((float(st.t_start.rescale(pq.s)), float(st.t_stop.rescale(pq.s))),
                         []).append(st)
    corr = []
    for (t0, t1), same in spans.items():
        if len(same) >= 2 and (t1 - t0) * pq.s >= bin_size:
            c = correlation_coefficient(BinnedSpikeTrain(same, bin_size=bin_size))
            corr.append(c[np.triu_indices(len(same), 1)])
    out["correlation"] = np.concatenate(corr) if corr else np.zeros(0)
    if sample_onsets is not None:
        if sample_duration is None:
            raise ValueError("spike_statistics: sample_duration is needed with sample_onsets")
        onsets = sample_onsets.rescale(pq.s)
        d = sample_duration.rescale(pq.s)
        fano, aligned = [], []
        for st in trains:
            inside = [t for t in onsets if t >= st.t_start and t + d <= st.t_stop]
            pieces = [st.time_slice(t, t + d) for t in inside]
            counts = [len(p) for p in pieces]
            fano.append(float(statistics.fanofactor(pieces))
                        if len(pieces) >= 2 and sum(counts) else np.nan)
            aligned += [p.time_shift(-t) for p, t in zip(pieces, inside)]
        out["fano"] = np.array(fano)
        if aligned:
            for p in aligned:  # the shifted slices span [0, d] exactly
                p.t_start, p.t_stop = 0 * pq.s, d
            psth_bin = min(bin_size.rescale(pq.s), d / 10)
            hist = statistics.time_histogram(aligned, bin_size=psth_bin, t_start=0 * pq.s,
                                             t_stop=d, output="rate")
            out["psth"] = (np.asarray(hist.times.rescale(pq.s)),
                           np.asarray(hist.rescale(pq.Hz).magnitude[:, 0]))
    return out


def _nwb_file(path):
    """(io, nwbfile) of a readable NWB file, else FileNotFoundError / ValueError naming
    it (whatever h5py, hdmf or pynwb raise on a damaged file)."""
    from pynwb import NWBHDF5IO

    if not Path(path).exists():
        raise FileNotFoundError(f"{path} not found (expected an NWB file)")
    io = None
    try:
        io = NWBHDF5IO(str(path), "r")
        return io, io.read()
    except Exception as err:  # noqa: BLE001 (any failure of a damaged file names it)
        if io is not None:
            io.close()
        reason = ("a folder, not a file" if Path(path).is_dir()
                  else f"{type(err).__name__}: {err}")
        raise ValueError(f"{path}: not a readable NWB file ({reason})") from None


def _damaged(path, err):
    return ValueError(f"{path}: damaged NWB file ({type(err).__name__}: {err})")


def _ragged(table, column, n):
    """The ``n`` rows of a ragged (indexed) column of a DynamicTable as arrays, read as
    two whole datasets (flat data, row ends) rather than one read per row."""
    col = table[column]
    ends = np.asarray(col.data[:], dtype=np.int64)
    flat = np.asarray(col.target.data[:], dtype=float)
    if len(ends) != n or (n and (np.any(np.diff(ends) < 0) or ends[-1] > len(flat)
                                 or ends[0] < 0)):
        raise ValueError(f"the index of column {column!r} does not match its {n} rows")
    return np.split(flat, ends[:-1]) if n else []


def read_nwb_units(path, units_column=None):
    """The Units table of an NWB file as neo SpikeTrains, grouped by ``units_column``
    (e.g. 'population' or 'location'; None: one group 'all').

    A unit gives one train per row of its ``obs_intervals`` (several sessions or
    epochs of a recording), spanning that interval, with the spikes inside it; a unit
    without ``obs_intervals`` spans the file's first to last spike. Each train is
    annotated with ``unit`` (its row in the table) and ``interval``.

    Raises
    ------
    ValueError
        Naming the file: no Units table, no units, a unit with negative or unsorted
        spike times, an empty or reversed observation interval, an unknown
        ``units_column``.
    """
    require_ephys()
    import neo
    import quantities as pq

    io, nwb = _nwb_file(path)
    with io:
        if nwb.units is None:
            raise ValueError(f"{path}: the file has no Units table (spike times of sorted "
                             "units are needed)")
        table = nwb.units
        n = len(table)
        if n == 0:
            raise ValueError(f"{path}: the Units table holds no units")
        columns = table.colnames
        if units_column is not None and units_column not in columns:
            raise ValueError(f"{path}: the Units table has no column {units_column!r}; "
                             f"columns: {list(columns)}")
        try:
            all_times = _ragged(table, "spike_times", n)
            all_intervals = ([np.asarray(a, dtype=float).reshape(-1, 2)
                              for a in _ragged(table, "obs_intervals", n)]
                             if "obs_intervals" in columns else [np.zeros((0, 2))] * n)
            labels = ["all" if units_column is None else str(table[units_column][k])
                      for k in range(n)]
        except Exception as err:  # noqa: BLE001 (h5py / hdmf on a damaged file)
            raise _damaged(path, err) from None
        for k, t in enumerate(all_times):
            if not np.isfinite(t).all():
                raise ValueError(f"{path}: unit {k} has a non-finite spike time "
                                 f"({t[~np.isfinite(t)][0]})")
            if len(t) and t.min() < 0:
                raise ValueError(f"{path}: unit {k} has negative spike times")
            if np.any(np.diff(t) < 0):
                raise ValueError(f"{path}: the spike times of unit {k} are not sorted")
        flat = np.concatenate([t for t in all_times if len(t)] or [np.zeros(1)])
        whole = np.array([[flat.min(), flat.max() + 1e-9]])
        groups = {}
        for k, t in enumerate(all_times):
            intervals = all_intervals[k]
            if not len(intervals):
                intervals = whole
            if not np.isfinite(intervals).all() or np.any(intervals[:, 1] <= intervals[:, 0]):
                raise ValueError(f"{path}: unit {k} has an empty, reversed or non-finite "
                                 f"observation interval {intervals.tolist()}")
            label = labels[k]
            for m, (t0, t1) in enumerate(intervals):
                inside = t[(t >= t0) & (t <= t1)]
                groups.setdefault(label, []).append(neo.SpikeTrain(
                    inside * pq.s, t_start=t0 * pq.s, t_stop=t1 * pq.s, name=f"unit {k}",
                    group=label, unit=k, interval=m))
    return groups


def read_nwb_trials(path):
    """``(onsets, durations)`` in seconds of an NWB file's trials table (None without
    one): the sample windows of a le_brian file, the trials of a recording."""
    require_ephys()
    io, nwb = _nwb_file(path)
    with io:
        try:
            if nwb.trials is None or len(nwb.trials) == 0:
                return None
            start = np.asarray(nwb.trials["start_time"][:], dtype=float)
            stop = np.asarray(nwb.trials["stop_time"][:], dtype=float)
        except Exception as err:  # noqa: BLE001 (h5py / hdmf on a damaged file)
            raise _damaged(path, err) from None
    if not (np.isfinite(start).all() and np.isfinite(stop).all()):
        raise ValueError(f"{path}: a trial has a non-finite start or stop time")
    if np.any(stop <= start):
        raise ValueError(f"{path}: a trial ends before it starts")
    return start, stop - start
