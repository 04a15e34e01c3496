"""Figure and benchmark scripts: every script answers --help from any working directory
(through the installed package: no script edits sys.path), the shared helpers
(`le_brian.cli.script_helpers`) work, and the figure scripts run in their fast mode and
write their outputs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p for p in (ROOT / "scripts").glob("*.py"))


def _run(script, *args, cwd):
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          timeout=900, cwd=cwd)


def test_scripts_use_the_installed_package():
    """No script edits sys.path or locates the repository from its own file."""
    assert SCRIPTS
    for script in SCRIPTS:
        text = script.read_text()
        assert "sys.path" not in text, f"{script.name} edits sys.path"
        assert "__file__" not in text, f"{script.name} locates files from __file__"


def test_script_helpers(tmp_path):
    """Common arguments (device choices from the engine), atomic JSON round trip, and
    the figure saver (folder created, PNG and PDF written, figure closed)."""
    import argparse

    from matplotlib.figure import Figure

    from le_brian.cli.script_helpers import (add_common_arguments, read_json, save_figure,
                                             write_json)
    from le_brian.engine.devices import DEVICES

    p = add_common_arguments(argparse.ArgumentParser(), device="runtime", out="figs")
    args = p.parse_args([])
    assert (args.device, args.out, args.fast) == ("runtime", Path("figs"), False)
    args = p.parse_args(["--device", "cpp_standalone", "--out", str(tmp_path), "--fast"])
    assert (args.device, args.out, args.fast) == ("cpp_standalone", tmp_path, True)
    choices = next(a.choices for a in p._actions if a.dest == "device")
    assert tuple(choices) == tuple(DEVICES)
    with pytest.raises(SystemExit):
        p.parse_args(["--device", "gpu"])
    with pytest.raises(ValueError):
        add_common_arguments(argparse.ArgumentParser(), device="gpu")

    path = tmp_path / "sub" / "r.json"
    assert read_json(path, default={"runs": {}}) == {"runs": {}}
    write_json(path, {"a": [1, 2.5], "out": tmp_path})
    assert read_json(path) == {"a": [1, 2.5], "out": str(tmp_path)}
    write_json(path, {"a": 3}, indent=None)
    assert read_json(path) == {"a": 3}
    assert sorted(q.name for q in path.parent.iterdir()) == ["r.json"]  # no temporary left

    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])
    paths = save_figure(fig, tmp_path / "figs" / "f.png", dpi=50, pdf=True)
    assert paths == [tmp_path / "figs" / "f.png", tmp_path / "figs" / "f.pdf"]
    assert all(q.stat().st_size > 0 for q in paths)


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_script_help(script, tmp_path):
    out = _run(script, "--help", cwd=tmp_path)  # not the repository root
    assert out.returncode == 0, out.stderr
    assert "usage:" in out.stdout


def test_fig_accuracy_vs_presentation_time_fast(tmp_path):
    out = _run(ROOT / "scripts" / "fig_accuracy_vs_presentation_time.py", "--fast", "--device",
               "runtime", "--out", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "accuracy_vs_presentation_time_fast.json").read_text())
    runs = summary["yinyang"]["runs"]
    assert set(runs) == {"backprop_seed0", "LE_T0.3_seed0", "lagged_T0.3_seed0",
                         "LE_T10_seed0", "lagged_T10_seed0"}
    for r in runs.values():
        assert 0.0 <= r["test_accuracy"] <= 1.0
    assert (tmp_path / "accuracy_vs_presentation_time_fast.png").stat().st_size > 10_000
    # a second call finds every run done and only redraws
    again = _run(ROOT / "scripts" / "fig_accuracy_vs_presentation_time.py", "--fast",
                 "--device", "runtime", "--out", str(tmp_path), cwd=tmp_path)
    assert again.returncode == 0 and "test accuracy" not in again.stdout


def test_fig_fourier_fast(tmp_path):
    out = _run(ROOT / "scripts" / "fig_fourier.py", "--fast", "--device", "runtime", "--out",
               str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "fourier_synthesis_fast.json").read_text())
    assert set(res) >= {"LE", "lagged", "settings"}
    assert (tmp_path / "fourier_synthesis_fast.png").stat().st_size > 10_000


def test_benchmark_script_fast(tmp_path):
    """A tiny grid on the runtime device: every entry is in the JSON (NumPy loop + 3 paths
    x 2 learning switches), the figures are consistent (runtime runs Brian2's templates on
    every path: the plain path's bytes per step), the Markdown table is written."""
    out = _run(ROOT / "scripts" / "benchmark.py", "--architectures", "20-10-5", "--devices",
               "runtime", "--dtypes", "float64", "--runtime-steps", "30", "--numpy-steps", "30",
               "--microcircuit-steps", "0", "--out", str(tmp_path / "b.json"),
               "--markdown", str(tmp_path / "b.md"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "b.json").read_text())
    assert res["machine"]["brian2"] == "2.10.1"
    entries = res["entries"]
    assert [(e["path"], e["learn"]) for e in entries] == [
        ("numpy-loop", True), ("dense", True), ("dense_unfused", True), ("plain", True),
        ("numpy-loop", False), ("dense", False), ("dense_unfused", False), ("plain", False)]
    for e in entries:
        assert e["synapse_updates_per_s"] == pytest.approx(e["steps_per_s"] * 250)
        assert e["samples_per_s"] == pytest.approx(e["steps_per_s"] / 10)
        assert e["bytes_per_s"] == pytest.approx(e["bytes_per_step"] * e["steps_per_s"])
        if e["path"] != "numpy-loop":
            assert e["n_steps"] == 30 and e["rerun_seconds"] > 0
            assert e["bytes_per_step"] == (3 * 8 + 16) * 200 + (4 * 8 + 24) * 50
            assert "fraction_of_floor" not in e  # runtime: Python overhead, no floor
        else:  # the NumPy loop's floor comes from a probe run right after it
            assert e["bytes_per_step"] == 8 * (3 * 200 + 4 * 50)
            assert 0 < e["fraction_of_floor"] < 1
            # learning: a read and a write of every weight; evaluation: one read
            assert e["floor_steps_per_s"] == pytest.approx(
                e["probe_bytes_per_s"] / ((2 if e["learn"] else 1) * 8 * 250))
    probes = res["bandwidth"]
    assert len(probes) == 2 and all(p["n_bytes"] == 8 * 250 and p["bytes_per_s"] > 0
                                    for p in probes)
    assert "Bandwidth probe (20-10-5, float64, 0.00 MB" in (tmp_path / "b.md").read_text()
    assert len(res["ratios"]) == 2
    table = (tmp_path / "b.md").read_text()
    assert "| 20-10-5 | on | runtime | dense | float64 |" in table
    header = next(line for line in table.splitlines() if line.startswith("| network | learn |"))
    assert "cpp_standalone" not in header and "f32" not in header  # not run: no column


@pytest.mark.parametrize("args, message", [
    (["--devices", "gpu"], "--devices: expected a comma-separated list"),
    (["--steps", "0"], "--steps must be a positive number of steps"),
    (["--repeats", "0"], "--repeats must be a positive number of reruns"),
    (["--paths", "dense,sparse"], "--paths: expected a comma-separated list of dense, "
     "dense_unfused, plain"),
    (["--dtypes", "float16"], "--dtypes: expected"),
    (["--architectures", "784-x"], "--architectures"),
    (["--microcircuit-steps", "3"], "--microcircuit-steps must be 0"),
    (["--conv-steps", "-1"], "--conv-steps must be 0"),
    pytest.param(["--devices", "cuda_standalone"], "cannot run on this machine",
                 marks=pytest.mark.skipif(__import__("shutil").which("nvidia-smi") is not None,
                                          reason="a GPU may be listed here")),
])
def test_benchmark_options_checked_before_any_work(args, message, tmp_path):
    out = _run(ROOT / "scripts" / "benchmark.py", *args, "--out", str(tmp_path / "b.json"),
               cwd=tmp_path)
    assert out.returncode == 2 and message in out.stderr, out.stderr
    assert not (tmp_path / "b.json").exists()


def test_benchmark_help_shows_defaults_and_quick(tmp_path):
    out = _run(ROOT / "scripts" / "benchmark.py", "--help", cwd=tmp_path)
    assert "--quick" in out.stdout and "(default: 2000)" in out.stdout


@pytest.mark.parametrize("learn", [True, False])
def test_benchmark_numpy_baseline_equals_reference(learn):
    """The benchmark's fast NumPy loop (in place, BLAS dger) equals the readable NumPy
    reference of the same equations to 1e-12 over 60 steps (784-30-20-10, hard sigmoid)."""
    import numpy as np

    from le_brian.numpy_reference import DenseNumpyLoop
    from le_brian.numpy_reference.layered import NumpyLENetwork

    rng = np.random.default_rng(5)
    sizes = [784, 30, 20, 10]
    w = [rng.normal(0, 1 / np.sqrt(a), (b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
    b = [rng.normal(0, 0.3, n) for n in sizes[1:]]
    fast = DenseNumpyLoop(w, b, eta=300.0)
    ref = NumpyLENetwork(w, b, "hard_sigmoid", "linear", 10e-3, 10e-3, 0.1, "voltage",
                         [300.0] * 3, 1e-4)
    x, y = rng.uniform(0, 1, (6, 784)), rng.uniform(0, 1, (6, 10))
    for k in range(60):
        out_fast = fast.step(x[k // 10], y[k // 10] if learn else None, learn).copy()
        out_ref = ref.step(x[k // 10], y[k // 10] if learn else None, learn)[0]
        np.testing.assert_allclose(out_fast, out_ref, rtol=0, atol=1e-12)
    for l in range(3):
        np.testing.assert_allclose(fast.W[l], ref.W[l], rtol=0, atol=1e-12)
        np.testing.assert_allclose(fast.e[l], ref.e[l], rtol=0, atol=1e-12)
    assert (np.abs(fast.W[0] - w[0]).max() > 1e-6) == learn


def test_fig_microcircuit_bars_compare_numpy(tmp_path):
    """--compare-numpy runs the same configuration in the NumPy step loop: both give the
    same pattern outputs (to 1e-10) and validation curves, and the timing summary adds up."""
    out = _run(ROOT / "scripts" / "fig_microcircuit_bars.py", "--times", "0.5", "--modes", "le",
               "--epochs", "4", "--seeds", "1", "--compare-numpy", "--out", str(tmp_path),
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "microcircuit_bars.json").read_text())
    (run,) = res["runs"].values()
    assert run["numpy_max_output_diff"] < 1e-10
    assert run["numpy_val_accuracy"] == run["val_accuracy"]
    assert run["numpy_same_epochs"] == 4
    t = res["timing"]
    assert t["configurations"] == 1 and t["steps"] == 4 * 16 * 5
    assert t["ratio_wall"] == pytest.approx(run["numpy_wall_s"] / run["wall_s"])
    assert "NumPy loop" in out.stdout and (tmp_path / "microcircuit_bars.png").exists()


def test_fig_microcircuit_yinyang_fast(tmp_path):
    """Every variant runs once and lands in the JSON; a second call resumes (runs nothing)."""
    script = ROOT / "scripts" / "fig_microcircuit_yinyang.py"
    out = _run(script, "--fast", "--out", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "microcircuit_yinyang_fast.json").read_text())
    assert set(res["summary"]) == {"le", "original", "le_frozen_hidden", "backprop_softplus",
                                   "backprop_tanh"}
    for r in res["runs"].values():
        assert len(r["val_accuracy"]) == 2 and 0.0 <= r["test_accuracy"] <= 1.0
    assert (tmp_path / "microcircuit_yinyang_fast.png").stat().st_size > 10_000
    again = _run(script, "--fast", "--out", str(tmp_path), cwd=tmp_path)
    assert again.returncode == 0 and "seed 0: test" not in again.stdout


def test_resume_results_refuses_other_settings(tmp_path, capsys):
    """Resumable results are reused only when made with the same settings; otherwise the
    script stops (exit 2) naming each difference; --restart starts afresh."""
    from le_brian.cli.script_helpers import resume_results, settings_key, write_json

    path = tmp_path / "r.json"
    assert resume_results(path, {"epochs": 2}) == {"runs": {}, "settings": {"epochs": 2}}
    write_json(path, {"runs": {"a": 1}, "settings": {"epochs": 2, "device": "runtime"}})
    assert resume_results(path, {"device": "runtime", "epochs": 2})["runs"] == {"a": 1}
    with pytest.raises(SystemExit) as stop:
        resume_results(path, {"epochs": 1, "device": "runtime"})
    assert stop.value.code == 2
    assert "epochs: 2 there, 1 now" in capsys.readouterr().err
    assert resume_results(path, {"epochs": 1}, restart=True)["runs"] == {}
    assert settings_key({"a": 1, "b": (2, 3)}) == settings_key({"b": [2, 3], "a": 1})
    assert settings_key({"a": 1}) != settings_key({"a": 2})


def test_fig_accuracy_refuses_a_summary_of_other_settings(tmp_path):
    """The figure script stops before training anything when its summary was made with
    other settings (a --fast summary of 2 epochs, say), naming the difference."""
    (tmp_path / "accuracy_vs_presentation_time_fast.json").write_text(json.dumps(
        {"settings": {"epochs": 2, "n_train": 300, "n_eval": 200, "dt_max_ms": 0.5,
                      "device": "runtime"}, "yinyang": {"runs": {}}}))
    out = _run(ROOT / "scripts" / "fig_accuracy_vs_presentation_time.py", "--fast", "--device",
               "runtime", "--out", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 2
    assert "epochs: 2 there, 1 now" in out.stderr
    assert not (tmp_path / "data").exists()
    # the option the message names is the script's (as in the other figure scripts)
    assert "pass --restart" in out.stderr
    usage = _run(ROOT / "scripts" / "fig_accuracy_vs_presentation_time.py", "--help",
                 cwd=tmp_path)
    assert usage.returncode == 0 and "--restart, --rerun" in usage.stdout


@pytest.mark.slow
@pytest.mark.standalone
def test_fig_spike_budget_fast(tmp_path):
    """The spike-budget script: rate and spiking runs land in the JSON with test
    accuracies and the spiking run's hidden spikes per presentation (100 hard_sigmoid
    units firing at most 10 kHz for 1 ms: between 1 and 1000); a second call runs
    nothing."""
    script = ROOT / "scripts" / "fig_spike_budget.py"
    out = _run(script, "--fast", "--out", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "spike_budget_fast.json").read_text())
    assert set(res["summary"]) == {"rate", "1x10000"}
    spiking = res["runs"]["1x10000|1|0"]
    assert 1 < spiking["spikes_per_presentation"] < 1000
    assert all(0 <= r["test_accuracy"] <= 1 for r in res["runs"].values())
    assert (tmp_path / "spike_budget_fast.png").stat().st_size > 10_000
    again = _run(script, "--fast", "--out", str(tmp_path), cwd=tmp_path)
    assert again.returncode == 0 and "seed 0: test" not in again.stdout


@pytest.mark.standalone
def test_fig_microcircuit_bars_spiking(tmp_path):
    """--spiking: one configuration of the spiking bars microcircuit; its spike counts
    and mean rate are recorded, the settings carry the spiking options, and the files are
    named by the budget."""
    out = _run(ROOT / "scripts" / "fig_microcircuit_bars.py", "--times", "1", "--modes", "le",
               "--epochs", "3", "--seeds", "1", "--spiking", "--n-per-unit", "2", "--out",
               str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    res = json.loads((tmp_path / "microcircuit_bars_spiking_2x2000.json").read_text())
    assert res["settings"]["n_per_unit"] == 2 and res["settings"]["r_max_hz"] == 2000.0
    (run,) = res["runs"].values()
    assert run["n_spikes"] > 0 and 0 < run["mean_rate_hz"] < 2000 * 1.01
    assert run["spikes_per_presentation"] == pytest.approx(run["n_spikes"] / 48)
    assert (tmp_path / "microcircuit_bars_spiking_2x2000.png").exists()


def test_figure_scripts_run_through_a_dask_sweep(tmp_path):
    """fig_microcircuit_bars.py and fig_accuracy_vs_presentation_time.py with --workers 2
    (a local Dask cluster) give the same results as in their own process."""
    pytest.importorskip("distributed")
    bars = ROOT / "scripts" / "fig_microcircuit_bars.py"
    common = ["--epochs", "2", "--seeds", "2", "--times", "0.3", "1", "--device", "runtime",
              "--codegen-target", "numpy"]
    for name, extra in (("dask", ["--workers", "2"]), ("here", [])):
        out = _run(bars, *common, *extra, "--out", str(tmp_path / name), cwd=tmp_path)
        assert out.returncode == 0, out.stderr
    dask = json.loads((tmp_path / "dask" / "microcircuit_bars.json").read_text())["runs"]
    here = json.loads((tmp_path / "here" / "microcircuit_bars.json").read_text())["runs"]
    assert sorted(dask) == sorted(here) and len(dask) == 8
    assert all(dask[k]["val_accuracy"] == here[k]["val_accuracy"] for k in dask)
    assert (tmp_path / "dask" / "data" / "bars_sweep" / "sweep.json").is_file()
    acc = ROOT / "scripts" / "fig_accuracy_vs_presentation_time.py"
    for name, extra in (("dask2", ["--workers", "2"]), ("here2", [])):
        out = _run(acc, "--datasets", "yinyang", "--times", "0.3", "1", "--seeds", "1",
                   "--epochs", "1", "--n-train", "60", "--n-eval", "40", "--device",
                   "runtime", "--codegen-target", "numpy", *extra, "--out", str(tmp_path / name),
                   cwd=tmp_path)
        assert out.returncode == 0, out.stderr
    name = "accuracy_vs_presentation_time.json"
    dask = json.loads((tmp_path / "dask2" / name).read_text())["yinyang"]["runs"]
    here = json.loads((tmp_path / "here2" / name).read_text())["yinyang"]["runs"]
    assert sorted(dask) == sorted(here)
    assert all(dask[k]["test_accuracy"] == here[k]["test_accuracy"] for k in dask)


def test_fig_robustness_fast(tmp_path):
    """The three Fig. 4 parts in their smoke sizes: every run recorded, the step part's
    time-constant phase shrinks the mismatch and the output error, figures written; a
    second call only redraws."""
    script = ROOT / "scripts" / "fig_robustness.py"
    args = ("--fast", "--device", "runtime", "--codegen-target", "numpy", "--out",
            str(tmp_path))
    out = _run(script, *args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "robustness_fast.json").read_text())
    assert set(summary["mismatch"]) == {"yinyang_T2_sigma0_none_seed0",
                                        "yinyang_T2_sigma0.3_none_seed0",
                                        "yinyang_T2_sigma0.3_tl_seed0"}
    learned = summary["mismatch"]["yinyang_T2_sigma0.3_tl_seed0"]
    assert learned["tau_mismatch_ms"] < learned["tau_mismatch_ms_before"] / 2
    assert len(summary["noise"]) == 2 * 3  # noise levels x (plain, filtered, compensated)
    step = summary["step"]
    assert step["mismatch_ms_after"] < step["mismatch_ms_before"] / 2
    assert step["max_error_after"] < step["max_error_before"] / 2
    for part in ("mismatch", "step", "noise"):
        assert (tmp_path / f"robustness_{part}_fast.png").stat().st_size > 10_000
    again = _run(script, *args, "--parts", "mismatch", "noise", cwd=tmp_path)
    assert again.returncode == 0 and "test accuracy" not in again.stdout


def _script_module(name):
    """A script of scripts/ imported as a module (its parse_args / main not run)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"script_{name}", ROOT / "scripts" /
                                                  f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_options_are_made_from_the_parameter_fields(capsys):
    """A script's physical options take the fields' text forms ("500 us", "2 kHz"), keep
    the old plain numbers (read in the old unit), are checked by the field (one line
    naming the option and the parameter, exit 2), and show the field's doc, unit and
    default in --help; the script's numbers are the ones typed (0.3, not
    0.30000000000000004)."""
    from brian2 import Hz, ms, second

    from le_brian.cli.script_helpers import in_unit
    from le_brian.params import MicrocircuitTrainingParameters

    bars = _script_module("fig_microcircuit_bars")
    args = bars.parse_args(["--times", "0.3", "500 us", "2ms", "--r-max", "2.5kHz",
                            "--tau-s", "0.5"])
    assert args.times == [0.3, 0.5, 2.0] and args.r_max == 2500.0 and args.tau_s == 0.5
    assert bars.parse_args([]).times == bars.ALL_T_MS
    assert bars.parse_args(["--fast"]).times == [0.3, 1.0, 5.0]
    assert bars.parse_args(["--fast", "--times", "2"]).times == [2.0]
    field = MicrocircuitTrainingParameters.fields()["r_max"]
    assert bars.parse_args([]).r_max == float(field.default / Hz)  # the field's default
    for bad, needle in ((["--r-max", "5 ms"], "argument --r-max: parameter r_max: expected a "
                         "rate, got '5 ms'"),
                        (["--times", "-1"], "argument --times: parameter presentation_time "
                         "must be a value in ms > 0 ms, got -1 ms"),
                        (["--n-per-unit", "0"], "parameter n_per_unit must be an integer > 0")):
        with pytest.raises(SystemExit) as stop:
            bars.parse_args(bad)
        assert stop.value.code == 2
        assert needle in capsys.readouterr().err
    fourier = _script_module("fig_fourier")
    assert in_unit([0.3 * ms, 0.1 * second], ms) == [0.3, 100.0]
    assert fourier.TIMES["train"].default == 2000 * ms


def test_script_help_shows_the_fields_doc_unit_and_default(tmp_path):
    out = _run(ROOT / "scripts" / "fig_robustness.py", "--help", cwd=tmp_path)
    text = " ".join(out.stdout.split())
    assert "--eta-tau ETA_TAU rate of the time-constant learning, in ms such as '20 ms' " \
           "(a plain number: s) (default: 20 ms)" in text
    assert "--tau-syn TAU_SYN synaptic low-pass filter of the rates, in ms such as '2 ms' " \
           "(a plain number: ms) (default: 2 ms)" in text


def test_fig_conv_fast(tmp_path):
    """fig_conv.py --fast (LeNet-5 on 4 + 4 MNIST-subset images, runtime device): every
    run is in the JSON with an accuracy in [0, 1], the backprop row equals a direct
    `train_backprop_conv` run of LeNet-5 (layers written out here) on the same images
    with the model's BACKPROP rates, and the figure is written; a second call only
    redraws."""
    from le_brian.datasets import load
    from le_brian.numpy_reference import train_backprop_conv

    script = ROOT / "scripts" / "fig_conv.py"
    args = ("--fast", "--device", "runtime", "--out", str(tmp_path))
    out = _run(script, *args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    summary = json.loads((tmp_path / "conv_accuracy_vs_T_fast.json").read_text())
    assert summary["settings"]["n_val"] == 0 and summary["settings"]["n_train"] == 4
    runs = summary["lenet5_mnist5k"]["runs"]
    assert set(runs) == {"backprop_seed0", "LE_T1_seed0", "lagged_T1_seed0",
                         "LE_T10_seed0", "lagged_T10_seed0"}
    for r in runs.values():
        assert 0.0 <= r["test_accuracy"] <= 1.0
    assert summary["lenet5_mnist5k"]["tau_m_ms"] == 10.0
    data = load("mnist5k", seed=0).subset(n_train=4, n_val=0, n_test=4)
    layers = [("input", (1, 28, 28)), ("conv", 20, (5, 5), (1, 1), (0, 0)),
              ("maxpool", (2, 2), (2, 2), (0, 0)), ("conv", 50, (5, 5), (1, 1), (0, 0)),
              ("maxpool", (2, 2), (2, 2), (0, 0)), ("dense", 500), ("dense", 10)]
    _, history = train_backprop_conv(layers, data.x_train, data.y_train, data.x_test,
                                     data.y_test, "hard_sigmoid", "linear",
                                     [0.1, 0.01, 0.01, 0.01], epochs=1, seed=0)
    assert runs["backprop_seed0"]["test_accuracy"] == history[-1]["test_accuracy"]
    assert (tmp_path / "conv_accuracy_vs_T_fast.png").stat().st_size > 10_000
    again = _run(script, *args, cwd=tmp_path)
    assert again.returncode == 0 and "test accuracy" not in again.stdout


def test_accuracy_vs_T_skips_datasets_without_files(tmp_path, monkeypatch, capsys):
    """A parameter set whose data files are missing is dropped with one line naming it;
    the embedded MNIST subset stays."""
    import argparse

    from le_brian.protocols.accuracy_vs_T import available_datasets

    monkeypatch.setenv("LE_BRIAN_DATA", str(tmp_path))
    args = argparse.Namespace(n_train=4, n_eval=4, n_val=0)
    lines = []
    kept = available_datasets(["lenet5_mnist5k", "higgs", "lenet5_cifar10"], args,
                              log=lines.append)
    assert kept == ["lenet5_mnist5k"]
    assert len(lines) == 2
    assert lines[0].startswith("higgs: skipped") and lines[1].startswith("lenet5_cifar10: ")


def test_accuracy_vs_T_reruns_runs_of_an_edited_model(tmp_path, capsys):
    """A summary's runs of a dataset are reused only while the model's parameters (LE
    TRAINING and BACKPROP) are those they were made with: another learning rate drops
    them with one line; the same parameters keep them."""
    import argparse

    from brian2 import Hz

    from le_brian.parameter_sets import load_model
    from le_brian.protocols.accuracy_vs_T import backprop_parameters, model_key, sweep

    model, bp = load_model("lenet5_mnist5k"), backprop_parameters("lenet5_mnist5k")
    key = model_key(model, bp)
    edited = dict(model, learning_rates=200 * Hz)  # the file: 100 Hz in every layer
    assert model_key(edited, bp) != key
    assert model_key(model, dict(bp, learning_rate=0.5)) != key
    assert model_key(dict(model), dict(bp)) == key
    args = argparse.Namespace(datasets=["lenet5_mnist5k"], seeds=0, scheduler=None,
                              workers=None)
    old = {"runs": {"LE_T10_seed0": {"test_accuracy": 0.9}}, "tau_m_ms": 10.0}
    kept = sweep(args, {"lenet5_mnist5k": dict(old, model_key=key)}, tmp_path / "s.json")
    assert kept["lenet5_mnist5k"]["runs"] == old["runs"] and not capsys.readouterr().out
    stale = sweep(args, {"lenet5_mnist5k": dict(old, model_key="0123456789")},
                  tmp_path / "s.json")
    assert stale["lenet5_mnist5k"]["runs"] == {}
    assert stale["lenet5_mnist5k"]["model_key"] == key
    assert "run again" in capsys.readouterr().out


@pytest.mark.slow
def test_cortical_scripts_fast(tmp_path):
    """scripts/cortical_bars.py and scripts/fig_cortical_raster.py in their smoke modes on
    the runtime device: the JSON holds a run of the cortical preset (rates at most
    r_max x the largest phi, a mean rate in Hz) and the figure is written."""
    out = _run(ROOT / "scripts" / "cortical_bars.py", "--fast", "--device", "runtime",
               "--out", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    run = json.loads((tmp_path / "cortical_bars.json").read_text())["runs"]["le/T10/prosp0/seed1"]
    assert 0 < run["mean_rate_hz"] < run["max_rate_hz"] <= 200
    assert len(run["val_curve"]) == 3
    out = _run(ROOT / "scripts" / "fig_cortical_raster.py", "--fast", "--device", "runtime",
               "--out", str(tmp_path), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "cortical_raster.png").stat().st_size > 10_000
    summary = json.loads((tmp_path / "cortical_raster.json").read_text())
    assert {r["statistic"] for r in summary["comparison"]} == {"rate", "cv", "cv2", "lv"}
