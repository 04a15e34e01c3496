"""Brian2 devices for le_brian: runtime, cpp_standalone and cuda_standalone.

A network is described by a *build function* that creates Brian2 objects.  The
`Simulator` runs such a description on one device and keeps the network's state
between runs in NumPy arrays, so that every device behaves the same way:

* ``runtime``: the build function is called for every run (numpy or cython code
  generation; cython's compiled code is cached in the package cache directory).
* ``cpp_standalone`` / ``cuda_standalone``: one compiled program per *structure*.
  Every run calls the build function on a fresh device instance (cheap: standalone
  devices generate no code until they build) and fingerprints what it created
  (`fingerprint`: every object's class, name, size, equations, code, schedule slot and
  order, clock, variables and their dtypes, monitors' indices, the device's queued
  initialisation code, the tables' shapes, the duration and the float type). A run
  whose fingerprint matches a compiled program passes the new state, inputs,
  targets, weights and learning rates as Brian2 ``run_args`` and reruns that binary
  without generating or compiling anything, so no structural field can be forgotten
  in a hand-written key and a stale binary is never reused.

Each program owns a private device instance and a unique build directory under
:func:`~le_brian.engine.toolchain.cache_dir` (so two processes never share a build directory); build directories
are removed when the process exits unless ``keep_builds=True``. Binaries are kept across
processes in `le_brian.engine.program_cache.ProgramCache` (keyed by the generated code
and the toolchain), so a new process generates a program's project but compiles it only
once per machine.
"""

import atexit
import contextlib
import io
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from brian2 import Quantity, prefs, second
from brian2.devices.device import get_device, reset_device, set_device

from .fingerprint import all_objects, fingerprint
from .program_cache import program_key
from .toolchain import (_SWEPT, KEEP_MARKER, _build_prefix, _configure_cython_cache,  # noqa: F401
                        _make, _writable, build_root, cache_dir, configure_cuda_build,
                        cuda_build_available, fast_build_enabled, program_store,
                        sweep_stale_builds)

__all__ = ["Built", "RunOutput", "Simulator"]

from .registry import CODEGEN_TARGETS, DEVICES, DTYPES  # noqa: E402,F401  (re-exported)


@dataclass
class Built:
    """What a build function returns.

    Attributes
    ----------
    network : brian2.Network
    state : dict
        ``key -> (group, variable name)``: variables set before and read after a run.
    tables : dict
        ``name -> TimedArray`` whose values are given per run.
    monitors : dict
        ``name -> StateMonitor``; every recorded variable is returned per run.
    namespace : dict
        The explicit namespace for ``Network.run``.
    checks : list
        Callables ``check(built)`` run once after the first run of a program
        (layout checks).
    groups, projections : dict
        ``name -> Brian2 object``: the named groups and projections (what
        ``net.groups`` / ``net.projections`` show after a run).
    clock : brian2.Clock or None
        The network's clock.
    user_monitors : list
        Monitors added by the user (`le_brian.engine.network.BaseNetwork.run`'s
        ``objects=``): their recordings are copied out after every run.
    """

    network: object
    state: dict
    tables: dict
    monitors: dict = field(default_factory=dict)
    namespace: dict = field(default_factory=dict)
    checks: list = field(default_factory=list)
    groups: dict = field(default_factory=dict)
    projections: dict = field(default_factory=dict)
    clock: object = None
    user_monitors: list = field(default_factory=list)


@dataclass
class RunOutput:
    """State after a run (``key -> array``) and recordings
    (``monitor name -> {'t': seconds, var: (n_t, n_recorded)}``), wall times.

    ``compiled``: a standalone program was set up for this run (its project generated
    and its binary compiled, or taken from the cross-process program cache:
    ``from_cache``); False when an earlier run's program was rerun and on runtime.
    ``run_time`` is the wall time of the whole run (standalone: writing run_args,
    starting the program, reading results); ``simulation_time`` the time of Brian2's
    simulation loop alone (standalone: measured inside the program)."""

    state: dict
    records: dict
    build_time: float
    run_time: float
    compiled: bool
    from_cache: bool = False
    directory: str = None
    simulation_time: float = None
    built: object = None
    user_records: dict = field(default_factory=dict)


def _view_value(group, name):
    return np.array(getattr(group, name + "_")[:], copy=True)


