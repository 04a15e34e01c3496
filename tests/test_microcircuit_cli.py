"""The cortical microcircuit in the command line (issue 27 item 4): ``le-brian train
--model microcircuit_bars`` writes a run folder (config, one checkpoint per epoch, resume
to the bit), ``evaluate | record | plot | compare`` work on it, and the epoch-by-epoch
runs reproduce the published protocols' one long run (`run_bars`,
`run_classification`) to the bit."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from brian2 import Hz, kHz, ms

from le_brian.cli import main
from le_brian.protocols.microcircuit_run import (config_from_json, config_to_json,
                                                 microcircuit_config, train_microcircuit)


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "le_brian", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=900)


def _metrics(path):
    """metrics.json without the wall times."""
    return [{k: v for k, v in r.items() if "seconds" not in k}
            for r in json.loads(path.read_text())]


# ---------------------------------------------------------------- config
def test_config_resolves_the_published_settings_and_round_trips_exactly():
    """The bars config takes the module's network and the T-dependent learning rates
    (eta_up = [0.5, 0.1]/T, eta_ip = 0.2/T) and read-out lag; the JSON form has unit
    strings and parses back to the same floats, bit for bit."""
    cfg = microcircuit_config("microcircuit_bars", {"presentation_time": 2 * ms})
    assert cfg["protocol"] == "bars" and cfg["hidden"] == [30] and cfg["seed"] == 12354
    assert float(cfg["eta_up"][0] / Hz) == 0.5 / 2 * 1e3
    assert float(cfg["eta_ip"][0] / Hz) == 0.2 / 2 * 1e3
    assert float(cfg["out_lag"] / ms) == 0
    orig = microcircuit_config("microcircuit_bars", {"presentation_time": 2 * ms,
                                                     "mode": "original"})
    assert float(orig["out_lag"] / ms) == pytest.approx(1.0)  # the authors' table
    text = config_to_json(cfg)
    assert text["dynamics"]["g_l"] == "0.03 / ms" and text["simulation"]["dt"] == "0.1 ms"
    back = config_from_json(json.loads(json.dumps(text)))
    for k, v in cfg.items():
        if isinstance(v, list):
            assert all(float(a / Hz) == float(b / Hz) if hasattr(a, "dim") else a == b
                       for a, b in zip(v, back[k])), k
        else:
            assert (v == back[k]) if not hasattr(v, "dim") else bool(v == back[k]), k
    yy = microcircuit_config("microcircuit_yinyang", settings={"eta_ip": ["0.05 / ms"],
                                                               "r_max": "3 kHz"})
    assert yy["protocol"] == "classification" and yy["dataset"] == "yinyang"
    assert float(yy["eta_ip"][0] / Hz) == 50.0 and float(yy["r_max"] / kHz) == 3.0
    assert float(yy["tau_0"] / ms) == pytest.approx(0.1)  # = dt, as run_classification


@pytest.mark.parametrize("settings, message", [
    ({"eta_up": "0.5"}, "eta_up"), ({"dt": "0.1 Hz"}, "dt: expected a time"),
    ({"epochs": -1}, "epochs"), ({"bogus": 1}, "unknown parameter"),
    ({"dataset": "yinyang"}, "bars protocol has its own"),
])
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        microcircuit_config("microcircuit_bars", settings=settings)


def test_cli_refuses_options_that_do_not_apply(tmp_path, capsys):
    """One line, exit status 2, nothing written."""
    assert main(["train", "--model", "microcircuit_bars", "--tau-m", "3ms", "--out",
                 str(tmp_path / "a")]) == 2
    assert "--tau-m does not apply to the microcircuit" in capsys.readouterr().err
    assert main(["train", "--dataset", "yinyang", "--mode", "original", "--out",
                 str(tmp_path / "b")]) == 2
    assert "--mode applies to microcircuit models only" in capsys.readouterr().err
    assert main(["train", "--model", "microcircuit_bars", "--set", "g_l=0.03", "--out",
                 str(tmp_path / "c")]) == 2
    assert "g_l" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------- the command line
def test_train_resume_evaluate_record_plot_compare(tmp_path, capsys):
    """``le-brian`` (subprocesses) trains 2 epochs, resumes to 4 (== 4 epochs straight:
    checkpoint arrays and metrics equal to the bit), evaluates, records the spiking view,
    plots and compares against a recording (here the run's own NWB file: every KS
    distance 0; the rate equals the spike count of recording.npz over the recorded
    time). The rate record (soma, basal, apical potentials) is checked in-process."""
    from le_brian.protocols.recording import load_recording, record_run

    run, straight = tmp_path / "run", tmp_path / "straight"
    for args in (["--epochs", "2", "--out", str(run)],
                 ["--epochs", "4", "--out", str(run), "--resume"]):
        out = _cli("train", "--model", "microcircuit_bars", *args, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
    assert "resuming" in out.stdout
    train_microcircuit("microcircuit_bars", straight, {"epochs": 4}, progress=lambda s: None)
    meta = json.loads((run / "config.json").read_text())
    params = meta["parameters"]
    assert meta["network"] == "Microcircuit" and params["training"]["presentation_time"] == "1 ms"
    assert meta["le_brian_version"] and params["learning"]["eta_up"] == ["0.5 / ms", "0.1 / ms"]
    with np.load(run / "checkpoint.npz") as a, np.load(straight / "checkpoint.npz") as b:
        assert sorted(a.files) == sorted(b.files) and int(a["epoch"]) == 4
        for k in a.files:
            if k not in ("metrics", "config"):
                np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        assert any(k.startswith("state/pyr1/") for k in a.files)
    hist = _metrics(run / "metrics.json")
    assert hist == _metrics(straight / "metrics.json")
    assert [r["epoch"] for r in hist] == [0, 1, 2, 3, 4]
    assert all("val_accuracy" in r and "train_accuracy" in r for r in hist[1:])
    for f in ("weights.npz", "curves.png"):
        assert (run / f).is_file()
    # a different setting is refused on resume, naming it
    assert main(["train", "--model", "microcircuit_bars", "--epochs", "5", "--mode",
                 "original", "--out", str(run), "--resume"]) == 2
    assert "mode = 'le' there, 'original' now" in capsys.readouterr().err

    record_run(run, n_samples=3)
    rec = load_recording(run)
    assert set(rec["states"]["pyr1"]) == {"u", "v_B", "v_A"}
    assert rec["states"]["pyr1"]["u"].shape == (30, 30)  # 3 patterns x 10 steps, 30 cells
    assert set(rec["states"]["int1"]) == {"u"} and rec["spikes"] == {}
    # v_B = W_up1 r_0 of the bars pattern (tau_0 = dt: r_0 = x from the second step)
    with np.load(run / "checkpoint.npz") as c:
        w = c["W_up_1"]
    from le_brian.datasets import bars_patterns

    x, _ = bars_patterns()
    np.testing.assert_allclose(rec["states"]["pyr1"]["v_B"][5], w @ x[0], rtol=1e-12)

    out = _cli("evaluate", str(run), cwd=tmp_path)
    assert out.returncode == 0 and "accuracy" in out.stdout, out.stderr
    out = _cli("record", str(run), "--spiking", "--n-samples", "10", "--overwrite",
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rec = load_recording(run)
    assert set(rec["spikes"]) == {"pyr1", "int1", "out"} and len(rec["spikes"]["pyr1"]["i"])
    out = _cli("plot", str(run), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (run / "panel.png").stat().st_size > 20_000 and (run / "panel.pdf").is_file()
    pytest.importorskip("elephant")
    own = tmp_path / "own.nwb"
    own.write_bytes((run / "recording.nwb").read_bytes())
    out = _cli("compare", str(run), str(own), "--bin-size", "0.5ms", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = {r["statistic"]: r for r in csv.DictReader(open(run / "compare.csv"))}
    assert float(rows["rate"]["ks_distance"]) == 0
    n_neurons = sum(s["n_neurons"] for s in rec["spikes"].values())
    n_spikes = sum(len(s["i"]) for s in rec["spikes"].values())
    duration = 10 * float(rec["presentation_time"] / ms) * 1e-3
    assert float(rows["rate"]["sim_mean"]) == pytest.approx(n_spikes / n_neurons / duration,
                                                             rel=1e-9)


# ---------------------------------------------------------------- published protocols
def test_epoch_by_epoch_reproduces_run_bars(tmp_path):
    """One net.run per epoch (state persisting) == run_bars' one long run at T = 1 ms:
    per-epoch validation and training accuracies and the final weights to the bit."""
    from le_brian.protocols.bars import run_bars

    ref = run_bars(1 * ms, epochs=3)
    hist = train_microcircuit("microcircuit_bars", tmp_path / "run", {"epochs": 3},
                              progress=lambda s: None)
    np.testing.assert_array_equal([r["val_accuracy"] for r in hist[1:]], ref["val_accuracy"])
    np.testing.assert_array_equal([r["train_accuracy"] for r in hist[1:]],
                                  ref["train_accuracy"])
    with np.load(tmp_path / "run" / "checkpoint.npz") as f:
        for kind, ws in ref["weights"].items():
            for k, w in enumerate(ws):
                np.testing.assert_array_equal(f[f"{kind}_{k + 1}"], w, err_msg=kind)


def test_step_schedule_per_epoch_reproduces_run_bars_blocks(tmp_path):
    """lr_decay = 0.5 every 2 epochs (runtime, numpy; T = 1 ms, 3 epochs): the command
    line's one run per epoch with the rates set per epoch == run_bars' blocks of 2 epochs;
    accuracies and final weights to 1e-12; config.json keeps the field."""
    from le_brian.protocols.bars import run_bars

    sim = {"device": "runtime", "codegen_target": "numpy"}
    ref = run_bars(1 * ms, epochs=3, lr_decay=0.5, lr_decay_every=2, **sim)
    hist = train_microcircuit("microcircuit_bars", tmp_path / "run",
                              {"epochs": 3, "lr_decay": 0.5, "lr_decay_every": 2, **sim},
                              progress=lambda s: None)
    np.testing.assert_array_equal([r["val_accuracy"] for r in hist[1:]], ref["val_accuracy"])
    with np.load(tmp_path / "run" / "checkpoint.npz") as f:
        for kind, ws in ref["weights"].items():
            for k, w in enumerate(ws):
                np.testing.assert_allclose(f[f"{kind}_{k + 1}"], w, rtol=0, atol=1e-12,
                                           err_msg=kind)
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert "lr_decay_every" in json.dumps(cfg) and "0.5" in json.dumps(cfg)


@pytest.mark.slow
def test_epoch_by_epoch_reproduces_run_classification(tmp_path):
    """The same for run_classification on a 20/10/10-sample Yin-Yang subset (4-8-3):
    validation accuracy per epoch, final test accuracy and weights to the bit; the test
    split evaluated at epoch 2 too (undisturbed: it changes nothing)."""
    from le_brian.datasets import load
    from le_brian.models.microcircuit_yinyang import NETWORK, PROTOCOL
    from le_brian.protocols.classification import run_classification

    data = load("yinyang", seed=0).subset(n_train=20, n_val=10, n_test=10)
    ref = run_classification(data, 1 * ms, hidden=(8,), epochs=3, eta_up=PROTOCOL["eta_up"],
                             eta_ip=PROTOCOL["eta_ip"], lr_decay=PROTOCOL["lr_decay"],
                             seed=0, target_on=1.0, target_off=0.1, dt=NETWORK["dt"],
                             activation=NETWORK["activation"])
    hist = train_microcircuit("microcircuit_yinyang", tmp_path / "run",
                              {"epochs": 3, "n_train": 20, "n_val": 10, "n_test": 10,
                               "hidden": [8], "eval_every": 2}, progress=lambda s: None)
    np.testing.assert_array_equal([r["val_accuracy"] for r in hist[1:]], ref["val_accuracy"])
    assert hist[-1]["test_accuracy"] == ref["test_accuracy"] and "test_accuracy" in hist[2]
    with np.load(tmp_path / "run" / "checkpoint.npz") as f:
        for kind, ws in ref["weights"].items():
            for k, w in enumerate(ws):
                np.testing.assert_array_equal(f[f"{kind}_{k + 1}"], w, err_msg=kind)


# ---------------------------------------------------------------- the mimic protocol
def test_mimic_config_takes_the_published_settings():
    """microcircuit_mimic: the student's seed and random init, the teacher's seed, 6
    patterns, 3 self-prediction epochs at eta_ip 40/ms, eta_pi 50/ms, then eta_up
    [50, 10]/ms, eta_ip 20/ms; dt = tau_0 = 0.01 ms, T = 1 ms, no read-out lag in either
    mode; the mimic fields are refused by the other protocols and needed by this one."""
    from le_brian.params import ParameterError

    cfg = microcircuit_config("microcircuit_mimic", {"mode": "original"})
    assert (cfg["protocol"], cfg["hidden"], cfg["seed"], cfg["init"]) == (
        "mimic", [1], 12345, "random")
    assert (cfg["teacher_seed"], cfg["teacher_init"], cfg["n_patterns"],
            cfg["self_prediction_epochs"]) == (42, "self_predicting", 6, 3)
    assert [float(e * ms) for e in cfg["self_prediction_eta_ip"]] == [40.0]
    assert [float(e * ms) for e in cfg["self_prediction_eta_pi"]] == [50.0]
    assert [float(e * ms) for e in cfg["eta_up"]] == [50.0, 10.0]
    assert float(cfg["dt"] / ms) == float(cfg["tau_0"] / ms) == 0.01
    assert float(cfg["presentation_time"] / ms) == 1.0 and float(cfg["out_lag"]) == 0.0
    with pytest.raises(ParameterError, match="parameter teacher_seed: the mimic protocol "
                                             "needs it"):
        microcircuit_config("microcircuit_mimic", settings={"teacher_seed": None})
    with pytest.raises(ParameterError, match="parameter n_patterns: the mimic protocol "
                                             "needs it, the others leave it null"):
        microcircuit_config("microcircuit_bars", settings={"n_patterns": 3})


def test_mimic_run_folder_equals_run_mimic_and_resumes_to_the_bit(tmp_path):
    """le-brian train --model microcircuit_mimic (in-process): 1 epoch, resumed to 2,
    gives run_mimic's validation errors (its val_error) and final student weights to
    the bit; the folder holds the teacher's data (equal to run_mimic's inputs and
    targets), and evaluate reads it (the trained student's error is below epoch 0's)."""
    from le_brian.protocols.microcircuit_run import evaluate_microcircuit
    from le_brian.protocols.mimic import run_mimic
    from le_brian.protocols.mimic_run import MimicData

    rt = ["--device", "runtime", "--codegen-target", "numpy"]
    run = tmp_path / "run"
    assert main(["train", "--model", "microcircuit_mimic", "--epochs", "1", *rt,
                 "--out", str(run)]) == 0
    assert main(["train", "--model", "microcircuit_mimic", "--epochs", "2", *rt,
                 "--out", str(run), "--resume"]) == 0
    ref = run_mimic(epochs=2, device="runtime", codegen_target="numpy")
    hist = json.loads((run / "metrics.json").read_text())
    assert [r["epoch"] for r in hist] == [0, 1, 2]
    assert [r["val_loss"] for r in hist[1:]] == ref["training"]["val_error"].tolist()
    with np.load(run / "checkpoint.npz") as f:
        for kind, arrays in ref["student"].items():
            for k, a in enumerate(arrays):
                np.testing.assert_array_equal(f[f"{kind}_{k + 1}"], a, err_msg=kind)
    data = MimicData.load(run)
    np.testing.assert_array_equal(data.inputs, ref["inputs"])
    np.testing.assert_array_equal(data.outputs, ref["targets"])
    params = json.loads((run / "config.json").read_text())["parameters"]
    assert params["training"]["protocol"] == "mimic"
    assert params["training"]["self_prediction_eta_ip"] == ["40 / ms"]
    m = evaluate_microcircuit(run, device="runtime", progress=lambda s: None)
    assert 0 <= m["loss"] < hist[0]["val_loss"]
