"""Running a sweep: every point a Dask task (or, with ``workers=0``, a loop in this
process), each point's results in its own folder, an aggregated table and the protocol's
figure.

On the workers (`BrianWorkerSetup`): Brian2 is imported on the worker's main thread
(importing it inside a task thread fails: it installs a SIGINT handler), standalone
build directories go into the worker's local directory (removed when the worker closes),
``make`` runs with ``make_jobs`` jobs so that N workers do not oversubscribe the machine,
and one thread per worker (standalone runs change the working directory and use a
process-global device). A worker keeps its compiled programs between points (the
process-wide `le_brian.engine.devices.Simulator`), and workers on one machine share the
program cache, so a network shape is compiled once per sweep and rerun for every point
of that shape.

Folders::

    OUT/sweep_spec.json       the specification as read
    OUT/points/<id>/          one per point: what its protocol writes, then point.json
                              (status, parameters, metrics, wall time, worker, programs
                              built and compiled) written atomically last, or
                              error.json (error and traceback) when it failed
    OUT/sweep.csv, sweep.json the aggregated table (one row per point; ``complete`` says
                              whether every point finished)
    OUT/sweep.png             the protocol's figure (its metric against the first
                              varied axis, mean and min-max over seeds)

Two sweeps on one folder split the points: each point is claimed before it runs
(`le_brian.sweep.claims`), a point claimed by another live process is left to it and
waited for at the end, and one whose claimant died is run. Every file is written to a
temporary file of a unique name in its folder and renamed into place.
"""

import contextlib
import csv
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io import read_json, write_json
from . import claims
from .protocols import get_protocol, metrics_json
from .spec import SCHEDULER_TIMEOUT_S, _plain, load_spec

__all__ = ["run", "execute_point", "BrianWorkerSetup", "SweepResult", "aggregate", "POINTS",
           "POINT_RESULT", "POINT_ERROR", "SCHEDULER_TIMEOUT_S"]

POINTS = "points"
POINT_RESULT = "point.json"
POINT_ERROR = "error.json"


def _counters():
    """(programs set up, compiler runs) of this process's shared simulators."""
    from ..engine.devices import Simulator

    sims = list(Simulator._shared.values())
    return sum(s.n_builds for s in sims), sum(s.n_compiles for s in sims)


def execute_point(protocol_name, params, point_dir):
    """Run one point (on a worker or in this process) and write its ``point.json``
    atomically last; returns that record. An exception propagates (Dask retries it or
    reports it; `run` writes ``error.json``)."""
    protocol = get_protocol(protocol_name)
    out = Path(point_dir)
    out.mkdir(parents=True, exist_ok=True)
    builds, compiles = _counters()
    t0 = time.perf_counter()
    metrics = protocol.run(params, out)
    wall = time.perf_counter() - t0
    builds_after, compiles_after = _counters()
    record = {"status": "ok", "params": _plain(params), "metrics": metrics_json(metrics),
              "wall_s": wall, "worker": f"{socket.gethostname()}:{os.getpid()}",
              "programs_built": builds_after - builds, "compiles": compiles_after - compiles}
    write_json(out / POINT_RESULT, record)
    (out / POINT_ERROR).unlink(missing_ok=True)
    return record


try:
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # the sweep extra is not installed: only workers=0 runs
    _WorkerPlugin = object


class BrianWorkerSetup(_WorkerPlugin):
    """Dask worker plugin: Brian2 imported on the worker's main thread, standalone builds
    in the worker's local directory, ``make -j<make_jobs>``."""

    name = "le-brian-setup"

    def __init__(self, make_jobs=1):
        self.make_jobs = int(make_jobs)

    def setup(self, worker):
        builds = Path(worker.local_directory) / "le_brian_builds"
        builds.mkdir(parents=True, exist_ok=True)
        os.environ["LE_BRIAN_BUILD_DIR"] = str(builds)
        from brian2 import prefs

        import le_brian.networks  # noqa: F401  (Brian2 and le_brian's objects, main thread)

        prefs.devices.cpp_standalone.extra_make_args_unix = [f"-j{self.make_jobs}"]

    def teardown(self, worker):
        shutil.rmtree(Path(worker.local_directory) / "le_brian_builds", ignore_errors=True)


