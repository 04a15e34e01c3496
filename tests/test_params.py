"""The parameter model (le_brian.params): text forms read back to the same floats, checks
name the parameter, every default written once, and run folders of le_brian 0.2.0 still
evaluate and resume bit for bit."""

import ast
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from brian2 import Hz, kHz, ms

from le_brian import params
from le_brian.params import (LENetworkParameters, MicrocircuitParameters, ParameterError,
                             TrainingParameters, format_quantity, parse_quantity)

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "run_0.2.0"


@pytest.mark.parametrize("text, value", [
    ("10 ms", 10 * ms), ("10ms", 10 * ms), ("1000 us", 1 * ms), ("2 kHz", 2000 * Hz),
    ("0.03 / ms", 30 * Hz), ("0.01 ms**0.5", 0.01 * ms ** 0.5), ("1e-3 s", 1 * ms),
    ("0.1 ms", 0.1 * ms)])
def test_text_forms_read_to_the_quantity(text, value):
    q = parse_quantity("x", text, value)
    assert float(q) == float(value) and q.dim == value.dim


@pytest.mark.parametrize("value, unit", [(0.1 * ms, "ms"), (1 / 3 * ms, "ms"),
                                         (10 * kHz, "Hz"), (0.03 / ms, "/ ms"),
                                         (1e-5 * ms, "ms"), (0.002 * ms ** 0.5, "ms**0.5")])
def test_format_reads_back_to_the_same_float(value, unit):
    text = format_quantity(value, unit)
    assert float(parse_quantity("x", text, value)) == float(value)


@pytest.mark.parametrize("values, message", [
    (dict(presentation_time="10"), "presentation_time: expected a value with a unit"),
    (dict(tau_m="5 Hz"), "tau_m: expected a time, got '5 Hz'"),
    (dict(r_max=5000), "r_max: expected a value with a unit"),
    (dict(epochs=2.0), "epochs must be an integer > 0"),
    (dict(weight_scale=float("nan")), "weight_scale must be a number > 0"),
    (dict(dt="0 ms"), "dt must be a value in ms > 0 ms"),
    (dict(device="gpu"), "device must be one of"),
    (dict(hidden=[3, 0]), "hidden must be a list of positive integers"),
    (dict(lr="3"), "unknown parameter(s) ['lr']"),
    (dict(tau_bounds=["1 ms"]), "tau_bounds must be two values"),
    (dict(learning_rates=["1 Hz", "2 Hz", "3 Hz"], hidden=[4]), "one per layer"),
])
def test_bad_values_name_the_parameter(values, message):
    with pytest.raises(ParameterError) as err:
        TrainingParameters(**values)
    assert message in str(err.value)


def test_groups_are_frozen_and_round_trip():
    p = TrainingParameters(presentation_time="10 ms", hidden=[30, 20],
                           learning_rates=["100 Hz", "50 Hz", "10 Hz"], tau_syn=2 * ms)
    with pytest.raises(AttributeError, match="frozen"):
        p.epochs = 3
    again = TrainingParameters.from_json(json.loads(json.dumps(p.to_json())))
    assert again == p and again.flat_json() == p.flat_json()
    assert again.presentation_time == 10 * ms and again.learning_rates[1] == 50 * Hz
    assert p.replace(epochs=3).epochs == 3 and p.epochs == 10
    # flat and grouped forms, and the 0.2.0 names with units in them, read alike
    assert TrainingParameters.from_json(p.flat_json()) == p
    legacy = TrainingParameters.from_json({"presentation_time_ms": 10.0, "hidden": [30, 20],
                                           "learning_rates_hz": [100, 50, 10],
                                           "tau_syn_ms": 2.0})
    assert legacy == p


def test_learning_rate_schedule_matches_the_closed_form():
    p = TrainingParameters(hidden=[5], learning_rates=[100 * Hz, 10 * Hz], lr_decay=0.5,
                           lr_reference=2 * ms, presentation_time=8 * ms)
    assert [float(r / Hz) for r in p.learning_rates_of_epoch(3)] == \
        [100 * 0.125 * 0.25, 10 * 0.125 * 0.25]


def test_network_sets_have_their_own_defaults():
    assert LENetworkParameters().r_max == 10 * kHz
    assert MicrocircuitParameters().r_max == 2 * kHz
    assert TrainingParameters().learning_rates == 100 * Hz
    assert LENetworkParameters().learning_rates == 0 * Hz
    assert TrainingParameters().spiking_output is False
    assert MicrocircuitParameters().g_l == 0.03 / ms


