"""Training and evaluation: learning beats chance, run folders round-trip exactly,
resume equals an uninterrupted run, standalone epochs do not recompile, CLI smoke tests."""

import json
import subprocess
import sys

import numpy as np
import pytest
from brian2 import Hz, ms

from le_brian import parameter_sets
from le_brian.protocols import training
from le_brian.datasets import load
from le_brian.engine.conv_geometry import parse_layers
from le_brian.params import TrainingParameters
from le_brian.protocols.training import evaluate_network, load_network, train

SMALL = dict(dataset="yinyang", hidden=[30], activation="tanh", learning_rates=1000 * Hz,
             presentation_time=1 * ms, dt=0.1 * ms, n_train=1000, n_val=300, n_test=300)


def _quiet(_):
    pass


@pytest.mark.standalone
def test_short_yinyang_run_beats_chance_without_recompiling(tmp_path):
    """3 epochs on 1000 Yin-Yang samples (cpp_standalone): measured 0.78 test accuracy
    (chance 1/3); the epoch loop reuses one training and one evaluation program."""
    cfg = TrainingParameters(**SMALL, epochs=3, device="cpp_standalone")
    data = training._load_dataset(cfg)
    history = train(cfg, tmp_path / "run", progress=_quiet, data=data)
    assert [r["epoch"] for r in history] == [0, 1, 2, 3]
    assert history[-1]["test_accuracy"] > 0.65
    assert history[-1]["test_loss"] < 0.5 * history[0]["test_loss"]
    meta = json.loads((tmp_path / "run" / "config.json").read_text())
    assert meta["parameters"]["learning"]["learning_rates"] == "1000 Hz" and meta["n_in"] == 4
    assert "le_brian_version" in meta and "git_commit" in meta
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(history))
    # the saved weights reproduce the last evaluation exactly on a fresh network
    net, cfg2 = load_network(tmp_path / "run")
    m = evaluate_network(net, data.x_test, data.y_test, 1 * ms, cfg2.readout_fraction,
                         dataset=data)
    assert m["accuracy"] == history[-1]["test_accuracy"]
    assert m["loss"] == pytest.approx(history[-1]["test_loss"], rel=1e-12)


def test_resume_equals_uninterrupted_run(tmp_path):
    """Train 2 epochs at once, and 1 epoch then resume for a 2nd: identical weights and
    metrics (runtime numpy device)."""
    base = dict(SMALL, n_train=200, n_val=50, n_test=50, device="runtime",
                codegen_target="numpy", lr_decay=0.5)
    train(dict(base, epochs=2), tmp_path / "a", progress=_quiet)
    train(dict(base, epochs=1), tmp_path / "b", progress=_quiet)
    cfg_b = json.loads((tmp_path / "b" / "config.json").read_text())
    cfg_b["parameters"]["training"]["epochs"] = 2
    (tmp_path / "b" / "config.json").write_text(json.dumps(cfg_b))
    with pytest.raises(FileExistsError, match="resume"):
        train(dict(base, epochs=2), tmp_path / "b", progress=_quiet)
    hb = train(dict(base, epochs=2), tmp_path / "b", resume=True, progress=_quiet)
    ha = json.loads((tmp_path / "a" / "metrics.json").read_text())
    strip = ("train_seconds", "eval_seconds")
    assert [{k: v for k, v in r.items() if k not in strip} for r in ha] == \
           [{k: v for k, v in r.items() if k not in strip} for r in hb]
    wa, wb = np.load(tmp_path / "a" / "weights.npz"), np.load(tmp_path / "b" / "weights.npz")
    for k in wa.files:
        np.testing.assert_array_equal(wa[k], wb[k])


def test_learning_rate_schedule():
    cfg = TrainingParameters(hidden=[5, 5], learning_rates=[100 * Hz, 50 * Hz, 10 * Hz],
                             lr_decay=0.5, lr_reference=1 * ms, presentation_time=4 * ms)
    rates = cfg.learning_rates_of_epoch(epoch=2)
    assert [float(r / Hz) for r in rates] == pytest.approx([100 * 0.25 / 4, 50 * 0.25 / 4,
                                                           10 * 0.25 / 4])
    with pytest.raises(ValueError, match="learning_rates"):
        TrainingParameters(hidden=[5], learning_rates=["1 Hz", "2 Hz", "3 Hz"])
    with pytest.raises(ValueError, match="unknown parameter"):
        TrainingParameters.from_json({"lr": 3})