@dataclass
class SweepResult:
    """What `run` did: ``rows`` (the aggregated table), counts of points ``n_points``,
    ``n_run`` (executed now), ``n_skipped`` (finished before), ``n_failed``,
    ``complete`` (every point finished), ``compiles`` (compiler runs per worker in this
    invocation), ``programs`` (programs set up per worker), ``wall_s``, ``files``,
    ``n_elsewhere`` (points that another sweep on the same folder ran meanwhile)."""

    rows: list
    n_points: int
    n_run: int
    n_skipped: int
    n_failed: int
    complete: bool
    compiles: dict = field(default_factory=dict)
    programs: dict = field(default_factory=dict)
    wall_s: float = 0.0
    files: list = field(default_factory=list)
    n_elsewhere: int = 0


class _Progress:
    """One status line: done / failed / running, elapsed and the estimated time left."""

    def __init__(self, total, skipped, stream):
        self.total, self.skipped = total, skipped
        self.done = self.failed = 0
        self.t0 = time.perf_counter()
        self.stream = stream
        self.tty = stream is not None and getattr(stream, "isatty", lambda: False)()

    def update(self, running=0, last=None):
        if self.stream is None:
            return
        n = self.done + self.failed
        elapsed = time.perf_counter() - self.t0
        left = ""
        if n:
            remaining = self.total - self.skipped - n
            left = f", ~{remaining * elapsed / n:.0f} s left"
        width = 24
        filled = int(width * (self.skipped + n) / max(1, self.total))
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {self.skipped + n}/{self.total} "
                f"points: {self.done} done, {self.failed} failed, {running} in flight, "
                f"{self.skipped} finished before; {elapsed:.0f} s{left}")
        if last:
            line += f"  ({last})"
        if self.tty:
            print("\r" + line, end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)

    def close(self):
        if self.tty:
            print(file=self.stream)


def _finished(point_dir):
    record = read_json(Path(point_dir) / POINT_RESULT)
    return record is not None and record.get("status") == "ok"


def _record_failure(point_dir, error, tb, attempts):
    Path(point_dir).mkdir(parents=True, exist_ok=True)
    write_json(Path(point_dir) / POINT_ERROR,
                {"status": "failed", "error": f"{type(error).__name__}: {error}",
                 "traceback": tb, "attempts": attempts})


