"""Sweeps on Dask (le_brian.sweep): a LocalCluster of 2 single-threaded workers on the
loopback interface runs the points; results equal the same points run serially, a killed
worker's point is retried, a failing point is reported while the others finish, a second
invocation runs nothing new, standalone programs compile once per shape, bad
specifications are refused before anything runs."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from brian2 import ms

distributed = pytest.importorskip("distributed")

from le_brian import sweep  # noqa: E402
from le_brian.sweep import SpecError, load_spec  # noqa: E402

HELPERS = '''
import os
from pathlib import Path


def square(params, out_dir):
    """y = x^2; raises for x == fail_at; every call appended to calls-<x>.txt."""
    x = params["x"]
    with open(Path(params["log_dir"]) / f"calls-{x}.txt", "a") as f:
        f.write("call\\n")
    if x == params.get("fail_at"):
        raise ValueError(f"x = {x} fails on purpose")
    (Path(out_dir) / "note.txt").write_text(str(x))
    return {"y": x * x}


def slow(params, out_dir):
    """Sleeps ``params['sleep']`` s (so that a test can interrupt the sweep)."""
    import time

    (Path(params["log_dir"]) / f"started-{params['x']}").write_text("")
    time.sleep(params["sleep"])
    return {"y": params["x"]}


def die_once(params, out_dir):
    """The first attempt at x == 1 kills its worker process (no exception, no cleanup)."""
    marker = Path(params["log_dir"]) / f"died-{params['x']}"
    if params["x"] == 1 and not marker.exists():
        marker.write_text("killed")
        os._exit(1)
    return {"y": params["x"] + 1, "pid": os.getpid()}
'''


@pytest.fixture(scope="module")
def helpers(tmp_path_factory):
    """A module of sweep functions importable here and on the workers (sys.path is
    inherited by the spawned worker processes)."""
    folder = tmp_path_factory.mktemp("helpers")
    (folder / "le_sweep_helpers.py").write_text(HELPERS)
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))


@pytest.fixture(scope="module")
def client(helpers):
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None,
                           silence_logs=logging.CRITICAL)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def _bars_spec(device, **fixed):
    return {"protocol": "bars",
            "fixed": {"epochs": 2, "device": device, **fixed},
            "grid": {"presentation_time": ["0.3 ms", "1 ms"], "seed": [12354, 12355]}}


def test_bars_sweep_on_two_workers_equals_serial(client, tmp_path):
    """4 bars points (runtime/numpy) on the cluster and the same 4 in this process: the
    aggregated accuracies and every point's validation curve are identical; rows carry
    the parameters with their units; the figure is drawn."""
    spec = _bars_spec("runtime", codegen_target="numpy")
    dask = sweep.run(spec, client=client, out=tmp_path / "dask", progress=None)
    serial = sweep.run(spec, workers=0, out=tmp_path / "serial", progress=None)
    assert dask.complete and serial.complete and dask.n_run == serial.n_run == 4
    key = lambda r: (r["presentation_time"], r["seed"])  # noqa: E731
    a = {key(r): r["final_accuracy"] for r in dask.rows}
    b = {key(r): r["final_accuracy"] for r in serial.rows}
    assert a == b and set(a) == {("0.3 ms", 12354), ("0.3 ms", 12355), ("1 ms", 12354),
                                 ("1 ms", 12355)}
    for row in dask.rows:
        curve = json.loads((tmp_path / "dask" / "points" / row["point"] / "curves.json")
                           .read_text())
        same = json.loads((tmp_path / "serial" / "points" / row["point"] / "curves.json")
                          .read_text())
        assert curve == same and len(curve["val_accuracy"]) == 2
    assert len({r["worker"] for r in dask.rows}) == 2  # both workers ran points
    table = json.loads((tmp_path / "dask" / "sweep.json").read_text())
    assert table["complete"] and table["n_ok"] == 4
    assert (tmp_path / "dask" / "sweep.csv").read_text().count("\n") == 5
    assert (tmp_path / "dask" / "sweep.png").stat().st_size > 10_000
    # a second invocation runs nothing new
    again = sweep.run(spec, client=client, out=tmp_path / "dask", progress=None)
    assert again.n_run == 0 and again.n_skipped == 4 and again.complete
    assert {key(r): r["final_accuracy"] for r in again.rows} == a


@pytest.mark.standalone
def test_standalone_points_compile_once_per_shape(client, tmp_path, monkeypatch):
    """cpp_standalone, 2 program shapes (T = 0.3 and 1 ms) x 2 seeds x 2 modes on 2
    workers with an empty program cache: 2 compiler runs in all (the first point of a
    shape runs first, the rest of its shape take the binary from the cache), and the
    same points run afterwards in a fresh process compile nothing and agree to the bit."""
    monkeypatch.setenv("LE_BRIAN_CACHE", str(tmp_path / "cache"))
    client.run(lambda path: __import__("os").environ.__setitem__("LE_BRIAN_CACHE", path),
               str(tmp_path / "cache"))
    spec = _bars_spec("cpp_standalone")
    spec["grid"]["mode"] = ["le", "original"]
    dask = sweep.run(spec, client=client, out=tmp_path / "dask", progress=None)
    assert dask.complete and dask.n_run == 8
    assert sum(dask.compiles.values()) == 2, dask.rows
    assert sum(dask.programs.values()) <= 4  # at most one program per shape and worker
    # the same points in a fresh process (le-brian sweep --workers 0): all from the cache
    spec_file = tmp_path / "bars.json"
    spec_file.write_text(json.dumps(spec))
    serial = subprocess.run([sys.executable, "-c", "import json, sys; from le_brian import "
                             "sweep; r = sweep.run(json.load(open(sys.argv[1])), workers=0, "
                             "out=sys.argv[2], progress=None); print(json.dumps([sum("
                             "r.compiles.values()), r.rows]))", str(spec_file),
                             str(tmp_path / "serial")], capture_output=True, text=True,
                            timeout=900)
    assert serial.returncode == 0, serial.stderr[-3000:]
    compiles, rows = json.loads(serial.stdout.strip().splitlines()[-1])
    assert compiles == 0
    assert ({r["point"]: r["final_accuracy"] for r in dask.rows}
            == {r["point"]: r["final_accuracy"] for r in rows})


def test_a_failing_point_is_reported_and_the_others_finish(client, helpers, tmp_path):
    """x in 0..3, x = 2 raises: retried once (two calls), recorded with its traceback in
    error.json and the table (complete: false); the others finish. A second invocation
    runs the failed point only."""
    spec = {"protocol": "python:le_sweep_helpers:square", "retries": 1,
            "fixed": {"fail_at": 2, "log_dir": str(tmp_path)},
            "grid": {"x": [0, 1, 2, 3]}}
    res = sweep.run(spec, client=client, out=tmp_path / "out", progress=None)
    assert not res.complete and res.n_failed == 1 and res.n_run == 4
    rows = {r["x"]: r for r in res.rows}
    assert [rows[x]["status"] for x in range(4)] == ["ok", "ok", "failed", "ok"]
    assert [rows[x].get("y") for x in (0, 1, 3)] == [0, 1, 9]
    assert "x = 2 fails on purpose" in rows[2]["error"]
    error = json.loads((tmp_path / "out" / "points" / rows[2]["point"] / "error.json")
                       .read_text())
    assert "le_sweep_helpers.py" in error["traceback"] and error["attempts"] == 2
    assert (tmp_path / "calls-2.txt").read_text().count("call") == 2  # 1 + 1 retry
    assert not json.loads((tmp_path / "out" / "sweep.json").read_text())["complete"]
    again = sweep.run(spec, client=client, out=tmp_path / "out", progress=None)
    assert again.n_run == 1 and again.n_skipped == 3
    assert (tmp_path / "calls-0.txt").read_text().count("call") == 1  # not rerun


def test_a_killed_worker_has_its_point_retried(client, helpers, tmp_path):
    """The first attempt at x = 1 kills its worker process mid-task; the nanny restarts
    it, the scheduler reschedules the point and the sweep completes."""
    spec = {"protocol": "python:le_sweep_helpers:die_once",
            "fixed": {"log_dir": str(tmp_path)}, "grid": {"x": [0, 1, 2, 3]}}
    res = sweep.run(spec, client=client, out=tmp_path / "out", progress=None)
    assert (tmp_path / "died-1").exists()
    assert res.complete and [r["y"] for r in res.rows] == [1, 2, 3, 4]


def test_toml_yaml_and_bad_specs(tmp_path):
    """TOML and YAML give the same points (product x zip, units parsed); unknown
    protocol, unknown parameter, empty grid, wrong units, unequal zip axes and a
    parameter given twice are refused naming the file and the entry; the CLI prints one
    line (exit 2)."""
    toml = tmp_path / "s.toml"
    toml.write_text(textwrap.dedent('''
        protocol = "bars"
        [fixed]
        epochs = 2
        [grid]
        presentation_time = ["0.3 ms", "1 ms"]
        [zip]
        seed = [1, 2, 3]
        mode = ["le", "original", "le"]
    '''))
    yaml_file = tmp_path / "s.yaml"
    yaml_file.write_text(textwrap.dedent('''
        protocol: bars
        fixed: {epochs: 2}
        grid: {presentation_time: [0.3 ms, 1 ms]}
        zip: {seed: [1, 2, 3], mode: [le, original, le]}
    '''))
    a, b = load_spec(toml).points(), load_spec(yaml_file).points()
    assert len(a) == 6 and [p.id for p in a] == [p.id for p in b]
    assert a[0].params["presentation_time"] == 0.3 * ms
    assert [p.params["seed"] for p in a[:3]] == [1, 2, 3]
    assert [p.params["mode"] for p in a[:3]] == ["le", "original", "le"]
    one = {"protocol": "bars", "grid": {"presentation_time": ["1 ms"]}}
    same = {"protocol": "bars", "grid": {"presentation_time": ["1000 us"]}}
    assert load_spec(one).points()[0].id == load_spec(same).points()[0].id  # one folder
    bad = {
        "unknown protocol 'barz'": {"protocol": "barz", "grid": {"seed": [1]}},
        "unknown parameter(s) ['epoch']": {"protocol": "bars", "grid": {"epoch": [1]}},
        "grid.seed is empty": {"protocol": "bars", "grid": {"seed": []}},
        "the grid is empty": {"protocol": "bars", "fixed": {"seed": 1}},
        "parameter presentation_time: expected a value with a unit": {
            "protocol": "bars", "grid": {"presentation_time": [1.0]}},
        "parameter presentation_time: expected a time, got '10 Hz'": {
            "protocol": "bars", "grid": {"presentation_time": ["10 Hz"]}},
        "zip axes must have equal lengths": {
            "protocol": "bars", "zip": {"seed": [1, 2], "mode": ["le"]}},
        "given more than once": {"protocol": "bars", "fixed": {"seed": 1},
                                 "grid": {"seed": [1, 2]}},
        "must be one of ['le', 'original']": {"protocol": "bars",
                                               "fixed": {"presentation_time": "1 ms"},
                                               "grid": {"mode": ["lee"]}},
        "protocol 'bars' needs ['presentation_time']": {"protocol": "bars",
                                                        "grid": {"seed": [1]}},
        "unknown parameter(s) ['seeds'] of protocol 'train'": {"protocol": "train",
                                                              "grid": {"seeds": [1]}},
        "parameter activation must be one of": {
            "protocol": "train", "grid": {"activation": ["tanhh"]}},
    }
    for message, spec in bad.items():
        with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(
                ")", r"\)").replace("[", r"\[").replace("]", r"\]")):
            load_spec(spec)
    broken = tmp_path / "broken.toml"
    broken.write_text('protocol = "bars"\n[grid]\npresentation_time = [3]\n')
    out = subprocess.run([sys.executable, "-m", "le_brian", "sweep", str(broken),
                          "--workers", "0"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 2 and "broken.toml" in out.stderr
    assert "presentation_time" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_train_protocol_writes_run_folders(tmp_path, helpers):
    """The train protocol: one run folder per point (as le-brian train makes), units in
    the spec (presentation_time, learning_rates), the CLI in this process (--workers 0)
    and the table's test accuracy equal to the run folder's metrics."""
    spec = tmp_path / "train.toml"
    spec.write_text(textwrap.dedent('''
        protocol = "train"
        [fixed]
        dataset = "yinyang"
        hidden = [8]
        activation = "hard_sigmoid"
        epochs = 1
        n_train = 60
        n_val = 20
        n_test = 20
        device = "runtime"
        codegen_target = "numpy"
        learning_rates = "100 Hz"
        [grid]
        presentation_time = ["1 ms", "2 ms"]
    '''))
    out = subprocess.run([sys.executable, "-m", "le_brian", "sweep", str(spec), "--workers",
                          "0", "--out", str(tmp_path / "sw")], capture_output=True, text=True,
                         timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "2 points: 2 run now, 0 finished before, 0 failed" in out.stdout
    table = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    for row in table["rows"]:
        folder = tmp_path / "sw" / "points" / row["point"]
        metrics = json.loads((folder / "metrics.json").read_text())
        assert (folder / "weights.npz").is_file() and (folder / "config.json").is_file()
        assert row["test_accuracy"] == pytest.approx(metrics[-1]["test_accuracy"])
        config = json.loads((folder / "config.json").read_text())["parameters"]
        assert config["training"]["presentation_time"] == row["presentation_time"]
        assert config["learning"]["learning_rates"] == "100 Hz"
    assert np.isfinite([r["test_accuracy"] for r in table["rows"]]).all()


@pytest.mark.standalone
def test_benchmark_protocol_in_this_process(tmp_path):
    """The benchmark protocol (benchmark_layered per architecture) with workers=0: one
    row per architecture with its steps/s and the steps asked for."""
    spec = {"protocol": "benchmark", "fixed": {"n_steps": 1000, "repeats": 1},
            "grid": {"architecture": ["20-10-5"]}}
    res = sweep.run(spec, workers=0, out=tmp_path / "bm", progress=None)
    (row,) = res.rows
    assert res.complete and row["n_steps"] == 1000 and row["steps_per_s"] > 0
    with pytest.raises(SpecError, match=r"needs \['architecture'\]"):
        load_spec({"protocol": "benchmark", "fixed": {"n_steps": 10},
                   "grid": {"seed": [1]}})


def test_ctrl_c_keeps_finished_points_and_never_passes_for_complete(helpers, tmp_path):
    """SIGINT to `le-brian sweep --workers 0` during the second of three points: exit 130
    with one line saying how many points are saved, the table says complete: false with
    the first point done; the next invocation runs the two others only."""
    import os
    import signal
    import time

    spec = tmp_path / "slow.toml"
    spec.write_text(textwrap.dedent(f'''
        protocol = "python:le_sweep_helpers:slow"
        [fixed]
        sleep = 2.0
        log_dir = "{tmp_path}"
        [grid]
        x = [0, 1, 2]
    '''))
    env = dict(os.environ, PYTHONPATH=str(helpers))
    cmd = [sys.executable, "-m", "le_brian", "sweep", str(spec), "--workers", "0", "--out",
           str(tmp_path / "out")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    deadline = time.time() + 120
    while not (tmp_path / "started-1").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "1 of 3 points are finished and saved" in err and "Traceback" not in err
    table = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert not table["complete"] and [r["status"] for r in table["rows"]] == [
        "ok", "missing", "missing"]
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "3 points: 2 run now, 1 finished before, 0 failed" in again.stdout
    assert json.loads((tmp_path / "out" / "sweep.json").read_text())["complete"]


def test_equal_values_spelled_differently_are_one_point_and_refused_twice():
    """"1 ms", "1000 us" and "0.001 s" are one point (one id): a grid naming it twice is
    refused naming the parameter and both spellings; values that differ in the 7th
    significant digit stay two points."""
    base = {"protocol": "bars"}
    ids = {load_spec({**base, "grid": {"presentation_time": [v]}}).points()[0].id
           for v in ("1 ms", "1000 us", "0.001 s", "1.0 ms")}
    assert len(ids) == 1
    for axis in (["1 ms", "1000 us"], ["0.3 ms", "300 us", "2 ms"]):
        with pytest.raises(SpecError, match=r"same point .*presentation_time: '[0-9.]+ ms' "
                                            r"and '[0-9]+ us'"):
            load_spec({**base, "grid": {"presentation_time": axis}})
    with pytest.raises(SpecError, match="same point"):  # also across zip rows
        load_spec({**base, "fixed": {"presentation_time": "1 ms"},
                   "zip": {"seed": [1, 1], "mode": ["le", "le"]}})
    close = load_spec({**base, "grid": {"presentation_time": ["1.000001 ms", "1.000002 ms"]}})
    assert len({p.id for p in close.points()}) == 2
    assert [float(p.params["presentation_time"] / ms) for p in close.points()] == [
        1.000001, 1.000002]


def test_grid_size_is_counted_before_any_point_is_made(monkeypatch):
    """A 10^6-point grid (1000 x 1000) is refused at once with its size and the limit
    (no point is checked: the protocol's check is never called); max_points and
    LE_BRIAN_MAX_POINTS allow more; a bad limit names the setting."""
    from le_brian.sweep import protocols

    calls = []
    real = protocols.Protocol.check
    monkeypatch.setattr(protocols.Protocol, "check",
                        lambda self, raw, source: calls.append(1) or real(self, raw, source))
    big = {"protocol": "bars", "fixed": {"presentation_time": "1 ms"},
           "grid": {"seed": list(range(1000)), "epochs": list(range(1, 1001))}}
    with pytest.raises(SpecError, match=r"1,000,000 points \(seed \(1000\) x epochs \(1000\)"
                                        r"\), more than the limit of 10,000"):
        load_spec(big)
    assert calls == []
    small = {"protocol": "bars", "fixed": {"presentation_time": "1 ms"},
             "grid": {"seed": list(range(30))}, "zip": {"epochs": [1, 2, 3]}}
    with pytest.raises(SpecError, match=r"90 points .* x zip \(3\)"):
        load_spec(small, max_points=89)
    assert len(load_spec(small, max_points=90).points()) == 90
    monkeypatch.setenv("LE_BRIAN_MAX_POINTS", "50")
    with pytest.raises(SpecError, match="limit of 50"):
        load_spec(small)
    monkeypatch.setenv("LE_BRIAN_MAX_POINTS", "many")
    with pytest.raises(ValueError, match="LE_BRIAN_MAX_POINTS must be an int >= 1"):
        load_spec(small)
    with pytest.raises(ValueError, match="max_points must be an int >= 1"):
        load_spec(small, max_points=0)


def test_no_user_code_runs_while_a_spec_is_checked(tmp_path, monkeypatch):
    """A train spec naming a model .py file and a python:<module>:<function> protocol:
    checking them (load_spec, le-brian sweep's validation) runs neither file (each would
    create a marker file); a missing model file or module is refused naming it; the
    model file runs where the point runs."""
    marker = tmp_path / "ran"
    model = tmp_path / "my_model.py"
    model.write_text(f"open({str(marker)!r}, 'a').write('model\\n')\n"
                     "TRAINING = dict(dataset='yinyang', hidden=[4])\n")
    spec = {"protocol": "train", "fixed": {"model": str(model)}, "grid": {"seed": [1, 2]}}
    assert len(load_spec(spec).points()) == 2
    assert not marker.exists()
    with pytest.raises(SpecError, match="model file .*nope.py not found"):
        load_spec({**spec, "fixed": {"model": str(tmp_path / "nope.py")}})
    module = tmp_path / "le_evil_mod.py"
    module.write_text(f"open({str(marker)!r}, 'a').write('module\\n')\n"
                      "def f(params, out_dir):\n    return {'y': 1}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    load_spec({"protocol": "python:le_evil_mod:f", "grid": {"x": [1]}})
    assert not marker.exists()
    with pytest.raises(SpecError, match="module 'le_no_such_module' not found"):
        load_spec({"protocol": "python:le_no_such_module:f", "grid": {"x": [1]}})
    with pytest.raises(SpecError, match="expected python:<module>:<function>"):
        load_spec({"protocol": "python:le_evil_mod", "grid": {"x": [1]}})
    from le_brian.sweep.protocols import _train_config

    cfg = _train_config(load_spec(spec).points()[0].params)  # where the point runs
    assert marker.read_text() == "model\n" and list(cfg.hidden) == [4]
    res = sweep.run({"protocol": "python:le_evil_mod:g", "grid": {"x": [1]}}, workers=0,
                    out=tmp_path / "out", progress=None)
    assert res.n_failed == 1 and "has no function g" in res.rows[0]["error"]


def test_an_unreachable_scheduler_is_one_line_within_seconds(tmp_path):
    """--scheduler at a port where nothing listens: exit 2 with one line naming the
    address, after the connect timeout (not 30 s), no traceback."""
    import socket

    with socket.socket() as s:  # a free port, closed again: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = tmp_path / "s.toml"
    spec.write_text('protocol = "bars"\n[grid]\npresentation_time = ["1 ms"]\n')
    out = subprocess.run([sys.executable, "-m", "le_brian", "sweep", str(spec), "--out",
                          str(tmp_path / "o"), "--scheduler", f"tcp://127.0.0.1:{port}"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 5 s" in out.stderr


TWO_SWEEPS = """
import json, sys
from le_brian import sweep
spec = {"protocol": "python:le_sweep_helpers:slow",
        "fixed": {"sleep": 0.3, "log_dir": sys.argv[1]}, "grid": {"x": list(range(8))}}
r = sweep.run(spec, workers=0, out=sys.argv[2], progress=None, figure=False)
print(json.dumps([r.n_run, r.n_elsewhere + r.n_skipped, r.complete]))
"""


def test_two_sweeps_on_one_folder_split_the_points(helpers, tmp_path):
    """Two processes run the same 8-point sweep on one --out at the same time: every
    point runs exactly once (each point's start marker is written once per run, appended
    to by both processes), both end with a complete table, and together they ran 8."""
    import os

    helpers_text = (helpers / "le_sweep_helpers.py").read_text()
    counting = helpers_text.replace(
        """(Path(params["log_dir"]) / f"started-{params['x']}").write_text("")""",
        """open(Path(params["log_dir"]) / f"started-{params['x']}", "a").write("run\\\\n")""")
    folder = tmp_path / "helpers"
    folder.mkdir()
    (folder / "le_sweep_helpers.py").write_text(counting)
    env = dict(os.environ, PYTHONPATH=str(folder))
    procs = [subprocess.Popen([sys.executable, "-c", TWO_SWEEPS, str(tmp_path),
                               str(tmp_path / "out")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    runs = [(tmp_path / f"started-{x}").read_text().count("run") for x in range(8)]
    assert runs == [1] * 8, (runs, results)
    assert sum(r[0] for r in results) == 8 and all(r[2] for r in results)
    assert all(r[0] + r[1] == 8 for r in results)  # the others ran or had run the rest
    assert not list((tmp_path / "out").rglob(".claim"))
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_a_claim_of_a_dead_process_is_taken_over(tmp_path):
    """A point claimed by a process that was killed (its lock died with it) is claimed by
    the next sweep; a live process's claim is not."""
    from le_brian.sweep import claims

    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from le_brian.sweep "
                               "import claims; print(claims.claim(sys.argv[1]), flush=True); "
                               "time.sleep(60)", str(tmp_path / "p")],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "True"
    assert claims.held_elsewhere(tmp_path / "p") and not claims.claim(tmp_path / "p")
    assert claims.owner(tmp_path / "p")["pid"] == holder.pid
    holder.kill()
    holder.wait()
    assert not claims.held_elsewhere(tmp_path / "p") and claims.claim(tmp_path / "p")
    claims.release(tmp_path / "p")
    assert not (tmp_path / "p" / ".claim").exists()