def test_constructors_take_their_defaults_from_the_fields():
    """The keyword constructors' defaults are the fields' (one place for each)."""
    import inspect

    from le_brian import LENetwork, Microcircuit

    for cls, pset in ((LENetwork, LENetworkParameters), (Microcircuit,
                                                          MicrocircuitParameters)):
        signature = inspect.signature(cls.__init__).parameters
        for name, field in pset.fields().items():
            if name not in signature:
                continue
            default = signature[name].default
            if field.name in ("tau_r", "tau_0", "learning_rates", "eta_up", "eta_ip",
                              "eta_pi"):
                continue  # None / 0: resolved in the constructor (documented there)
            assert np.all(default == field.default), (cls.__name__, name, default)


def _default_literals(path):
    """(literal text, line) of the defaults that must be written once."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            left, right = node.left, node.right
            if (isinstance(left, ast.Constant) and isinstance(right, ast.Name)
                    and (left.value, right.id) in {(10000, "Hz"), (10, "kHz"),
                                                   (2000, "Hz"), (2, "kHz")}):
                hits.append((f"{left.value}*{right.id}", node.lineno))
        if isinstance(node, ast.Constant) and node.value in (10000.0,) and isinstance(
                node.value, float):
            hits.append((repr(node.value), node.lineno))
    return hits


def test_every_default_is_written_once():
    """The r_max defaults (10 kHz layered, 2 kHz microcircuit) appear in le_brian.params
    and nowhere else in the package or the scripts; every choice list of devices / targets / dtypes is
    the registry's."""
    found = {}
    for path in (ROOT / "le_brian").rglob("*.py"):
        for text, line in _default_literals(path):
            found.setdefault(text, []).append(f"{path.relative_to(ROOT)}:{line}")
    for path in (ROOT / "scripts").glob("*.py"):  # the scripts take them from the fields
        for text, line in _default_literals(path):
            found.setdefault(text, []).append(f"{path.relative_to(ROOT)}:{line}")
    places = [p for v in found.values() for p in v]
    assert all(p.startswith("le_brian/params/") for p in places), places
    assert len(places) == 2, places  # 10 kHz and 2 kHz, once each
    for path in (ROOT / "le_brian").rglob("*.py"):
        text = path.read_text()
        if path.name == "registry.py":
            continue
        for choices in ('("runtime", "cpp_standalone", "cuda_standalone")',
                        '("auto", "numpy", "cython")', '("float64", "float32")'):
            assert choices not in text, (path, choices)


