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
