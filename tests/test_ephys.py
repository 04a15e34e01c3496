"""Electrophysiology-facing output (le_brian.ephys): Neo and NWB export read back by the
real tools (neo, pynwb, neo.io.NWBIO, nwbinspector), and Elephant statistics against
spike trains of known statistics."""

import numpy as np
import pytest
from brian2 import Hz, mV, ms, second

from le_brian import LENetwork
from le_brian.engine.validation import UnitError

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
pytest.importorskip("pynwb")
pytest.importorskip("elephant")

from le_brian.ephys import spike_statistics, to_neo, to_nwb  # noqa: E402

RT = dict(device="runtime", codegen_target="numpy")


@pytest.fixture(scope="module")
def run():
    """A spiking 3-8-2 LENetwork (hard_sigmoid, 2 neurons per unit, 3 kHz), 4 samples of
    5 ms after a first run (so t_start = 20 ms), u and x recorded every 0.5 ms."""
    net = LENetwork([3, 8, 2], activation="hard_sigmoid", output_activation="hard_sigmoid",
                    spiking=True, n_per_unit=2, r_max=3000 * Hz, seed=2, **RT)
    x = np.random.default_rng(0).uniform(0.2, 1, (4, 3))
    net.run(x, 5 * ms, learn=False)
    res = net.run(x, 5 * ms, learn=False, record_spikes=True, record={1: ["u", "x"]},
                  record_every=0.5 * ms)
    return net, res


def test_to_neo_spike_trains_signals_and_groups(run):
    net, res = run
    block = to_neo(res, description=repr(net))
    (seg,) = block.segments
    trains = {st.name: st for st in seg.spiketrains}
    assert len(trains) == 16 + 4  # 8 and 2 units x 2 neurons
    s = res.spikes["layer1"]
    for j in range(16):
        st = trains[f"layer1[{j}]"]
        expected = np.sort(np.asarray(s["t"] / second)[s["i"] == j])
        np.testing.assert_array_equal(st.rescale(pq.s).magnitude, expected)
        assert float(st.t_start.rescale(pq.s)) == pytest.approx(0.02)
        assert float(st.t_stop.rescale(pq.s)) == pytest.approx(0.04)
        assert st.annotations["population"] == "layer1" and st.annotations["unit"] == j // 2
        assert st.annotations["cell_type"] == "LE unit" and st.annotations["layer"] == "1"
    sig = next(a for a in seg.analogsignals if a.name == "layer1.u")
    assert sig.shape == (40, 8)  # time x channels
    assert float(sig.sampling_period.rescale(pq.ms)) == pytest.approx(0.5)
    np.testing.assert_array_equal(sig.magnitude, res.states["layer1"]["u"])
    assert sig.units == pq.dimensionless
    assert sig.array_annotations["neuron"].tolist() == list(range(8))
    (epoch,) = seg.epochs  # the presented samples
    np.testing.assert_allclose(epoch.times.rescale(pq.s).magnitude, 0.02 + 0.005 * np.arange(4))
    np.testing.assert_allclose(epoch.durations.rescale(pq.ms).magnitude, 5.0)
    assert [g.name for g in block.groups] == ["layer1", "layer2"]
    assert len(block.groups[0].spiketrains) == 16 and len(block.groups[0].analogsignals) == 2
    # the optional linear map to mV for potentials (not for the trace x)
    mapped = to_neo(res, potential_map=(-70 * mV, 10 * mV)).segments[0]
    u = next(a for a in mapped.analogsignals if a.name == "layer1.u")
    np.testing.assert_allclose(u.rescale(pq.mV).magnitude, -70 + 10 * res.states["layer1"]["u"])
    x = next(a for a in mapped.analogsignals if a.name == "layer1.x")
    assert x.units == pq.dimensionless
    with pytest.raises(UnitError, match="rest must be a voltage"):
        to_neo(res, potential_map=(-70, 10 * mV))