def test_every_model_file_is_a_valid_config():
    names = parameter_sets.available_models()
    found = 0
    for name in names:
        try:
            params = training.load_model(name)
        except ValueError as e:  # parameter sets of other builders (microcircuit, ...)
            assert "TRAINING" in str(e)
            continue
        cfg = TrainingParameters(**params)
        assert cfg.dataset in load.__globals__["_LOADERS"]
        n_conv = sum(t[0] == "conv" for t in parse_layers(cfg.conv)) if cfg.conv else 0
        assert len(cfg.learning_rates_of_epoch()) == n_conv + len(cfg.hidden) + 1
        found += 1
    assert found >= 3
    with pytest.raises(ValueError, match="unknown model"):
        training.load_model("no_such_model")


def test_evaluate_network_readout_matches_manual_average():
    from le_brian import LENetwork

    d = load("yinyang").subset(n_test=20)
    net = LENetwork([4, 8, 3], codegen_target="numpy", seed=1, device="runtime")
    m = evaluate_network(net, d.x_test, d.y_test, 1 * ms, readout_fraction=0.5, dataset=d)
    res = net.run(d.x_test, 1 * ms, learn=False)
    manual = res.output.reshape(20, 10, 3)[:, 5:, :].mean(axis=1)
    np.testing.assert_allclose(m["outputs"], manual, atol=1e-14)
    assert m["accuracy"] == np.mean(manual.argmax(axis=1) == d.y_test)


# ----------------------------------------------------------------------- CLI
def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "le_brian.cli", *args], capture_output=True,
                          text=True, timeout=600, cwd=cwd)


@pytest.mark.parametrize("sub", [[], ["demo"], ["train"], ["evaluate"], ["benchmark"]])
def test_cli_help(sub):
    out = _cli(*sub, "--help")
    assert out.returncode == 0, out.stderr
    assert "usage: le-brian" in out.stdout


def test_cli_train_and_evaluate(tmp_path):
    run = tmp_path / "run"
    out = _cli("train", "--dataset", "bars", "--layers", "10", "--presentation-time", "1ms",
               "--learning-rate", "200Hz", "--epochs", "2", "--device", "runtime",
               "--codegen-target", "numpy", "--out", str(run))
    assert out.returncode == 0, out.stderr
    assert "test accuracy" in out.stdout
    history = json.loads((run / "metrics.json").read_text())
    assert len(history) == 3
    ev = _cli("evaluate", str(run), "--device", "runtime")
    assert ev.returncode == 0, ev.stderr
    acc = float(ev.stdout.split("accuracy")[1].split()[0])
    assert acc == pytest.approx(history[-1]["test_accuracy"])
    bad = _cli("train", "--dataset", "bars", "--presentation-time", "10", "--out", str(run))
    assert bad.returncode != 0 and "presentation-time" in bad.stderr