def _client(client, scheduler, workers):
    """(client, whether this sweep opened it, cluster to close or None, n_workers, make
    jobs)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("sweeps on Dask need the 'sweep' extra: pip install "
                          "'le_brian[sweep]' (or workers=0 to run the points here)") from None
    if client is not None:
        return client, False, None, max(1, len(client.scheduler_info()["workers"])), 1
    if scheduler is not None:
        return _connect(Client, scheduler), True, None, 1, 1
    n = workers or os.cpu_count() or 1
    # silence_logs: the workers' own log lines (e.g. heartbeats failing while the
    # cluster closes); a task's error reaches the sweep through its future. The worker
    # processes start with SIGINT ignored (inherited): Ctrl-C reaches this process only,
    # which cancels the points and closes the cluster, instead of every worker printing
    # its KeyboardInterrupt traceback.
    with _sigint_ignored(), warnings.catch_warnings():
        # the scheduler's HTTP server moves to a free port when 8787 is taken
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.CRITICAL)
    return Client(cluster), True, cluster, n, max(1, (os.cpu_count() or 1) // n)


def _connect(client_class, scheduler):
    """A client of the scheduler at ``scheduler``; ConnectionError (an OSError) naming
    the address when it cannot be reached within `SCHEDULER_TIMEOUT_S`."""
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ValueError(f"scheduler must be an address such as tcp://host:8786, got "
                         f"{scheduler!r}")
    try:
        return client_class(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, TimeoutError) as err:
        raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler} within "
                              f"{SCHEDULER_TIMEOUT_S} s ({type(err).__name__}); start it "
                              f"(dask scheduler) or check --scheduler") from None
    except ValueError as err:
        raise ValueError(f"scheduler {scheduler!r}: {err}") from None


@contextlib.contextmanager
def _sigint_ignored():
    """SIGINT ignored while child processes start (they inherit it); restored after."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run(spec, client=None, scheduler=None, workers=None, out=None, retries=None,
        progress=sys.stderr, figure=True, max_points=None):
    """Run every unfinished point of a sweep and aggregate all of them.

    Parameters
    ----------
    spec : path, dict or SweepSpec
        See `le_brian.sweep.spec`.
    client : distributed.Client, optional
        Use this client's cluster as it is.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``).
    workers : int, optional
        Without ``client`` / ``scheduler``: a `distributed.LocalCluster` of this many
        single-threaded worker processes on the loopback interface (default one per
        core); ``0`` runs the points one after another in this process (no Dask).
    out : path, optional
        The sweep folder (default the spec's ``out``, else ``./sweeps/<spec name>``).
    retries : int, optional
        Extra attempts of a point that raised (default the spec's). A point whose worker
        died is rescheduled by Dask on another worker.
    progress : file or None
        Where the status line goes (default stderr).
    figure : bool
        Draw ``sweep.png``.
    max_points : int, optional
        The largest grid allowed (default `le_brian.sweep.spec.max_points_limit` ()).

    Returns
    -------
    SweepResult

    Raises
    ------
    SpecError
        A specification that cannot run (before anything runs), e.g. more points than
        ``max_points``.
    ConnectionError
        ``scheduler`` cannot be reached.
    KeyboardInterrupt
        After the finished points were aggregated (the table says ``complete: false``).
    """
    spec = load_spec(spec, max_points=max_points)
    out = Path(out if out is not None else spec.out if spec.out is not None else
               Path("sweeps") / Path(spec.source).stem)
    retries = spec.retries if retries is None else int(retries)
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    if workers is not None and (not isinstance(workers, int) or workers < 0):
        raise ValueError(f"workers must be a non-negative int, got {workers!r}")
    points = spec.points()
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "sweep_spec.json", spec.as_dict())
    dirs = {p.id: out / POINTS / p.id for p in points}
    todo = [p for p in points if not _finished(dirs[p.id])]
    records = []
    t0 = time.perf_counter()
    bar = None
    remaining = todo
    try:
        while remaining:
            if workers == 0 and client is None and scheduler is None:
                bar = bar or _Progress(len(points), len(points) - len(todo), progress)
                elsewhere = []
                for p in remaining:
                    taken = _take(dirs[p.id])
                    if taken == "elsewhere":
                        elsewhere.append(p)
                    elif taken == "mine":
                        try:
                            records.append(_run_here(spec, p, dirs[p.id], retries, bar))
                        finally:
                            claims.release(dirs[p.id])
            else:
                new, elsewhere = _run_dask(spec, remaining, dirs, retries, client, scheduler,
                                           workers, len(points), progress)
                records += new
            remaining = _wait_for_others(elsewhere, dirs, progress)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
            bar = None
        rows, _, _ = aggregate(spec, out, figure=figure)
        n_ok = sum(r["status"] == "ok" for r in rows)
        raise KeyboardInterrupt(f"{n_ok} of {len(rows)} points are finished and saved in "
                                f"{out}; run the sweep again to continue") from None
    finally:
        claims.release_all()
        if bar is not None:
            bar.close()
    rows, complete, files = aggregate(spec, out, figure=figure)
    compiles, programs = {}, {}
    for r in records:
        if r.get("status") == "ok":
            compiles[r["worker"]] = compiles.get(r["worker"], 0) + r["compiles"]
            programs[r["worker"]] = programs.get(r["worker"], 0) + r["programs_built"]
    return SweepResult(rows, len(points), len(records), len(points) - len(todo),
                       sum(r["status"] == "failed" for r in rows), complete, compiles,
                       programs, time.perf_counter() - t0, files,
                       n_elsewhere=len(todo) - len(records))


