"""The shared network lifecycle (le_brian.engine.network.BaseNetwork): one parameter
and state API for both classes, Quantities at the API, programs keyed by what was built,
named scheduling slots, user-added Brian2 objects, the import boundaries between the
Brian2 path and the NumPy references, and the parameter sets installed with the
package."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import (DimensionMismatchError, Hz, NeuronGroup, PopulationRateMonitor,
                    SpikeMonitor, StateMonitor, linked_var, ms, mV, second)

from le_brian import LENetwork, Microcircuit
from le_brian.engine.devices import Simulator
from le_brian.engine.network import BRIAN_SLOTS, DIVERGENCE_BOUND
from le_brian.numpy_reference import NumpyLENetwork

ROOT = Path(__file__).resolve().parent.parent


def _data(n_in=3, n_out=2, n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (n, n_in)), rng.uniform(0, 1, (n, n_out))


def test_public_times_are_quantities():
    net = LENetwork([3, 4, 2], dt=0.1 * ms, device="runtime")
    mc = Microcircuit([3, 4, 2], dt=0.1 * ms, out_lag=0.2 * ms, device="runtime")
    for value, expected in ((net.dt, 0.1 * ms), (net.t, 0 * ms), (mc.dt, 0.1 * ms),
                            (mc.tau_0, 0.1 * ms), (mc.out_lag, 0.2 * ms), (mc.t, 0 * ms)):
        assert value.dim == second.dim
        assert float(value / ms) == pytest.approx(float(expected / ms))
    res = LENetwork([3, 4, 2], dt=0.1 * ms, device="runtime", codegen_target="numpy").run(
        np.zeros((2, 3)), 1 * ms)
    for value in (res.run_time, res.build_time, res.simulation_time, res.t_start, res.dt):
        assert value.dim == second.dim and float(value / second) >= 0


@pytest.mark.parametrize("make", [
    lambda: LENetwork([3, 4, 2], dt=1, device="runtime"),
    lambda: LENetwork([3, 4, 2], tau_m=10 * mV, device="runtime"),
    lambda: LENetwork([3, 4, 2], learning_rates=5, device="runtime"),
    lambda: Microcircuit([3, 4, 2], g_l=0.03, device="runtime"),
    lambda: Microcircuit([3, 4, 2], tau_0=1 * Hz, device="runtime"),
])
def test_unit_errors_are_dimension_mismatch_errors(make):
    with pytest.raises(DimensionMismatchError):
        make()


def test_inputs_with_units_are_refused_with_a_clear_error():
    net = LENetwork([3, 4, 2], device="runtime")
    with pytest.raises(DimensionMismatchError, match="inputs must be dimensionless"):
        net.run(np.ones((2, 3)) * mV, 1 * ms)


@pytest.mark.parametrize("sizes", [[9, True, 3], [9, 0, 3], [9.0, 3, 3], "9-30-3"])
def test_bad_sizes_refused_by_both_classes(sizes):
    for cls in (LENetwork, Microcircuit):
        with pytest.raises(ValueError, match="layer_sizes"):
            cls(sizes)


def test_parameters_one_kind_of_object_and_one_file_layout(tmp_path):
    """get_parameters is a dict of lists of arrays in both classes, set_parameters(**p)
    restores it, save/load round-trip with one layout and refuse the other class."""
    rt = dict(device="runtime")
    for net, other in ((LENetwork([3, 4, 2], seed=1, **rt), LENetwork([3, 4, 2], seed=2, **rt)),
                       (Microcircuit([3, 4, 2], seed=1, **rt),
                        Microcircuit([3, 4, 2], seed=2, **rt))):
        p = net.get_parameters()
        assert isinstance(p, dict) and all(isinstance(v, list) for v in p.values())
        other.set_parameters(**p)
        for k in p:
            for a, b in zip(p[k], other.get_parameters()[k]):
                np.testing.assert_array_equal(a, b)
        path = tmp_path / f"{net.kind}.npz"
        net.save_parameters(path)
        with np.load(path) as f:
            assert str(f["network"]) == net.kind
            assert list(f["layer_sizes"]) == [3, 4, 2]
            assert set(f"{k}_{i + 1}" for k, v in p.items() for i in range(len(v))) <= set(f.files)
    with pytest.raises(ValueError, match="parameters of a LENetwork"):
        Microcircuit([3, 4, 2], device="runtime").load_parameters(tmp_path / "LENetwork.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="bad.npz: damaged or unreadable le_brian parameter file"):
        LENetwork([3, 4, 2], device="runtime").load_parameters(bad)


def test_state_api_by_population_name():
    net = LENetwork([3, 4, 2], device="runtime")
    state = net.get_state()
    assert sorted(state) == ["layer1", "layer2"]
    net.set_state({"layer1": {"u": np.ones(4)}})
    np.testing.assert_array_equal(net.get_state()["layer1"]["u"], np.ones(4))
    net.set_state({2: {"eps": np.full(2, 0.5)}})  # an int is the layer number
    np.testing.assert_array_equal(net.get_state()["layer2"]["eps"], np.full(2, 0.5))
    with pytest.raises(ValueError, match="unknown population"):
        net.set_state({"pyr1": {"u": np.ones(4)}})
    with pytest.raises(ValueError, match="shape"):
        net.set_state({"layer1": {"u": np.ones(3)}})
    mc = Microcircuit([3, 4, 2], device="runtime")
    assert sorted(mc.get_state()) == ["inp", "int1", "out", "pyr1"]
    assert mc.get_state()["pyr1"]["r"][0] == pytest.approx(np.log(2))  # phi(0) of soft_relu


def test_record_pairs_are_checked():
    mc = Microcircuit([3, 4, 2], device="runtime")
    x, y = _data()
    for bad, err in (([(0.7, 1.9)], ValueError), (False, TypeError), ([(5, 0)], ValueError)):
        with pytest.raises(err, match="W_up1"):
            mc.run(x, 1 * ms, record={"W_up1": bad})
    with pytest.raises(ValueError, match="unknown key"):
        LENetwork([3, 4, 2], device="runtime").run(x, 1 * ms, record={"W_up1": True})


def test_divergence_bound_and_state_kept_after_a_failed_run():
    """A run that diverges (finite but huge, or NaN) raises FloatingPointError and leaves
    the network as it was before the run."""
    net = LENetwork([2, 3, 1], learning_rates=1e9 * Hz, beta=10.0, dt=1 * ms,
                    codegen_target="numpy", device="runtime")
    before = net.get_parameters()
    with pytest.raises(FloatingPointError, match="keeps its state and parameters"):
        net.run(np.ones((20, 2)), 1 * ms, targets=np.full((20, 1), 5.0))
    for a, b in zip(before["weights"], net.get_parameters()["weights"]):
        np.testing.assert_array_equal(a, b)
    net = LENetwork([2, 3, 1], activation="linear", output_activation="linear",
                    codegen_target="numpy", device="runtime")
    net.set_parameters(weights=[np.full((3, 2), 10.0), np.full((1, 3), 10.0)])
    with pytest.raises(FloatingPointError, match=r"exceeded 1e\+09 in magnitude.*weights too "
                                                 "large for the inputs"):
        net.run(np.full((2, 2), 0.5 * DIVERGENCE_BOUND), 1 * ms)  # u1 = 1e10
    # an input beyond the bound is refused before anything runs (not blamed on learning)
    with pytest.raises(ValueError, match=r"inputs must lie within \+-1e\+09.*found 1e\+200"):
        net.run(np.full((2, 2), 1e200), 1 * ms)
    with pytest.raises(ValueError, match=r"targets must lie within"):
        net.run(np.ones((2, 2)), 1 * ms, targets=np.full((2, 1), -1e12))
    assert float(net.t / ms) == 0.0


@pytest.mark.standalone
def test_program_key_from_what_was_built():
    """cpp_standalone: a rerun of the same structure compiles nothing; any structural
    change (activation, recorded variable, number of samples, scheme) compiles a new
    program, and its results are those of the new structure (NumPy reference)."""
    sim = Simulator("cpp_standalone")
    x, y = _data(n=3)
    net = LENetwork([3, 4, 2], device="cpp_standalone", simulator=sim,
                    learning_rates=50 * Hz)
    assert net.run(x, 1 * ms, targets=y).compiled
    assert not net.run(x, 1 * ms, targets=y).compiled
    assert sim.n_builds == 1
    other = LENetwork([3, 4, 2], device="cpp_standalone", simulator=sim, activation="sigmoid",
                      learning_rates=50 * Hz, seed=5)
    p = other.get_parameters()
    res = other.run(x, 1 * ms, targets=y)
    assert res.compiled and sim.n_builds == 2
    ref = NumpyLENetwork(p["weights"], p["biases"], activation="sigmoid", learning_rates=50.0,
                         dt=float(other.dt), tau_m=10e-3)
    np.testing.assert_allclose(res.output, ref.run(x, 10, y)[0], rtol=0, atol=1e-12)
    assert net.run(x, 1 * ms, targets=y, record={1: ["u"]}).compiled
    assert net.run(x[:2], 1 * ms, targets=y[:2]).compiled
    assert sim.n_builds == 4


def _user_objects(objects):
    """A Poisson group driven by layer 1's rates (linked variable), its population rate
    and spikes, and a StateMonitor of the output membrane."""
    poisson = NeuronGroup(4, "rate = 5000*Hz*clip(r_in, 0, 1) : Hz\nr_in : 1 (linked)",
                          threshold="rand() < rate*dt", clock=objects.clock, name="poisson1")
    poisson.r_in = linked_var(objects.groups["layer1"], "r")
    return [poisson, PopulationRateMonitor(poisson, name="rate1"),
            SpikeMonitor(poisson, name="spikes1"),
            StateMonitor(objects.groups["layer2"], "u", record=True, when="end", name="u_out"),
            StateMonitor(objects.groups["layer2"], "u", record=True, name="u_start")]


@pytest.mark.standalone
@pytest.mark.parametrize("device", ["runtime", "cpp_standalone"])
def test_user_objects_in_a_run(device):
    """objects= adds the user's Brian2 objects; their recordings come back as
    Quantities; the user's StateMonitor equals le_brian's own recording of the same
    variable; the user's group runs after the step (slot 'groups') so it reads this
    step's rates; a second run reuses the compiled program."""
    x, y = _data()
    net = LENetwork([3, 4, 2], activation="sigmoid", device=device, codegen_target="numpy",
                    learning_rates=50 * Hz)
    res = net.run(x, 1 * ms, targets=y, record={2: ["u"]}, objects=_user_objects)
    rec = res.recordings
    assert sorted(rec) == ["rate1", "spikes1", "u_out", "u_start"]
    np.testing.assert_allclose(np.asarray(rec["u_out"]["u"]), res.state("u", 2), rtol=0,
                               atol=1e-15)
    # Brian2's default when='start' records before the step: one step earlier
    np.testing.assert_allclose(np.asarray(rec["u_start"]["u"])[1:], res.state("u", 2)[:-1],
                               rtol=0, atol=1e-15)
    assert rec["rate1"]["rate"].dim == Hz.dim and len(rec["rate1"]["rate"]) == 40
    assert rec["spikes1"]["t"].dim == second.dim
    assert len(rec["spikes1"]["i"]) == int(np.sum(rec["spikes1"]["count"])) > 0
    assert set(net.groups) == {"layer0", "layer1", "layer2"} and set(net.projections) == {
        "proj1", "proj2"}
    again = net.run(x, 1 * ms, targets=y, record={2: ["u"]}, objects=_user_objects)
    assert not again.compiled
    with pytest.raises(ValueError, match="explicit name"):
        net.run(x, 1 * ms,
                objects=lambda o: [StateMonitor(o.groups["layer1"], "r", record=True)])