def test_to_nwb_reads_back_and_passes_nwbinspector(run, tmp_path):
    from nwbinspector import Importance, inspect_nwbfile
    from pynwb import NWBHDF5IO

    net, res = run
    path = to_nwb(res, tmp_path / "run.nwb", network=net, source_script="tests/test_ephys.py",
                  labels=[0, 1, 1, 0])
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        trials = nwb.trials.to_dataframe()  # one trial per sample, with its label
        np.testing.assert_allclose(trials["start_time"], 0.02 + 0.005 * np.arange(4))
        np.testing.assert_allclose(trials["stop_time"] - trials["start_time"], 0.005)
        assert trials["label"].tolist() == [0, 1, 1, 0]
        assert trials["sample"].tolist() == [0, 1, 2, 3]
        units = nwb.units.to_dataframe()
        assert len(units) == 20 and nwb.units.resolution == pytest.approx(1e-4)
        s = res.spikes["layer1"]
        for j in range(16):
            row = units.iloc[j]
            assert row["population"] == "layer1" and row["unit_index"] == j // 2
            np.testing.assert_array_equal(
                row["spike_times"], np.sort(np.asarray(s["t"] / second)[s["i"] == j]))
        ts = nwb.processing["misc"]["layer1_u"]
        np.testing.assert_array_equal(ts.data[:], res.states["layer1"]["u"])
        assert ts.unit == "dimensionless" and ts.rate == pytest.approx(2000.0)
        assert nwb.was_generated_by[0][0] == "le_brian"
    with pytest.raises(ValueError, match=r"labels must have one entry per sample \(4,\)"):
        to_nwb(res, tmp_path / "bad.nwb", labels=[0, 1])
    bad = [m for m in inspect_nwbfile(nwbfile_path=str(path))
           if m.importance in (Importance.CRITICAL, Importance.BEST_PRACTICE_VIOLATION)]
    assert not bad, [(m.check_function_name, m.message) for m in bad]
    block = neo.io.NWBIO(str(path), mode="r").read_all_blocks()[0]
    trains = block.segments[0].spiketrains
    assert len(trains) == 20
    counts = sorted(len(st) for st in trains)
    assert counts == sorted(int(np.sum(res.spikes[p]["i"] == j))
                            for p in ("layer1", "layer2")
                            for j in range(res.spikes[p]["n_neurons"]))


def test_spike_statistics_of_known_processes():
    """Elephant on generated trains: Poisson at 50 Hz (CV, CV2, LV ~ 1, Fano ~ 1, rate
    50 Hz, correlations ~ 0) and gamma of shape 4 (CV ~ 0.5, LV ~ 3/(2k+1) = 0.33)."""
    from elephant.spike_train_generation import StationaryGammaProcess, \
        StationaryPoissonProcess

    np.random.seed(3)
    poisson = StationaryPoissonProcess(50 * pq.Hz, t_stop=40 * pq.s).generate_n_spiketrains(20)
    stats = spike_statistics(poisson, sample_onsets=np.arange(0, 40, 0.5) * pq.s,
                             sample_duration=0.5 * pq.s, bin_size=10 * pq.ms)
    assert stats["rate"].mean() == pytest.approx(50, rel=0.02)
    assert stats["cv"].mean() == pytest.approx(1, abs=0.03)
    assert stats["cv2"].mean() == pytest.approx(1, abs=0.03)
    assert stats["lv"].mean() == pytest.approx(1, abs=0.03)
    assert stats["fano"].mean() == pytest.approx(1, abs=0.05)
    assert abs(stats["correlation"].mean()) < 0.01
    t, psth = stats["psth"]
    assert len(t) == 50 and psth.mean() == pytest.approx(50, rel=0.05)
    gamma = StationaryGammaProcess(rate=50 * pq.Hz, shape_factor=4,
                                   t_stop=40 * pq.s).generate_n_spiketrains(20)
    g = spike_statistics(gamma)
    assert g["cv"].mean() == pytest.approx(0.5, abs=0.03)
    assert g["lv"].mean() == pytest.approx(3 / 9, abs=0.03)


def test_spike_statistics_of_a_unit_at_constant_rate():
    """A spiking unit at phi = 0.25, r_max 2 kHz: Elephant's rate 500 Hz (4 sigma) and
    ISI CV sqrt(1 - p) (p = 0.05, +-0.03) from the exported Neo trains."""
    net = LENetwork([1, 10, 1], activation="hard_sigmoid", output_activation="hard_sigmoid",
                    spiking=True, spiking_output=False, r_max=2000 * Hz, seed=1, **RT)
    net.set_parameters(weights=[np.zeros((10, 1)), np.zeros((1, 10))],
                       biases=[np.full(10, 0.25), np.zeros(1)])
    net.set_state({"layer1": {"u": np.full(10, 0.25)}})
    res = net.run(np.zeros((1, 1)), 1 * second, learn=False, record_spikes=True)
    stats = spike_statistics(to_neo(res).groups[0].spiketrains)
    assert abs(stats["rate"].mean() - 500) < 4 * np.sqrt(500 / 10)
    assert stats["cv"].mean() == pytest.approx(np.sqrt(0.95), abs=0.03)