def _take(point_dir):
    """'mine' (claimed by this process, unfinished), 'done' (finished meanwhile) or
    'elsewhere' (another live process holds it)."""
    if not claims.claim(point_dir):
        return "elsewhere"
    if _finished(point_dir):  # finished by another sweep since the folder was read
        claims.release(point_dir)
        return "done"
    return "mine"


def _wait_for_others(elsewhere, dirs, progress, poll_s=0.5):
    """Wait until no other process holds a point of ``elsewhere``; returns the points to
    run here: those released without a result (their sweep was interrupted or killed)."""
    if elsewhere and progress is not None:
        print(f"{len(elsewhere)} point(s) are being run by another sweep on this folder; "
              "waiting for them", file=progress, flush=True)
    waiting, again = list(elsewhere), []
    while waiting:
        still = []
        for p in waiting:
            d = dirs[p.id]
            if claims.held_elsewhere(d):
                still.append(p)
            elif not (_finished(d) or (d / POINT_ERROR).is_file()):
                again.append(p)
        waiting = still
        if waiting:
            time.sleep(poll_s)
    return again


def _run_here(spec, point, point_dir, retries, bar):
    for attempt in range(retries + 1):
        try:
            record = execute_point(spec.protocol.name, point.params, point_dir)
            bar.done += 1
            bar.update(last=f"{point.id} ok")
            return record
        except Exception as err:  # noqa: BLE001  (recorded, the other points go on)
            if attempt == retries:
                _record_failure(point_dir, err, traceback.format_exc(), attempt + 1)
                bar.failed += 1
                bar.update(last=f"{point.id} failed: {type(err).__name__}")
                return {"status": "failed"}


def _run_dask(spec, todo, dirs, retries, client, scheduler, workers, total, progress):
    from distributed import as_completed

    c, own, cluster, _, make_jobs = _client(client, scheduler, workers)
    bar = _Progress(total, total - len(todo), progress)
    records = []
    futures = {}
    try:
        c.register_plugin(BrianWorkerSetup(make_jobs))
        token = f"{os.getpid()}-{time.time_ns()}"

        def submit(pts):
            """Submit the first point of ``pts`` this process can claim (None if none);
            the others claimed by another sweep go to ``elsewhere``."""
            while pts:
                p = pts.pop(0)
                taken = _take(dirs[p.id])
                if taken == "elsewhere":
                    elsewhere.append(p)
                if taken != "mine":
                    continue
                fut = c.submit(execute_point, spec.protocol.name, p.params, str(dirs[p.id]),
                               key=f"le-brian-point-{p.id}-{token}", pure=False,
                               retries=retries)
                futures[fut] = p
                return fut
            return None

        # the first point of every program shape first; the others of a shape once it
        # has finished, so that they take its binary from the program cache instead of
        # compiling it again at the same time on another worker
        shapes, elsewhere = {}, []
        for p in todo:
            shapes.setdefault(spec.protocol.shape_of(p.params), []).append(p)
        first = {}
        for pts in shapes.values():
            fut = submit(pts)
            if fut is not None:
                first[futures[fut].id] = pts
        pending = as_completed(list(futures))
        bar.update(running=len(futures))
        for fut in pending:
            p = futures[fut]
            rest = first.pop(p.id, [])
            for q in list(rest):  # the others of this shape now, in parallel
                nxt = submit(rest)
                if nxt is not None:
                    pending.add(nxt)
            if fut.status == "finished":
                records.append(fut.result())
                claims.release(dirs[p.id])
                bar.done += 1
                bar.update(running=_running(futures), last=f"{p.id} ok")
            else:
                err = fut.exception()
                tb = "".join(traceback.format_tb(fut.traceback())) if fut.traceback() else ""
                _record_failure(dirs[p.id], err, f"{tb}{type(err).__name__}: {err}",
                                retries + 1)
                records.append({"status": "failed"})
                claims.release(dirs[p.id])
                bar.failed += 1
                bar.update(running=_running(futures), last=f"{p.id} failed: "
                                                           f"{type(err).__name__}")
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    finally:
        bar.close()
        if own:
            c.close()
        if cluster is not None:
            cluster.close()
    return records, elsewhere


