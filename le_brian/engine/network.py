r"""The network lifecycle shared by every le_brian network class.

`BaseNetwork` owns everything that is the same for `le_brian.LENetwork` and
`le_brian.Microcircuit`: validation of sizes and seed, the `Simulator`, the
prepare / compile / run cycle, state get / set / reset, parameters get / set /
save / load (one ``.npz`` layout), the finite-value and divergence check, the
all-to-all layout check of the projections, record parsing from a table of
recordable variables per population, user-added Brian2 objects, and the scheduling
slots. A subclass supplies only what differs:

====================================  ==============================================
hook                                  what it returns
====================================  ==============================================
``populations()``                     ``{population: size}`` of the dynamic groups
``recordable()``                      ``{population: variable names}``
``projections_shapes()``              ``{projection: (n_post, n_pre)}``
``_parameter_shapes()``               ``{kind: [shape, ...]}`` (``get_parameters``)
``_initial_state()``                  ``{population: {variable: array or None}}``
``_prepare(...)``                     a `Prepared` run (state, tables, build function)
``_collect(prepared, out)``           new state and parameters from a run's output
``_result(prepared, out, common)``    the run's `RunResult`
====================================  ==============================================

A compiled standalone program is reused when what a run builds has the same
`le_brian.engine.devices.fingerprint`: the key is derived from the Brian2 objects
themselves, so no structural field can be forgotten.
"""

import copy
import os
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
from brian2 import BrianObject, Hz, Network, NeuronGroup, StateMonitor, second

from .dense import check_all_to_all
from .devices import Built, Simulator
from .recording import (RecordingMixin, kernel_monitors, monitor_clock, weight_monitor,
                        weight_monitor_indices)
from ..equations import spiking as sq
from ..equations.spike_counts import le_binomial
from .resources import (BYTES_PER_COUNTED_NEURON, BYTES_PER_SPIKING_NEURON, check_memory,
                        estimate_network_bytes)
from .spiking import (SPIKING_DYNAMIC, SpikingSpec, check_ref_counts, check_ref_left,
                      counts_to_neurons, spike_seed, warn_saturation)
from .spiking import run_state as spike_run_state
from .validation import (DIVERGENCE_BOUND, as_matrix, as_time, check_seed, check_sizes,
                         steps_of)

__all__ = ["BaseNetwork", "Prepared", "NetworkObjects", "BRIAN_SLOTS", "DIVERGENCE_BOUND",
           "NETWORK_NAME", "monitor_clock",
           "schedule_with", "weight_monitor", "weight_monitor_indices"]

#: Brian2's own slots, after le_brian's: objects a user adds in ``groups`` (the
#: default of a NeuronGroup) see the values of the finished step.
BRIAN_SLOTS = ("groups", "thresholds", "synapses", "resets", "end")

#: The name of every program's Brian2 ``Network``. Brian2 names an unnamed network
#: ``network``, ``network_1``, ... in creation order, and the name is part of the
#: generated code: a fixed name keeps the code, and so the cross-process program cache
#: key, independent of how many networks the process built before.
NETWORK_NAME = "le_brian_network"


def schedule_with(slots):
    """The Brian2 ``Network.schedule`` for le_brian's ``slots`` (in step order)."""
    return ["start", *slots, *BRIAN_SLOTS]


@dataclass
class NetworkObjects:
    """What a user's ``objects=`` function receives: the Brian2 objects of the program
    being built, by name.

    Attributes
    ----------
    groups : dict
        ``name -> NeuronGroup`` (``'layer0'``, ``'layer1'``, ...; ``'inp'``,
        ``'pyr1'``, ``'int1'``, ``'out'``).
    projections : dict
        ``name -> Synapses``.
    clock : brian2.Clock
        The network's clock (dt).
    """

    groups: dict
    projections: dict
    clock: object


@dataclass
class Prepared:
    """Everything one run needs, validated: the build function, its duration, the
    initial state and TimedArray values, and what the result needs (``info``)."""

    build: object
    duration: object
    state: dict
    tables: dict
    info: dict = field(default_factory=dict)