def test_aggregations_use_unique_temporary_files(tmp_path, monkeypatch):
    """Two aggregations of one folder never share a temporary file: the csv is written
    through a uniquely named temporary file in the folder and renamed."""
    import tempfile

    from le_brian.sweep import runner

    names = []
    real = tempfile.mkstemp

    def mkstemp(*args, **kwargs):
        fd, name = real(*args, **kwargs)
        names.append(name)
        return fd, name

    monkeypatch.setattr(runner.tempfile, "mkstemp", mkstemp)
    spec = {"protocol": "bars", "grid": {"presentation_time": ["1 ms"]}}
    for _ in range(2):
        runner.aggregate(spec, tmp_path, figure=False)
    csv_tmps = [n for n in names if ".sweep.csv." in n]
    assert len(csv_tmps) == 2 and len(set(csv_tmps)) == 2
    assert all(str(tmp_path) in n for n in csv_tmps)
    assert (tmp_path / "sweep.csv").read_text().splitlines()[1].endswith("missing")
    assert not list(tmp_path.glob(".sweep.csv.*"))


def test_ctrl_c_on_a_dask_sweep_is_one_line(helpers, tmp_path):
    """SIGINT to the whole process group of `le-brian sweep --workers 2` (what Ctrl-C in
    a terminal sends) while points run on the workers: exit 130, the status line and one
    'interrupted' line, no worker traceback."""
    import os
    import signal
    import time

    spec = tmp_path / "slow.toml"
    spec.write_text(textwrap.dedent(f'''
        protocol = "python:le_sweep_helpers:slow"
        [fixed]
        sleep = 30.0
        log_dir = "{tmp_path}"
        [grid]
        x = [0, 1, 2, 3]
    '''))
    env = dict(os.environ, PYTHONPATH=str(helpers))
    proc = subprocess.Popen([sys.executable, "-m", "le_brian", "sweep", str(spec), "--workers",
                             "2", "--out", str(tmp_path / "out")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    deadline = time.time() + 180
    while not list(tmp_path.glob("started-*")) and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[-1].startswith("le-brian: interrupted: 0 of 4 points are finished")
    assert len(lines) <= 3, err