# ----------------------------------------------------------------- 0.2.0 run folders
def _copy_fixture(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    return run


@pytest.mark.standalone
def test_a_0_2_0_run_folder_evaluates_and_resumes_bit_for_bit(tmp_path):
    """tests/fixtures/run_0.2.0 was written by le_brian 0.2.0 (2 epochs); it evaluates to
    the numbers 0.2.0 printed, and resuming it to 3 epochs gives the weights 0.2.0 gave,
    to the bit."""
    from le_brian.protocols.training import evaluate, load_network, train

    expected = json.loads((FIXTURE / "README.json").read_text())
    run = _copy_fixture(tmp_path)
    net, cfg = load_network(run)
    assert cfg.presentation_time == 1 * ms and cfg.learning_rates == 200 * Hz
    m = evaluate(run, progress=lambda s: None)
    assert m["accuracy"] == expected["evaluate_test"]["accuracy"]
    assert m["loss"] == pytest.approx(expected["evaluate_test"]["loss"], abs=5e-5)
    settings = dict(dataset="yinyang", hidden=[6], n_train=40, n_val=20, n_test=20,
                    learning_rates=200 * Hz)
    history = train(dict(settings, epochs=3), run, resume=True, progress=lambda s: None)
    row = {k: v for k, v in history[-1].items() if not k.endswith("_seconds")}
    assert row == {k: v for k, v in expected["epoch3_row"].items()
                   if not k.endswith("_seconds")}
    with np.load(run / "weights.npz") as w, \
            np.load(FIXTURE / "expected_epoch3_weights.npz") as e:
        for key in e.files:
            np.testing.assert_array_equal(w[key], e[key])
    assert json.loads((run / "config.json").read_text())["parameters"]["training"][
        "epochs"] == 3
    with pytest.raises(ValueError, match="learning_rates = '200 Hz' there, '300 Hz' now"):
        train(dict(settings, epochs=4, learning_rates=300 * Hz), run, resume=True,
              progress=lambda s: None)
    with pytest.raises(ValueError, match="completed 3 epochs"):
        train(dict(settings, epochs=2), run, resume=True, progress=lambda s: None)


def test_public_names_are_documented():
    for name in params.__all__:
        obj = getattr(params, name)
        if callable(obj):
            assert obj.__doc__, name


# ----------------------------------------------------------------- 0.2.0 sweep folders
def test_a_0_2_0_sweep_folder_resumes_and_an_old_spec_name_is_refused(tmp_path):
    """tests/fixtures/sweep_0.2.0/sweep_bars was written by le_brian 0.2.0 (bars.toml, 2
    points): the same spec resumes it with both points finished; a 0.2.0 train spec
    naming a field with its unit (tau_syn_ms) is refused in one line saying how to
    rename it."""
    import subprocess
    import sys

    src = ROOT / "tests" / "fixtures" / "sweep_0.2.0"
    shutil.copytree(src, tmp_path / "s")
    out = subprocess.run([sys.executable, "-m", "le_brian", "sweep", "bars.toml", "--workers",
                          "0", "--out", "sweep_bars"], cwd=tmp_path / "s",
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "0 run now, 2 finished before" in out.stdout
    out = subprocess.run([sys.executable, "-m", "le_brian", "sweep", "train.toml",
                          "--workers", "0", "--out", "sweep_train"], cwd=tmp_path / "s",
                         capture_output=True, text=True, timeout=300)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr
    assert "tau_syn_ms = X -> tau_syn = 'X ms'" in lines[0]


def test_constructors_check_with_the_fields():
    """A value the training config refuses is refused by the keyword constructor too."""
    from le_brian import LENetwork

    for bad in (float("nan"), -1.0, float("inf")):
        with pytest.raises(ValueError, match="weight_scale"):
            LENetwork([2, 3, 1], weight_scale=bad)
    assert LENetwork([2, 3, 1], weight_scale=0.05, device="runtime").weight_scale == 0.05


def test_a_missing_or_wrong_unit_is_a_unit_error():
    """As everywhere at le_brian's API, a value without its unit or of other dimensions is a
    `le_brian.UnitError` (a `brian2.DimensionMismatchError`) as well as a ValueError."""
    from brian2 import DimensionMismatchError

    from le_brian import UnitError

    for values in (dict(r_max=5000), dict(tau_m="5 Hz"), dict(presentation_time=3 * Hz)):
        with pytest.raises(UnitError) as err:
            TrainingParameters(**values)
        assert isinstance(err.value, (DimensionMismatchError, ValueError))
        assert list(values)[0] in str(err.value)
    with pytest.raises(ParameterError) as err:
        TrainingParameters(epochs=2.0)
    assert not isinstance(err.value, UnitError)


#: Constructor keywords that are no parameter field: the architecture, the simulator
#: objects, and the microcircuit's plasticity form and substrate jitter (le_brian.params.
#: Substrate fields, not part of MicrocircuitParameters).
NOT_FIELDS = {"self", "layer_sizes", "simulator", "keep_builds", "plasticity", "tau_jitter",
              "tau_bounds"}


def _refused_value(field):
    """A value ``field`` refuses: another dimension, no choice, another type."""
    from brian2 import volt

    if field.unit is not None:
        return 1 * volt
    if field.choices is not None:
        return "no_such_choice"
    return {"bool": 3, "int": 2.5, "float": "x"}.get(field.kind)


def test_adding_a_parameter_is_one_edit():
    """Every keyword of the network constructors is a field of its parameter set (or one
    of NOT_FIELDS), and every field is checked by the constructor with the field's own
    check: a value the field refuses is refused with the field's message before anything
    is built. So a new parameter's unit, default, range and doc are written once, in
    le_brian.params, and the constructor only passes it on."""
    import inspect

    from le_brian import LENetwork, Microcircuit

    for cls, pset, sizes in ((LENetwork, LENetworkParameters, [2, 3, 1]),
                             (Microcircuit, MicrocircuitParameters, [2, 3, 1])):
        keywords = set(inspect.signature(cls.__init__).parameters)
        fields = pset.fields()
        assert keywords - set(fields) <= NOT_FIELDS, (cls.__name__, keywords - set(fields))
        assert set(fields) <= keywords, (cls.__name__, set(fields) - keywords)
        checked = 0
        for name, field in fields.items():
            bad = _refused_value(field)
            if bad is None:  # kind "any" (checked by its group, e.g. tau_jitter)
                continue
            with pytest.raises(ParameterError) as err:
                field.check(bad)
            with pytest.raises(ParameterError) as by_constructor:
                cls(sizes, **{"device": "runtime", name: bad})
            assert str(by_constructor.value) == str(err.value), name
            checked += 1
        assert checked >= len(fields) - 1