@pytest.mark.parametrize("make", [
    lambda: LENetwork([3, 4, 4, 2], codegen_target="numpy", device="runtime"),
    lambda: LENetwork([3, 4, 2], scheme="reference", hand_down="mismatch",
                      codegen_target="numpy", device="runtime"),
    lambda: Microcircuit([3, 4, 2], codegen_target="numpy", device="runtime")])
def test_every_operation_in_a_named_le_brian_slot(make):
    """No operation of le_brian's own objects runs in Brian2's 'groups', 'thresholds',
    'synapses' or 'resets' slots (those are left to user objects, after the step); a
    deep network needs no layer limit."""
    net = make()
    x = np.zeros((1, 3))
    net.run(x, 1 * ms)
    objects = net._last_built.network.sorted_objects
    slots = net.slots()
    for obj in objects:
        assert obj.when in (*slots, "start", "end"), (obj.name, obj.when)
    assert list(net._last_built.network.schedule) == ["start", *slots, *BRIAN_SLOTS]


def test_deep_network_has_no_layer_limit():
    net = LENetwork([2] + [2] * 120 + [1], codegen_target="numpy", device="runtime")
    assert net.n_layers == 121


def test_numpy_references_import_nothing_of_the_brian2_path():
    code = ("import sys, le_brian.numpy_reference, le_brian.activations\n"
            "bad = [m for m in sys.modules if m.startswith(('le_brian.engine', "
            "'le_brian.networks', 'le_brian.equations', 'le_brian.protocols'))]\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    # le_brian/__init__ imports the networks: load the subpackage without it
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", "import importlib.util, sys, types\n"
                          "pkg = types.ModuleType('le_brian'); pkg.__path__ = ['"
                          + str(ROOT / "le_brian") + "']; sys.modules['le_brian'] = pkg\n"
                          + code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    for path in (ROOT / "le_brian" / "engine").glob("*.py"):
        assert "numpy_reference" not in path.read_text(), path
    for path in (ROOT / "le_brian" / "networks").glob("*.py"):
        assert "numpy_reference" not in path.read_text(), path


def test_no_argparse_outside_the_cli():
    for path in (ROOT / "le_brian").rglob("*.py"):
        if "cli" in path.relative_to(ROOT / "le_brian").parts:
            continue
        assert "argparse" not in path.read_text(), path


def test_wheel_outside_the_checkout_runs_train_with_a_model(tmp_path):
    """The wheel, installed apart from the checkout and run from another folder, has the
    parameter sets (le_brian.models) and trains ``--model yinyang`` (a tiny subset on
    the runtime numpy target). The wheel goes into its own folder (``pip install
    --target``) that precedes the editable checkout on the path; its dependencies come
    from the test environment."""
    dist, target, source = tmp_path / "dist", tmp_path / "site", tmp_path / "source"
    # build from a clean copy: a stale build/ folder in the checkout could leak old files
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", ".cache", "*.egg-info", "__pycache__", "runs",
        "figures", "le_brian_demo"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
                    str(source)], check=True, capture_output=True, timeout=900)
    wheel = next(dist.glob("le_brian-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True, timeout=600)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(target), LE_BRIAN_CACHE=str(tmp_path / "cache"))
    where = subprocess.run([sys.executable, "-c", "import le_brian.models, le_brian.parameter_"
                            "sets as p; print(le_brian.models.__file__); "
                            "print(p.available_models())"], cwd=elsewhere, env=env,
                           capture_output=True, text=True, timeout=300)
    assert where.stdout.startswith(str(target)), where.stdout + where.stderr
    assert "yinyang" in where.stdout and "microcircuit_bars" in where.stdout
    out = subprocess.run([sys.executable, "-m", "le_brian", "train", "--model", "yinyang",
                          "--epochs", "1", "--n-train", "20", "--n-test", "10",
                          "--device", "runtime", "--codegen-target", "numpy",
                          "--out", str(elsewhere / "run")], cwd=elsewhere, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "done:" in out.stdout
    assert (elsewhere / "run" / "weights.npz").exists()


@pytest.mark.standalone
def test_weight_recording_without_brian2_warning():
    """Recording weights on cpp_standalone prints no Brian2 warning ("Cannot check
    whether the indices to record from are valid": le_brian checks them itself) and
    returns the recorded synapses as (post, pre) pairs."""
    from brian2.utils.logger import catch_logs

    mc = Microcircuit([3, 4, 2], device="cpp_standalone")
    with catch_logs() as logs:
        res = mc.run(np.zeros((2, 3)), 1 * ms, record={"W_up1": [(0, 0), (1, 2)]})
    assert not [m for m in logs if "indices" in m[2]], logs
    assert res.weights["W_up1"]["w"].shape == (20, 2)
    w = mc.get_parameters()["W_up"][0]
    np.testing.assert_array_equal(res.weights["W_up1"]["w"][-1], [w[0, 0], w[1, 2]])
    np.testing.assert_array_equal(res.weights["W_up1"]["index"], [(0, 0), (1, 2)])


def test_presentation_time_must_be_one_time():
    with pytest.raises(ValueError, match="presentation_time must be a single time"):
        LENetwork([3, 4, 2], device="runtime").run(np.zeros((1, 3)), [0.3, 0.3] * ms)


@pytest.mark.parametrize("device", ["runtime", pytest.param("cpp_standalone",
                                                            marks=pytest.mark.standalone)])
def test_record_neurons_are_columns_of_the_whole_recording(device):
    """record_neurons={population: indices} records those neurons only (unsorted input,
    sorted output), equal to the bit to the same columns of a whole recording, on both
    network classes (cpp_standalone: the layered one, two compiles); result.recorded_neurons
    names the columns; bad subsets are refused naming the population before anything is
    built."""
    x, y = _data(n_in=3, n_out=2, n=3)
    codegen = {"codegen_target": "numpy"} if device == "runtime" else {}
    le_kw = dict(activation="hard_sigmoid", seed=3, learning_rates=20 * Hz, device=device,
                 **codegen)
    whole = LENetwork([3, 7, 2], **le_kw).run(x, 1 * ms, targets=y, record={1: ["u", "eps"]})
    part = LENetwork([3, 7, 2], **le_kw).run(x, 1 * ms, targets=y, record={1: ["u", "eps"]},
                                             record_neurons={1: [5, 0, 2]})
    assert part.recorded_neurons["layer1"].tolist() == [0, 2, 5]
    assert part.recorded_neurons["layer2"].tolist() == [0, 1]
    for var in ("u", "eps"):
        assert part.states["layer1"][var].shape == (30, 3)
        np.testing.assert_array_equal(part.states["layer1"][var],
                                      whole.states["layer1"][var][:, [0, 2, 5]])
    np.testing.assert_array_equal(part.output, whole.output)
    if device != "runtime":
        return
    mc_kw = dict(out_lag=0.2 * ms, seed=3, device=device, **codegen)
    xm, ym = _data(n_in=3, n_out=2, n=2)
    rec = {"pyr1": ["u", "v_B"], "int1": ["v_I"], "out": ["w"]}
    mc_whole = Microcircuit([3, 6, 2], **mc_kw).run(xm, 1 * ms, targets=ym, record=rec)
    mc_part = Microcircuit([3, 6, 2], **mc_kw).run(xm, 1 * ms, targets=ym, record=rec,
                                                   record_neurons={"pyr1": [4], "int1": [1]})
    np.testing.assert_array_equal(mc_part.states["pyr1"]["v_B"],
                                  mc_whole.states["pyr1"]["v_B"][:, [4]])
    np.testing.assert_array_equal(mc_part.states["int1"]["v_I"],
                                  mc_whole.states["int1"]["v_I"][:, [1]])
    np.testing.assert_array_equal(mc_part.output, mc_whole.output)
    assert mc_part.recorded_neurons["out"].tolist() == [0, 1]
    net = LENetwork([3, 7, 2], **le_kw)
    for bad, message in (({1: [7]}, r"record_neurons\[1\] must be .* in 0..6"),
                         ({1: [1, 1]}, "repeats a neuron"),
                         ({2: [0]}, "output population 2 is always recorded whole"),
                         ({"layer9": [0]}, "unknown population 'layer9'")):
        with pytest.raises(ValueError, match=message):
            net.run(x, 1 * ms, record={1: ["u"]}, record_neurons=bad)
    with pytest.raises(ValueError, match="records no variable"):
        Microcircuit([3, 6, 2], **mc_kw).run(xm, 1 * ms, record_neurons={"int1": [0]})
    assert net.n_builds == 0