def test_missing_extra_names_it(monkeypatch):
    import sys

    from le_brian import ephys

    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(ImportError, match=r"le_brian\[ephys\]"):
        ephys.require_ephys()


def test_to_nwb_of_many_slow_neurons_keeps_every_neuron(tmp_path):
    """Counted spikes of 3 x 400 + 2 x 400 sigmoid neurons at 20 Hz (most silent, so
    empty rows inside and at the end of the ragged spike_times column): one unit per
    neuron, the spike times of every neuron as the run's (sorted), population and
    unit_index columns; read_nwb_units reads the same trains; nwbinspector finds nothing
    critical."""
    from nwbinspector import Importance, inspect_nwbfile
    from pynwb import NWBHDF5IO

    from le_brian.ephys import read_nwb_units

    net = LENetwork([2, 3, 2], activation="sigmoid", output_activation="sigmoid",
                    spiking=True, n_per_unit=400, r_max=20 * Hz, spike_draw="counts", seed=3,
                    **RT)
    res = net.run(np.full((3, 2), 0.8), 10 * ms, learn=False, record_spikes=True)
    path = to_nwb(res, tmp_path / "slow.nwb", network=net)
    expected = [np.sort(np.asarray(res.spikes[p]["t"] / second)[res.spikes[p]["i"] == j])
                for p in ("layer1", "layer2") for j in range(res.spikes[p]["n_neurons"])]
    n_spiking = sum(len(t) > 0 for t in expected)
    assert len(expected) == 2000 and 0 < n_spiking < 1000 and len(expected[-1]) == 0
    with NWBHDF5IO(str(path), "r") as io:
        units = io.read().units
        assert len(units) == 2000
        for k in range(0, 2000, 7):
            np.testing.assert_array_equal(units["spike_times"][k], expected[k])
        assert units["population"][1199] == "layer1" and units["population"][1200] == "layer2"
        assert units["unit_index"][1199] == 2 and units["unit_index"][1999] == 1
        np.testing.assert_allclose(units["obs_intervals"][5], [[0.0, 0.03]])
    trains = read_nwb_units(path, "population")
    got = [st.rescale(pq.s).magnitude for p in ("layer1", "layer2") for st in trains[p]]
    assert all(np.array_equal(a, b) for a, b in zip(got, expected)) and len(got) == 2000
    bad = [m for m in inspect_nwbfile(nwbfile_path=str(path))
           if m.importance in (Importance.CRITICAL, Importance.BEST_PRACTICE_VIOLATION)]
    assert not bad, [(m.check_function_name, m.message) for m in bad]


@pytest.fixture(scope="module")
def rate_run():
    """A rate 3-5-2 tanh LENetwork (the README's kind of model): no spikes."""
    net = LENetwork([3, 5, 2], activation="tanh", output_activation="linear", seed=1, **RT)
    x = np.random.default_rng(1).uniform(-1, 1, (3, 3))
    return net, net.run(x, 2 * ms, learn=False, record={1: ["u"], 2: ["u", "ub"]})


def test_to_nwb_of_a_rate_network(rate_run, tmp_path):
    """A rate network's states and trials are a valid NWB file without a Units table:
    pynwb reads the states back bit for bit, nwbinspector finds nothing critical, and
    read_nwb_units names the file (no units); nothing else is left in the folder."""
    from nwbinspector import Importance, inspect_nwbfile
    from pynwb import NWBHDF5IO

    from le_brian.ephys import read_nwb_trials, read_nwb_units

    net, res = rate_run
    assert not res.spikes
    path = to_nwb(res, tmp_path / "rate.nwb", network=net)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rate.nwb"]  # no temporary left
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        assert nwb.units is None
        for pop, var in (("layer1", "u"), ("layer2", "u"), ("layer2", "ub")):
            np.testing.assert_array_equal(nwb.processing["misc"][f"{pop}_{var}"].data[:],
                                          res.states[pop][var])
    onsets, durations = read_nwb_trials(path)
    np.testing.assert_allclose(onsets, 0.002 * np.arange(3))
    np.testing.assert_allclose(durations, 0.002)
    bad = [m for m in inspect_nwbfile(nwbfile_path=str(path))
           if m.importance in (Importance.CRITICAL, Importance.BEST_PRACTICE_VIOLATION)]
    assert not bad, [(m.check_function_name, m.message) for m in bad]
    with pytest.raises(ValueError, match="rate.nwb: the file has no Units table"):
        read_nwb_units(path)