def _running(futures):
    return sum(1 for f in futures if f.status == "pending")


def aggregate(spec, out, figure=True):
    """Read every point's folder into one table (``sweep.csv``, ``sweep.json``) and draw
    the protocol's figure; returns (rows, complete, files written)."""
    spec = load_spec(spec)
    out = Path(out)
    rows = []
    for p in spec.points():
        d = out / POINTS / p.id
        ok = read_json(d / POINT_RESULT)
        row = {"point": p.id, **_plain(p.params)}
        if ok is not None and ok.get("status") == "ok":
            row.update(status="ok", **ok["metrics"], wall_s=ok["wall_s"], worker=ok["worker"],
                       programs_built=ok["programs_built"], compiles=ok["compiles"])
        else:
            err = read_json(d / POINT_ERROR)
            row.update(status="failed", error=err["error"]) if err else row.update(
                status="missing")
        rows.append(row)
    complete = all(r["status"] == "ok" for r in rows)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    # a unique temporary name: two aggregations of one folder (two sweeps) never write
    # into one file; the rename is atomic
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".sweep.csv.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out / "sweep.csv")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    write_json(out / "sweep.json", {"spec": spec.as_dict(), "complete": complete,
                                     "n_points": len(rows),
                                     "n_ok": sum(r["status"] == "ok" for r in rows),
                                     "rows": rows})
    files = [out / "sweep.csv", out / "sweep.json"]
    if figure and any(r["status"] == "ok" for r in rows):
        path = plot_sweep(spec, rows, out / "sweep.png")
        if path is not None:
            files.append(path)
    return rows, complete, files


def plot_sweep(spec, rows, path):
    """The protocol's metric against the first varied numeric axis (the presentation
    time when it varies; log scale for times), one line per combination of the other
    varied parameters, mean and min-max over seeds. None if nothing numeric varies."""
    from matplotlib.figure import Figure

    from ..io import save_figure

    ok = [r for r in rows if r["status"] == "ok"]
    metric = spec.protocol.metric or next(
        (k for k, v in ok[0].items() if k not in ("point", "status", "wall_s", "worker",
                                                  "programs_built", "compiles")
         and k not in spec.varying() and k not in spec.fixed
         and isinstance(v, (int, float))), None)
    varying = spec.varying()
    x_names = [n for n in spec.protocol.x_axis if n in varying] + varying
    x_name = next((n for n in x_names if all(_number(r[n]) is not None for r in ok)), None)
    if metric is None or x_name is None:
        return None
    others = [n for n in varying if n != x_name and n not in spec.protocol.seed_names]
    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.subplots()
    groups = {}
    for r in ok:
        groups.setdefault(tuple(str(r[n]) for n in others), []).append(r)
    for label, members in sorted(groups.items()):
        xs = sorted({_number(r[x_name]) for r in members})
        values = [[r[metric] for r in members if _number(r[x_name]) == x] for x in xs]
        mean = [np.mean(v) for v in values]
        line, = ax.plot(xs, mean, "o-", label=", ".join(f"{n}={v}" for n, v in
                                                       zip(others, label)) or metric)
        if any(len(v) > 1 for v in values):
            ax.fill_between(xs, [min(v) for v in values], [max(v) for v in values],
                            color=line.get_color(), alpha=0.2)
    unit = _unit_of(ok[0][x_name])
    if unit in ("ms", "s", "us"):
        ax.set_xscale("log")
    ax.set_xlabel(f"{x_name} ({unit})" if unit else x_name)
    ax.set_ylabel(metric)
    ax.set_title(f"{spec.protocol.name} sweep ({len(ok)} of {len(rows)} points; mean, "
                 f"min-max over {', '.join(spec.protocol.seed_names)})", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path, dpi=100)[0]


def _number(value):
    """A number from a table value (``'10. ms'`` -> 10.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.split()[0])
        except (ValueError, IndexError):
            return None
    return None


def _unit_of(value):
    return value.split()[1] if isinstance(value, str) and len(value.split()) == 2 else ""