def test_cli_demo_fast(tmp_path):
    out = _cli("demo", "--fast", "--device", "runtime", "--codegen-target", "numpy",
               "--out", str(tmp_path / "demo"))
    assert out.returncode == 0, out.stderr
    assert "LE" in out.stdout and "lagged" in out.stdout
    res = json.loads((tmp_path / "demo" / "demo.json").read_text())
    le = res["histories"]["LE"][-1]["test_mse"]
    lagged = res["histories"]["lagged"][-1]["test_mse"]
    assert le < lagged
    assert (tmp_path / "demo" / "demo.png").stat().st_size > 10_000
    # the spiking cortical microcircuit on bars (2 epochs with --fast): 8 patterns before
    # and after, spikes of pyramidal cells and interneurons
    mc = res["microcircuit"]
    assert mc["epochs"] == 2 and mc["presentation_time_ms"] == 5.0
    for key in ("accuracy_before", "accuracy_after"):
        assert mc[key] in [k / 8 for k in range(9)]
    assert set(mc["n_spikes"]) == {"pyr1", "int1"}
    # 150 pyramidal and 15 interneuron Poisson neurons over 4 x 8 patterns of 5 ms:
    # well above zero, below one spike per neuron and step
    assert 1000 < mc["n_spikes"]["pyr1"] < 150 * 1600
    assert 0 < mc["n_spikes"]["int1"] < 15 * 1600
    assert "spiking microcircuit on bars" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["evaluate", "no_such_run"], "not a le_brian run folder"),
    (["train", "--model", "yinyang", "--epochs", "-1"], "epochs must be an integer > 0"),
    (["train", "--model", "yinyang", "--dt", "0ms"], "dt must be a value in ms > 0"),
    (["train", "--model", "yinyang", "--n-train", "0"], "n_train must be an integer > 0"),
    (["train", "--model", "yinyang", "--set", "foo=3"], "unknown parameter(s) ['foo']"),
    (["train", "--model", "yinyang", "--set", "nothing"], "--set expects FIELD=VALUE"),
    (["train", "--model", "no_such_model"], "unknown model 'no_such_model'"),
])
def test_cli_bad_input_is_one_line(args, message, tmp_path):
    """Bad input: exit status 2, one line on stderr, no traceback, nothing written; a value
    of 0 is checked, not replaced by a default."""
    out = _cli(*args, "--out", str(tmp_path / "run"), cwd=tmp_path) if args[0] == "train" \
        else _cli(*args, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("le-brian: error:") and message in lines[0]
    assert not (tmp_path / "run").exists()
    debug = _cli("--debug", *args, cwd=tmp_path) if args[0] == "evaluate" else None
    if debug is not None:
        assert "Traceback" in debug.stderr


def test_cli_train_set_curves_and_training_metrics(tmp_path):
    """--set reaches the config; every epoch has training accuracy and loss from the
    nudged read-outs; curves.png is written."""
    run = tmp_path / "run"
    out = _cli("train", "--dataset", "bars", "--layers", "10", "--presentation-time", "1ms",
               "--learning-rate", "200Hz", "--epochs", "2", "--device", "runtime",
               "--codegen-target", "numpy", "--set", "target_off=0.1", "--eval-every", "2",
               "--out", str(run))
    assert out.returncode == 0, out.stderr
    meta = json.loads((run / "config.json").read_text())
    training_json = meta["parameters"]["training"]
    assert training_json["target_off"] == 0.1 and training_json["eval_every"] == 2
    history = json.loads((run / "metrics.json").read_text())
    assert [r["epoch"] for r in history] == [0, 1, 2]
    assert "val_accuracy" not in history[1] and "val_accuracy" in history[2]
    for row in history[1:]:
        assert 0 <= row["train_accuracy"] <= 1 and row["train_loss"] >= 0
    assert (run / "curves.png").stat().st_size > 10_000


def test_resume_checks_what_it_resumes(tmp_path):
    """--resume refuses a folder without a run, a changed setting (naming it) and a
    missing checkpoint; a new run refuses a folder that holds one; weights.npz carries
    its epoch, checked against the checkpoint; the checkpoint alone restores the run."""
    base = dict(SMALL, n_train=100, n_val=20, n_test=20, device="runtime",
                codegen_target="numpy")
    with pytest.raises(FileNotFoundError, match="holds no run to resume"):
        train(dict(base, epochs=1), tmp_path / "nothing", resume=True, progress=_quiet)
    run = tmp_path / "run"
    train(dict(base, epochs=1), run, progress=_quiet)
    with pytest.raises(FileExistsError, match="already holds a run"):
        train(dict(base, epochs=1), run, progress=_quiet)
    with pytest.raises(ValueError, match="learning_rates = '1000 Hz' there, '5 Hz' now"):
        train(dict(base, epochs=2, learning_rates=5 * Hz), run, resume=True, progress=_quiet)
    with np.load(run / "weights.npz") as w, np.load(run / "checkpoint.npz") as c:
        assert int(w["epoch"]) == int(c["epoch"]) == 1
    # the convenience copies are not needed to resume
    (run / "metrics.json").unlink()
    history = train(dict(base, epochs=2), run, resume=True, progress=_quiet)
    assert [r["epoch"] for r in history] == [0, 1, 2]
    assert json.loads((run / "config.json").read_text())["parameters"]["training"]["epochs"] == 2
    # a weights file of another epoch than the checkpoint is refused on load
    net, _ = load_network(run)
    net.save_parameters(run / "weights.npz", epoch=np.array(1))
    with pytest.raises(ValueError, match="inconsistent"):
        load_network(run)
    (run / "checkpoint.npz").unlink()
    with pytest.raises(FileNotFoundError, match="checkpoint.npz not found"):
        train(dict(base, epochs=3), run, resume=True, progress=_quiet)