class BaseNetwork(RecordingMixin):
    """Base class of le_brian's networks (not used directly).

    Parameters
    ----------
    layer_sizes : sequence of int
    min_layers : int
        Minimum number of entries of ``layer_sizes``.
    sizes_form : str
        The expected form, for the error message.
    dt : Quantity
    seed : int
    device, codegen_target, keep_builds, threads, simulator, dtype
        See `le_brian.engine.devices.Simulator`.
    """

    #: Name written into parameter files (``network`` entry); subclasses override.
    kind = "BaseNetwork"
    #: Variable name of the synaptic weight in every projection.
    weight_variable = "w"

    def __init__(self, layer_sizes, *, min_layers, sizes_form, dt, seed, device,
                 codegen_target, keep_builds, threads, simulator, dtype):
        self.layer_sizes = check_sizes(layer_sizes, min_layers, sizes_form)
        check_memory(self._estimate_bytes(), f"layer_sizes {list(self.layer_sizes)}")
        self._dt = float(as_time("dt", dt))
        self.seed = check_seed(seed)
        if simulator is None:
            simulator = Simulator.shared(device, codegen_target=codegen_target,
                                         keep_builds=keep_builds, threads=threads, dtype=dtype)
        elif (not isinstance(simulator, Simulator) or simulator.device != device
              or simulator.dtype != dtype):
            raise ValueError(f"simulator must be a le_brian.engine.devices.Simulator for "
                             f"device={device!r}, dtype={dtype!r}")
        self._sim = simulator
        self.device = device
        self.n_builds = 0  # programs set up by this network's runs (compiled or cached)
        self.n_compiles = 0  # of which the compiler ran (the rest came from the cache)
        self.build_directories = []
        self._t = 0.0  # network time in seconds, continues across runs
        self._last_built = None
        self._params = {}
        self.spiking = None  # a SpikingSpec in spiking mode (set by `_init_spiking`)
        self._refractory = {}  # with t_ref: population -> ref_left of its neurons
        self._identities = {}  # spike_draw='counts': population -> ref_left of recorded ids
        self._n_runs = 0  # completed runs: each draws new spikes

    def _estimate_bytes(self):
        """Estimated peak bytes of building this network (subclass hook)."""
        return estimate_network_bytes(self.layer_sizes)

    # ------------------------------------------------------------------ spiking view
    def _init_spiking(self, spiking, n_per_unit, r_max, tau_s, activations, t_ref=None,
                      spike_draw="neurons", prospective_trace=False, max_rate=None):
        """Spiking mode (docs/model.md §5): ``activations`` maps every population that
        spikes to its activation; everything is checked before anything is built."""
        if not isinstance(spiking, (bool, np.bool_)):
            raise TypeError(f"spiking must be True or False, got {spiking!r}")
        self.spiking = (SpikingSpec.check(n_per_unit, r_max, tau_s, activations, self._dt,
                                          t_ref, spike_draw, prospective_trace, max_rate)
                        if spiking else None)
        if not spiking and t_ref is not None:
            raise ValueError(f"t_ref = {t_ref!r} is the refractory period of spiking "
                             "neurons: it needs spiking=True")
        self._refractory = {}  # population -> ref_left of its neurons after the last run
        if self.spiking is not None:  # before any neuron or index array is made
            sizes = dict(self.populations())
            units = sum(sizes[p] for p in activations)
            counts = self.spiking.counts
            check_memory(estimate_network_bytes(
                self.layer_sizes, units, n_per_unit, bytes_per_neuron=(
                    BYTES_PER_COUNTED_NEURON if counts else BYTES_PER_SPIKING_NEURON)),
                f"spiking with n_per_unit = {n_per_unit} on {units} units "
                f"({units * int(n_per_unit):,} " + ("neurons drawn as unit counts)" if counts
                                                    else "Brian2 neurons)"))

    def spiking_populations(self):
        """The populations that emit spikes (empty for a rate network)."""
        return self.spiking.populations if self.spiking is not None else ()

    def _check_record_spikes(self, record_spikes):
        """``record_spikes`` (bool or population names) -> the set of populations whose
        spikes are recorded."""
        pops = self.spiking_populations()
        if isinstance(record_spikes, (bool, np.bool_)):
            chosen = set(pops) if record_spikes else set()
        elif isinstance(record_spikes, (list, tuple, set)):
            chosen = {self._population_key(p) for p in record_spikes}
        else:
            raise TypeError(f"record_spikes must be True, False or a list of spiking "
                            f"populations, got {record_spikes!r}")
        if (chosen or record_spikes is True) and not pops:
            raise ValueError("record_spikes: this network does not spike (spiking=False)")
        unknown = chosen - set(pops)
        if unknown:
            raise ValueError(f"record_spikes: {sorted(unknown)} do not spike; spiking "
                             f"populations: {list(pops)}")
        return chosen

    def _spiking_state(self):
        """Per-run values of every spiking population (trace, constants, run seed)."""
        state = {}
        for pop in self.spiking_populations():
            state.update(spike_run_state(self.spiking, pop, self.seed, self._n_runs,
                                         self._state[pop], self._dt,
                                         self._refractory.get(pop)))
        return state

    def _check_saturation(self, out, n_steps):
        if self.spiking is None:
            return
        pops = self.spiking_populations()
        warn_saturation(self.spiking, {p: out.state[f"{p}.n_saturated"].sum() for p in pops},
                        {p: n_steps * dict(self.populations())[p] for p in pops},
                        stacklevel=4)

    def _spike_trains(self, out, t0):
        """``{population: {'i': neuron, 'unit': rate unit, 't': Quantity, 'n_neurons',
        'n_per_unit'}}`` of the recorded spike monitors (times on the network clock)."""
        trains = {}
        for pop in self.spiking_populations():
            rec = out.user_records.get(f"spikemonitor_{pop}")
            if rec is None:
                self._identities.pop(pop, None)  # dead times of this run unknown
                continue
            if self.spiking.counts:  # unit counts -> a neuron for every spike
                i, t, self._identities[pop] = counts_to_neurons(
                    self.spiking, rec["i"], np.asarray(rec["t"] / second), rec["n_spk"],
                    self._dt, int(round((self._t - t0) / self._dt)),
                    dict(self.populations())[pop],
                    spike_seed(self.seed, self._n_runs - 1, f"{pop}/neurons"),
                    self._identities.get(pop))
                rec = {"i": i, "t": t * second}
            i = np.asarray(rec["i"], dtype=int)
            trains[pop] = {"i": i, "unit": i // self.spiking.n_per_unit,
                           "t": rec["t"] + t0 * second,
                           "n_neurons": dict(self.populations())[pop] * self.spiking.n_per_unit,
                           "n_per_unit": self.spiking.n_per_unit}
        return trains

    # ------------------------------------------------------------------ time
    @property
    def dt(self):
        """The Euler step (Quantity)."""
        return self._dt * second

    @property
    def t(self):
        """Network time (Quantity): the summed duration of all runs so far."""
        return self._t * second

    @property
    def run_index(self):
        """Number of completed runs. The random numbers of a run (spikes, rate noise) are
        drawn from (seed, run_index), so a network restored from a checkpoint continues
        with the draws the uninterrupted one would have made once this is restored too."""
        return self._n_runs

    def restore_history(self, run_index, t):
        """Restore the run counter (`run_index`) and the network time ``t`` (Quantity) of a
        checkpoint: the next run then draws what the uninterrupted network would have."""
        from .validation import check_count

        self._n_runs = check_count("run_index", run_index)
        self._t = float(as_time("t", t, allow_zero=True))

    @property
    def simulator(self):
        """The `le_brian.engine.devices.Simulator` that keeps this network's programs."""
        return self._sim

    # ------------------------------------------------------------------ Brian2 objects
    @property
    def groups(self):
        """``name -> NeuronGroup`` of the program that ran last (None before a run)."""
        return None if self._last_built is None else dict(self._last_built.groups)

    @property
    def projections(self):
        """``name -> Synapses`` of the program that ran last (None before a run)."""
        return None if self._last_built is None else dict(self._last_built.projections)

    # ------------------------------------------------------------------ parameters
    def get_parameters(self):
        """Copies of the parameters: ``{kind: [array, ...]}`` (weights as
        (n_post, n_pre) arrays). ``set_parameters(**net.get_parameters())`` restores
        them."""
        return {k: [a.copy() for a in v] for k, v in self._params.items()}

    def set_parameters(self, **parameters):
        """Set parameters from lists of arrays (as `get_parameters` returns); a kind that
        is not given keeps its values. Everything is checked before anything changes."""
        shapes = self._parameter_shapes()
        new = {}
        for kind, value in parameters.items():
            if kind not in shapes:
                raise ValueError(f"set_parameters: unknown parameter {kind!r}; expected "
                                 f"{sorted(shapes)}")
            if value is None:
                continue
            if not isinstance(value, (list, tuple)) or len(value) != len(shapes[kind]):
                raise ValueError(f"{kind} must be a list of {len(shapes[kind])} arrays of "
                                 f"shapes {shapes[kind]}, got "
                                 f"{len(value) if isinstance(value, (list, tuple)) else value!r}")
            new[kind] = [as_matrix(f"{kind}[{k}]", a, shape)
                         for k, (a, shape) in enumerate(zip(value, shapes[kind]))]
        self._check_parameters(new)
        self._params.update(new)

    def _check_parameters(self, new):
        """Subclass hook: further checks of new parameter values (e.g. bounds)."""

    def _parameter_metadata(self):
        """Subclass hook: extra arrays written by `save_parameters`."""
        return {}

    def save_parameters(self, path, **extra):
        """Write the parameters to an ``.npz`` file (a path or a binary file object):
        ``network`` (class), ``layer_sizes``, one array ``{kind}_{k}`` per entry of
        `get_parameters` (k from 1), the class's metadata (e.g. learning rates) and the
        ``extra`` arrays given (e.g. an epoch number). A path is written atomically
        (`le_brian.io.atomic_write`; ``.npz`` is appended when missing, as `numpy.savez`
        does)."""
        arrays = {f"{kind}_{k + 1}": a for kind, v in self._params.items()
                  for k, a in enumerate(v)}
        arrays.update(self._parameter_metadata())
        arrays.update(extra)
        arrays.update(network=np.array(self.kind), layer_sizes=np.array(self.layer_sizes))
        if isinstance(path, (str, os.PathLike)):  # a file name: written atomically
            from ..io import atomic_write

            path = os.fspath(path)  # as np.savez: '.npz' appended when missing
            atomic_write(path if path.endswith(".npz") else path + ".npz",
                         lambda f: np.savez(f, **arrays))
        else:
            np.savez(path, **arrays)

    def load_parameters(self, path):
        """Read parameters written by `save_parameters` (class and sizes must match)."""
        from ..io import read_npz

        if isinstance(path, (str, os.PathLike)):
            f = read_npz(path, "le_brian parameter file")
        else:  # an open binary file
            try:
                f = np.load(path, allow_pickle=False)
            except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
                raise ValueError(f"{path}: not a le_brian parameter file ({err})") from None
        with f:
            if "network" in f and str(f["network"]) != self.kind:
                raise ValueError(f"{path}: parameters of a {f['network']}, not of a {self.kind}")
            if "layer_sizes" in f and list(f["layer_sizes"]) != self.layer_sizes:
                raise ValueError(f"{path}: layer sizes {list(f['layer_sizes'])} differ from "
                                 f"this network's {self.layer_sizes}")
            shapes = self._parameter_shapes()
            names = {kind: [f"{kind}_{k + 1}" for k in range(len(v))]
                     for kind, v in shapes.items()}
            missing = [n for v in names.values() for n in v if n not in f]
            if missing:
                raise ValueError(f"{path}: missing arrays {missing}")
            try:
                self.set_parameters(**{kind: [f[n] for n in v] for kind, v in names.items()})
            except (TypeError, ValueError) as err:  # wrong dtype / shape, NaN, out of bounds
                raise ValueError(f"{path}: damaged le_brian parameter file ({err})") from None

    # ------------------------------------------------------------------ state
    def reset_state(self):
        """Return every dynamic variable to its initial value (the class docs say
        which)."""
        self._state = self._initial_state()
        self._refractory = {}
        self._identities = {}

    def get_state(self):
        """Copies of the dynamic state: ``{population: {variable: array}}`` (with a
        refractory period also every spiking neuron's ``ref_left``, docs/model.md §5.4)."""
        state = {p: {v: (None if a is None else np.array(a, copy=True)) for v, a in d.items()}
                 for p, d in self._state.items()}
        if self.spiking is not None and self.spiking.refractory:
            sizes = dict(self.populations())
            for pop in self.spiking_populations():
                if self.spiking.counts:  # spikes of the last n_ref steps (n_ref, units)
                    state[pop]["ref_counts"] = np.array(self._refractory.get(
                        pop, np.zeros((self.spiking.n_ring, sizes[pop]))))
                    continue
                n = sizes[pop] * self.spiking.n_per_unit
                state[pop]["ref_left"] = np.array(self._refractory.get(pop, np.zeros(n, int)))
        return state

    def _population_key(self, key):
        """Subclass hook: accept other spellings of a population name."""
        return key

    def set_state(self, state):
        """Set dynamic variables from ``{population: {variable: array}}`` (as `get_state`
        returns; entries not given keep their values). Everything is checked before
        anything changes."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict {{population: {{variable: array}}}}, "
                            f"got {type(state).__name__}")
        new = copy.deepcopy(self._state)
        initial = self._initial_state()
        refractory = dict(self._refractory)
        for key, variables in state.items():
            pop = self._population_key(key)
            if "ref_counts" in variables and pop in self.spiking_populations() \
                    and self.spiking.refractory and self.spiking.counts:
                variables = dict(variables)
                refractory[pop] = check_ref_counts(
                    f"state[{key!r}]['ref_counts']", variables.pop("ref_counts"),
                    (self.spiking.n_ring, dict(self.populations())[pop]),
                    self.spiking.n_per_unit)
            if "ref_left" in variables and pop in self.spiking_populations() \
                    and self.spiking.refractory and not self.spiking.counts:
                variables = dict(variables)
                refractory[pop] = check_ref_left(
                    f"state[{key!r}]['ref_left']", variables.pop("ref_left"),
                    dict(self.populations())[pop] * self.spiking.n_per_unit,
                    self.spiking.n_ref)
            if pop not in new:
                raise ValueError(f"state: unknown population {key!r}; expected one of "
                                 f"{sorted(new)}")
            for var, value in variables.items():
                if var not in new[pop]:
                    raise ValueError(f"state[{key!r}]: unknown variable {var!r}; expected one "
                                     f"of {sorted(new[pop])}")
                ref = initial[pop][var]
                if value is None:
                    if ref is not None:
                        raise ValueError(f"state[{key!r}][{var!r}] may not be None")
                    new[pop][var] = None
                    continue
                n = self._state_size(pop, var)
                new[pop][var] = as_matrix(f"state[{key!r}][{var!r}]", value, (n,))
        self._state, self._refractory = new, refractory

    def _state_size(self, population, variable):
        """Size of a state variable (a population's size unless a subclass says)."""
        return dict(self.populations())[population]

    # ------------------------------------------------------------------ lifecycle
    #: The population the read-out comes from (always recorded whole).
    output_population = None
    #: Variables recorded when ``record`` is None (``{population: [variables]}``).
    default_record = {}
    #: Name of the weight variable of the projections.
    weight_variable = "w"

    def _normalise_record(self, record):
        """Subclass hook: other spellings of ``record`` (layered: a list for every
        layer, layer numbers)."""
        return record

    def _always_recorded(self):
        """Subclass hook: ``{population: [variables]}`` every run records (its
        read-out)."""
        return {}

    def _prepare_run(self, inputs, presentation_time, targets, record, record_every,
                     record_neurons, record_spikes, unit="n_samples"):
        """The shared head of every ``_prepare``: the checked inputs ``x``, targets ``y``
        (zeros without targets), steps per sample, the recording interval in steps and
        what is recorded. Returns a dict with ``x``, ``y``, ``steps``, ``every``,
        ``rec``, ``wrec``, ``neurons``, ``record_spikes``."""
        n_in, n_out = self.layer_sizes[0], self.layer_sizes[-1]
        x = as_matrix("inputs", inputs, (None, n_in), what=f"2D array ({unit}, n_in)")
        if x.shape[0] == 0:
            raise ValueError(f"inputs must contain at least one "
                             f"{unit[2:].rstrip('s') if unit.startswith('n_') else unit}")
        steps = steps_of("presentation_time", presentation_time, self._dt)
        if targets is not None:
            y = as_matrix("targets", targets, (x.shape[0], n_out),
                          what=f"2D array ({unit}, n_out)")
        else:
            y = np.zeros((x.shape[0], n_out))
        every = 1 if record_every is None else steps_of("record_every", record_every, self._dt)
        rec, wrec = self._parse_record(self._normalise_record(record), self.default_record)
        for pop, variables in self._always_recorded().items():
            rec[pop] = sorted(set(rec.get(pop, [])) | set(variables))
        neurons = self._parse_record_neurons(record_neurons, rec,
                                             whole=self.output_population)
        return dict(x=x, y=y, steps=steps, every=every, rec=rec, wrec=wrec, neurons=neurons,
                    record_spikes=self._check_record_spikes(record_spikes))

    def _assemble(self, groups, projections, record, record_every, wrecord, wrecord_every,
                  neurons, spike_objects, spike_monitors, state, tables, namespace, clock,
                  monitors=None):
        """The shared tail of every ``_build_model``: state monitors of ``record`` (every
        ``record_every``, a Quantity), weight monitors of ``wrecord``, the Brian2
        ``Network`` of everything, and the `Built` program description."""
        monitors = dict(monitors or {})
        for pop, variables in record.items():
            monitors[f"pop:{pop}"] = StateMonitor(
                groups[pop], list(variables), record=neurons.get(pop, True), when="end",
                clock=monitor_clock(record_every, f"monitor_{pop}"), name=f"monitor_{pop}")
        shapes, kernels = self.projections_shapes(), self.kernel_shapes()
        for proj, pairs in wrecord.items():
            if proj in kernels:  # a shared kernel (and the biases of its channels)
                monitors.update(kernel_monitors(groups, proj, pairs, kernels[proj],
                                                wrecord_every))
                continue
            monitors[f"proj:{proj}"] = weight_monitor(
                projections[proj], self.weight_variable,
                weight_monitor_indices(pairs, shapes[proj][0]), wrecord_every,
                f"monitor_{proj}")
        net = Network(list(groups.values()), list(projections.values()),
                      list(monitors.values()), spike_objects, name=NETWORK_NAME)
        groups.update({o.name: o for o in spike_objects if isinstance(o, NeuronGroup)})
        if self.spiking is not None and self.spiking.counts:
            namespace = {**namespace, "le_binomial": le_binomial}
        return Built(net, state, tables, monitors, namespace, groups=groups,
                     projections=projections, clock=clock, user_monitors=spike_monitors)

    # ------------------------------------------------------------------ running
    def _builder(self, build_model, objects):
        """The build function of a run: the subclass's model objects, then the user's
        ``objects(NetworkObjects)``, the schedule and the layout check."""
        if objects is not None and not callable(objects):
            raise TypeError("objects must be a function NetworkObjects -> list of Brian2 "
                            f"objects, got {type(objects).__name__}")

        def build(tables):
            built = build_model(tables)
            built.checks.append(self._check_layout)
            if objects is not None:
                extra = objects(NetworkObjects(dict(built.groups), dict(built.projections),
                                               built.clock))
                extra = [extra] if isinstance(extra, BrianObject) else list(extra or [])
                for obj in extra:
                    if not isinstance(obj, BrianObject):
                        raise TypeError(f"objects: expected Brian2 objects, got {obj!r}")
                    if re.fullmatch(rf"{obj.__class__.__name__.lower()}(_\d+)?", obj.name):
                        raise ValueError(f"objects: give {obj.__class__.__name__} an explicit "
                                         f"name= (it names its recordings and lets a "
                                         f"compiled program be reused)")
                built.network.add(extra)
                built.user_monitors += [o for o in extra if _is_monitor(o)]
            built.network.schedule = schedule_with(self.slots())
            return built

        return build

    def _check_layout(self, built):
        """The weight arrays assume connect()'s pre-major all-to-all layout: verify it
        once per program for every projection."""
        for name in self.projections_shapes():
            check_all_to_all(built.projections[name], name)

    def _compile(self, prepared):
        before, compiles = self._sim.n_builds, self._sim.n_compiles
        directory = self._sim.compile(prepared.build, prepared.duration, prepared.tables)
        self.n_builds += self._sim.n_builds - before
        self.n_compiles += self._sim.n_compiles - compiles
        if directory not in self.build_directories:
            self.build_directories.append(directory)
        return directory

    def _execute(self, prepared, report):
        out = self._sim.run(prepared.build, prepared.duration, prepared.state, prepared.tables,
                            report=report)
        if out.compiled:
            self.n_builds += 1
            self.n_compiles += not out.from_cache
        if out.directory and out.directory not in self.build_directories:
            self.build_directories.append(out.directory)
        self._last_built = out.built
        state, params = self._collect(prepared, out)
        refractory = {}
        for pop in self.spiking_populations():
            for var in SPIKING_DYNAMIC:
                state[pop][var] = out.state[f"{pop}.{var}"]
            if self.spiking.counts and self.spiking.n_ring:  # the units' dead-time rings
                refractory[pop] = np.array([out.state[f"{pop}.{v}"]
                                            for v in sq.ring_names(self.spiking.n_ring)])
            elif self.spiking.refractory and not self.spiking.counts:  # dead time carried
                refractory[pop] = np.asarray(out.state[f"{pop}_spikes.ref_left"], dtype=int)
        self._check_finite(state, params)  # before anything changes
        self._check_saturation(out, int(round(float(prepared.duration / second) / self._dt)))
        self._state, self._params = state, params
        self._refractory = refractory
        self._n_runs += 1
        t0 = self._t
        self._t += float(prepared.duration / second)
        return self._result(prepared, out, self._common_result(prepared, out, t0))

    def _common_result(self, prepared, out, t0):
        info = prepared.info
        weights = {}
        for proj, pairs in info.get("wrec", {}).items():
            r = out.records[f"proj:{proj}"]
            weights[proj] = {"t": (t0 + r["t"]) * second, "w": r[self.weight_variable],
                             "index": pairs}
            if f"bias:{proj}" in out.records:  # a convolution: its channels' biases
                weights[proj]["b"] = out.records[f"bias:{proj}"]["b"]
        states = {p: {v: out.records[f"pop:{p}"][v] for v in vs}
                  for p, vs in info.get("rec", {}).items()}
        t_rec = next((out.records[f"pop:{p}"]["t"] for p in info.get("rec", {})), np.zeros(0))
        return dict(t=(t0 + t_rec) * second, t_start=t0 * second, states=states,
                    weights=weights,
                    recordings={k: v for k, v in out.user_records.items()
                                if not k.startswith("spikemonitor_")},
                    spikes=self._spike_trains(out, t0), steps_per_sample=info["steps"],
                    spike_counts={p: np.asarray(out.state[f"{p}.n_fired"])
                                  for p in self.spiking_populations()},
                    peak_rates={p: np.minimum(np.asarray(out.state[f"{p}.phi_max"])
                                              * self.spiking.r_max,
                                              self.spiking.max_rate or np.inf) * Hz
                                for p in self.spiking_populations()},
                    recorded_neurons=self._recorded_neurons(info),
                    record_every_steps=info["every"], n_samples=info["n_samples"],
                    dt=self.dt, presentation_time=info["steps"] * self.dt,
                    build_time=out.build_time, run_time=out.run_time, compiled=out.compiled,
                    from_cache=out.from_cache,
                    simulation_time=out.simulation_time)

    def _check_finite(self, state, params):
        bad = [f"{p}.{v}" for p, d in state.items() for v, a in d.items()
               if a is not None and not np.all(np.isfinite(a))]
        bad += [f"{kind}[{k}]" for kind, v in params.items() for k, a in enumerate(v)
                if not np.all(np.isfinite(a))]
        if bad:
            raise FloatingPointError(f"{self.kind}: {bad} became NaN/inf during the run; "
                                     f"{self._divergence_hint()}. The network keeps its "
                                     "state and parameters from before the run.")
        big = [f"{p}.{v}" for p, d in state.items() for v, a in d.items()
               if a is not None and np.max(np.abs(a), initial=0) > DIVERGENCE_BOUND]
        big += [f"{kind}[{k}]" for kind, v in params.items() for k, a in enumerate(v)
                if np.max(np.abs(a), initial=0) > DIVERGENCE_BOUND]
        if big:
            raise FloatingPointError(f"{self.kind}: {big} exceeded {DIVERGENCE_BOUND:g} in "
                                     f"magnitude (diverging); {self._divergence_hint()}. The "
                                     "network keeps its state and parameters from before "
                                     "the run.")

    def _divergence_hint(self):
        return (f"learning rates too large for dt = {self._dt * 1e3:g} ms, or weights too "
                f"large for the inputs?")


def _is_monitor(obj):
    return type(obj).__name__ in ("StateMonitor", "SpikeMonitor", "EventMonitor",
                                  "PopulationRateMonitor")