def _read_records(monitors):
    records = {}
    for mname, mon in monitors.items():
        rec = {"t": np.array(mon.t_[:], copy=True)}
        for var in mon.record_variables:
            rec[var] = np.array(getattr(mon, var + "_")[:], copy=True).T
        records[mname] = rec
    return records


def _read_user_records(monitors):
    """Copies (Quantities) of what user-added monitors hold: ``t`` and every recorded
    variable of a StateMonitor (as (n_t, n_recorded), like le_brian's own records);
    ``i``, ``t`` and ``count`` of a SpikeMonitor or EventMonitor; ``t`` and ``rate`` of a
    PopulationRateMonitor. Standalone programs overwrite their results at the next run,
    so nothing may stay a view."""
    out = {}
    for mon in monitors:
        kind = type(mon).__name__
        if kind == "StateMonitor":
            rec = {"t": mon.t[:].copy()}
            rec.update({v: getattr(mon, v)[:].copy().T for v in mon.record_variables})
        elif kind == "PopulationRateMonitor":
            rec = {"t": mon.t[:].copy(), "rate": mon.rate[:].copy()}
        else:  # SpikeMonitor, EventMonitor
            rec = {v: getattr(mon, v)[:].copy()
                   for v in dict.fromkeys(["i", "t", *mon.record_variables, "count"])}
        out[mon.name] = rec
    return out


def _check_completed(device, duration):
    """Raise KeyboardInterrupt when the last run did not reach its end (Brian2 stops a
    run "gracefully" on Ctrl-C, on runtime and in standalone programs, and reports the
    completed fraction): an interrupted run must never pass for a complete one."""
    from brian2 import Network

    fraction = getattr(device, "_last_run_completed_fraction", 1.0)
    stopped = Network._globally_stopped
    if fraction < 1 - 1e-12 or stopped:
        Network._globally_stopped = False  # the next run may start again
        raise KeyboardInterrupt(f"the run was interrupted after {fraction:.1%} of its "
                                f"{duration}; nothing of it is kept")


def _new_standalone_device(device_name):
    if device_name == "cuda_standalone":
        from brian2cuda.device import CUDAStandaloneDevice

        return CUDAStandaloneDevice()
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

    return CPPStandaloneDevice()


class _Program:
    """One standalone program (private device instance + build directory), built from
    objects already created on ``device``: its project is generated, then the binary is
    taken from the `ProgramCache` when one with the same `program_key` exists, else
    compiled (and published to the cache)."""

    def __init__(self, device_name, device, built, duration, report, keep):
        root = _writable(build_root() / device_name)
        self.directory = tempfile.mkdtemp(prefix=_build_prefix(), dir=root)
        if keep:
            Path(self.directory, KEEP_MARKER).touch()
        self.device = device
        self.built = built
        self.duration = duration
        self.checked = False
        self.report = report
        self.last_simulation_time = None
        self.from_cache = False
        t0 = time.perf_counter()
        try:
            with _using(self.device, directory=self.directory):
                built.network.run(duration, namespace=built.namespace, report=report,
                                  report_period=10 * second)
                self.device.build(directory=self.directory, compile=False, run=False,
                                  with_output=False)
                self.key = program_key(self.directory, device_name)
                store = program_store(device_name)
                self.from_cache = store.fetch(self.key, self.directory)
                if not self.from_cache:
                    _make(self.directory, device_name)
                    with contextlib.suppress(OSError):  # a read-only cache still runs
                        store.publish(self.key, self.directory,
                                      {"device": device_name, "network": built.network.name,
                                       "objects": len(built.network.objects)})
        except BaseException as err:
            from brian2 import Network

            shutil.rmtree(self.directory, ignore_errors=True)  # a failed build leaves nothing
            if Network._globally_stopped or isinstance(err, KeyboardInterrupt):
                Network._globally_stopped = False
                raise KeyboardInterrupt("the build was interrupted; nothing was kept") from None
            raise
        self.build_time = time.perf_counter() - t0
        if not keep:
            atexit.register(shutil.rmtree, self.directory, True)

    def run(self, state, tables):
        b = self.built
        run_args = {}
        for key, value in state.items():
            group, name = b.state[key]
            view = getattr(group, name)
            run_args[view] = Quantity(np.asarray(value, dtype=view.dtype), dim=view.dim)
        for name, value in tables.items():
            ta = b.tables[name]
            run_args[ta] = Quantity(np.asarray(value, dtype=ta.values.dtype), dim=ta.dim)
        t0 = time.perf_counter()
        with _using(self.device):
            with _quiet_float32_check():
                self._run_program(run_args)
            _check_completed(self.device, self.duration)
            elapsed = time.perf_counter() - t0
            self.last_simulation_time = getattr(self.device, "_last_run_time", None)
            out = {key: _view_value(g, n) for key, (g, n) in b.state.items()}
            records = _read_records(b.monitors)
            user_records = _read_user_records(b.user_monitors)
            if not self.checked:
                for check in b.checks:
                    check(b)
                self.checked = True
        self._clean_static_arrays()
        return out, records, user_records, elapsed

    def _run_program(self, run_args):
        """Run the binary with its output captured; a failure raises RuntimeError with
        the end of that output (e.g. a layout check's message)."""
        stdout = Path(self.directory, "results", "stdout.txt")
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):  # Brian2 echoes the output on failure
                self.device.run(directory=self.directory, with_output=False,
                                run_args=run_args)
        except RuntimeError as err:
            from brian2 import Network

            if Network._globally_stopped:  # Ctrl-C killed the program
                Network._globally_stopped = False
                raise KeyboardInterrupt("the run was interrupted; nothing of it is kept") \
                    from None
            text = stdout.read_text(errors="replace") if stdout.exists() else buffer.getvalue()
            tail = "\n".join(text.strip().splitlines()[-20:])
            raise RuntimeError(f"{err}; program output:\n{tail}") from None
        if self.report and stdout.exists():
            print(stdout.read_text(errors="replace"), end="")

    def _clean_static_arrays(self):
        # run_args values are written to static_arrays/init_*.dat, one file per distinct
        # value: remove them so long training runs do not fill the disk.
        for f in Path(self.directory, "static_arrays").glob("init_*"):
            with contextlib.suppress(OSError):
                f.unlink()