def test_to_nwb_refuses_to_overwrite_and_never_leaves_a_partial_file(run, tmp_path,
                                                                     monkeypatch):
    """An existing file is refused (FileExistsError naming it, content unchanged) unless
    overwrite=True; a write that fails half way leaves neither a file nor a temporary."""
    import pynwb

    net, res = run
    path = tmp_path / "run.nwb"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="run.nwb exists"):
        to_nwb(res, path)
    assert path.read_bytes() == b"precious"
    to_nwb(res, path, overwrite=True)
    assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"  # HDF5 signature

    def crash(self, *a, **k):
        with open(self.source, "ab") as f:  # half a file, then the failure
            f.write(b"\0" * 100)
        raise OSError("disk full")

    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", crash)
    with pytest.raises(OSError, match="disk full"):
        to_nwb(res, tmp_path / "new.nwb")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nwb"]


def _nwb_with_spike_times(path, times):
    import datetime

    from pynwb import NWBHDF5IO, NWBFile

    nwb = NWBFile(session_description="x", identifier="x",
                  session_start_time=datetime.datetime(2026, 1, 1,
                                                       tzinfo=datetime.timezone.utc))
    for t in times:
        nwb.add_unit(spike_times=t)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_spike_times_are_refused(bad, tmp_path):
    from le_brian.ephys import read_nwb_units

    path = _nwb_with_spike_times(tmp_path / "r.nwb", [[0.1, 0.2, 0.3], [0.1, bad, 0.3]])
    with pytest.raises(ValueError, match=r"r.nwb: unit 1 has a non-finite spike time"):
        read_nwb_units(path)


def test_damaged_nwb_files_are_named(run, tmp_path):
    """Truncated, empty, not HDF5, a folder, missing: one error naming the file."""
    from le_brian.ephys import read_nwb_trials, read_nwb_units

    net, res = run
    good = to_nwb(res, tmp_path / "good.nwb")
    data = good.read_bytes()
    cases = {"trunc.nwb": data[:len(data) // 2], "empty.nwb": b"", "text.nwb": b"hello\n"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        for reader in (read_nwb_units, read_nwb_trials):
            with pytest.raises(ValueError, match=name):
                reader(tmp_path / name)
    (tmp_path / "dir.nwb").mkdir()
    with pytest.raises(ValueError, match="dir.nwb: .*a folder"):
        read_nwb_units(tmp_path / "dir.nwb")
    with pytest.raises(FileNotFoundError, match="missing.nwb"):
        read_nwb_units(tmp_path / "missing.nwb")


def test_compare_statistics_never_reports_nan():
    """A statistic undefined on one side (no train with 3 spikes: CV NaN) is left out
    with a warning naming it; nothing defined on both sides is an error."""
    from le_brian.ephys import compare_statistics

    sim = {"rate": np.array([5.0, 7.0]), "cv": np.array([np.nan, np.nan])}
    rec = {"rate": np.array([6.0, 6.5, 9.0]), "cv": np.array([1.0, 0.9, 1.1])}
    with pytest.warns(UserWarning, match=r"cv \(simulation\)"):
        rows = compare_statistics(sim, rec)
    assert [r["statistic"] for r in rows] == ["rate"]
    assert rows[0]["sim_mean"] == 6.0 and rows[0]["rec_mean"] == pytest.approx(21.5 / 3)
    assert all(np.isfinite(v) for v in rows[0].values() if isinstance(v, float))
    with pytest.raises(ValueError, match="no statistic is defined on both sides"), \
            pytest.warns(UserWarning):
        compare_statistics({"cv": sim["cv"]}, rec)