@contextlib.contextmanager
def _quiet_float32_check():
    """Brian2 compares float32 state with 1e50 after a run, and NumPy warns about the
    cast; NaN/inf are checked by the networks themselves."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="overflow encountered in cast",
                                category=RuntimeWarning)
        yield


@contextlib.contextmanager
def _using(device, **kwargs):
    """Activate ``device`` (name or instance) and restore the previous one after."""
    set_device(device, build_on_run=False, **kwargs)
    try:
        yield device
    finally:
        reset_device()


@contextlib.contextmanager
def _prefs(**values):
    """Set Brian2 preferences (dotted names with '__' for '.') and restore them after."""
    old = {}
    for name, value in values.items():
        key = name.replace("__", ".")
        old[key] = prefs[key]
        prefs[key] = value
    try:
        yield
    finally:
        for key, value in old.items():
            prefs[key] = value


class Simulator:
    """Run network descriptions on one Brian2 device, building once per shape.

    Parameters
    ----------
    device : {'runtime', 'cpp_standalone', 'cuda_standalone'}
    codegen_target : {'auto', 'numpy', 'cython'}
        Code generation target in runtime mode (ignored by standalone devices).
    keep_builds : bool
        Keep standalone build directories after the process exits.
    threads : int
        OpenMP threads for cpp_standalone (0: no OpenMP; measured: OpenMP does not
        speed up summed variables).
    dtype : {'float64', 'float32'}
        Brian2's default float type for every variable of the programs built here.
    """

    def __init__(self, device="runtime", codegen_target="auto", keep_builds=False, threads=0,
                 dtype="float64"):
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        if codegen_target not in CODEGEN_TARGETS:
            raise ValueError(
                f"codegen_target must be one of {CODEGEN_TARGETS}, got {codegen_target!r}")
        if device == "cuda_standalone":
            try:
                import brian2cuda  # noqa: F401
            except ImportError:
                raise ImportError(
                    "device='cuda_standalone' needs brian2cuda: pip install 'le_brian[cuda]'"
                ) from None
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
        self.device = device
        self.dtype = dtype
        self.codegen_target = codegen_target
        self.keep_builds = keep_builds
        self.threads = int(threads)
        self._programs = {}
        self.n_builds = 0  # programs set up in this process (compiled or from the cache)
        self.n_compiles = 0  # of which the compiler ran
        if self.standalone:
            _writable(cache_dir() / device)
            if not _SWEPT:  # once per process
                _SWEPT.append(sweep_stale_builds())
        elif codegen_target != "numpy":
            _configure_cython_cache()

    _shared = {}

    @classmethod
    def shared(cls, device="runtime", codegen_target="auto", keep_builds=False, threads=0,
               dtype="float64"):
        """A process-wide simulator per configuration, so that networks of the same
        structure (e.g. an LE and a lagged network) share compiled programs."""
        key = (device, codegen_target, bool(keep_builds), int(threads), dtype)
        if key not in cls._shared:
            cls._shared[key] = cls(device, codegen_target, keep_builds, threads, dtype)
        return cls._shared[key]

    @property
    def standalone(self):
        """Whether the device builds a standalone program (not ``runtime``)."""
        return self.device != "runtime"

    def run(self, build, duration, state, tables, report=None):
        """Run ``build`` for ``duration``.

        Parameters
        ----------
        build : callable
            ``build(tables) -> Built``; ``tables`` maps TimedArray names to values.
            Standalone devices call it on a fresh device instance and reuse the
            compiled program of an equal `fingerprint`.
        duration : Quantity
        state : dict
            ``key -> array`` initial values of the ``Built.state`` variables.
        tables : dict
            ``name -> 2D array`` TimedArray values for this run.
        report : str or None
            Brian2 progress report (``'text'``, ``'stdout'`` or None).
        """
        if self.standalone:
            return self._run_standalone(build, duration, state, tables, report)
        return self._run_runtime(build, duration, state, tables, report)

    def _run_runtime(self, build, duration, state, tables, report):
        t0 = time.perf_counter()
        with _using("runtime"), _prefs(codegen__target=self.codegen_target,
                                       core__default_float_dtype=np.dtype(self.dtype).type):
            b = build(tables)
            for key, value in state.items():
                group, name = b.state[key]
                setattr(group, name + "_", value)
            for check in b.checks:
                check(b)
            t1 = time.perf_counter()
            with _quiet_float32_check():
                b.network.run(duration, namespace=b.namespace, report=report,
                              report_period=10 * second)
            _check_completed(get_device(), duration)
            t2 = time.perf_counter()
            out = {key: _view_value(g, n) for key, (g, n) in b.state.items()}
            records = _read_records(b.monitors)
            user_records = _read_user_records(b.user_monitors)
        return RunOutput(out, records, build_time=t1 - t0, run_time=t2 - t1, compiled=False,
                         simulation_time=t2 - t1, built=b, user_records=user_records)

    def compile(self, build, duration, tables, report=None):
        """Generate and compile the program of ``build`` without running it (standalone
        devices; e.g. brian2cuda on a machine without a GPU). A later `run` of the same
        structure reuses it. Returns the build directory."""
        if not self.standalone:
            raise ValueError("compile() needs a standalone device (cpp_standalone or "
                             f"cuda_standalone), this simulator runs {self.device!r}")
        return self._program(build, duration, tables, report)[0].directory

    def _program(self, build, duration, tables, report):
        if self.device == "cpp_standalone":
            prefs.devices.cpp_standalone.openmp_threads = self.threads
        device = _new_standalone_device(self.device)
        with _prefs(core__default_float_dtype=np.dtype(self.dtype).type):
            with _using(device):
                built = build(tables)
            key = fingerprint(built, duration, device, self.dtype, extra=(self.threads,))
            program = self._programs.get(key)
            if program is not None and not Path(program.directory, "main").exists():
                program = None  # its directory vanished (deleted by hand): build again
            compiled = program is None
            if not compiled:
                for obj in all_objects(built.network):
                    # Brian2 warns about objects deleted without ever running in a
                    # network; these were built only to be fingerprinted.
                    obj._network = "fingerprinted"
            else:
                program = _Program(self.device, device, built, duration, report,
                                   self.keep_builds)
                self._programs[key] = program
                self.n_builds += 1
                self.n_compiles += not program.from_cache
        return program, compiled

    def _run_standalone(self, build, duration, state, tables, report):
        program, compiled = self._program(build, duration, tables, report)
        out, records, user_records, elapsed = program.run(state, tables)
        return RunOutput(out, records, build_time=program.build_time if compiled else 0.0,
                         run_time=elapsed, compiled=compiled,
                         from_cache=compiled and program.from_cache, directory=program.directory,
                         simulation_time=program.last_simulation_time, built=program.built,
                         user_records=user_records)

    @property
    def build_directories(self):
        """Build directories of the compiled programs (standalone devices)."""
        return [p.directory for p in self._programs.values()]
