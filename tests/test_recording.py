"""le-brian record | plot | compare on a small trained run folder and on NWB recordings the
tests write with known statistics (laid out as real recordings: electrodes table,
obs_intervals, a location column)."""

import csv
import datetime
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pynwb")
pytest.importorskip("elephant")


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "le_brian", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=900)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A 4-10-3 hard_sigmoid Yin-Yang run (1 epoch, 100 samples, runtime/numpy)."""
    tmp = tmp_path_factory.mktemp("rec")
    out = _cli("train", "--dataset", "yinyang", "--layers", "10", "--activation",
               "hard_sigmoid", "--epochs", "1", "--n-train", "100", "--n-val", "20",
               "--n-test", "20", "--device", "runtime", "--codegen-target", "numpy",
               "--out", str(tmp / "run"), cwd=tmp)
    assert out.returncode == 0, out.stderr
    return tmp / "run"


def _write_recording(path, groups, t_stop=20.0, seed=0, intervals=None, trials=None):
    """An NWB file with a Units table: per group (location) a list of spike-time arrays,
    an electrodes table, obs_intervals (``intervals``: one list of [start, stop] per
    unit, default [[0, t_stop]]), optionally a trials table (``trials``: onsets, with
    ``trials[1]`` the duration); nwbinspector-style metadata."""
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.file import Subject

    nwb = NWBFile(session_description="test recording", identifier=f"rec-{seed}",
                  session_start_time=datetime.datetime(2026, 1, 1,
                                                       tzinfo=datetime.timezone.utc))
    nwb.subject = Subject(subject_id="m1", species="Mus musculus", sex="M", age="P60D")
    device = nwb.create_device("probe")
    group = nwb.create_electrode_group("shank0", "a shank", "cortex", device)
    for k in range(4):
        nwb.add_electrode(group=group, location="cortex")
    nwb.add_unit_column("location", "brain area")
    n = 0
    for location, trains in groups.items():
        for k, t in enumerate(trains):
            obs = [[0.0, t_stop]] if intervals is None else intervals[n]
            nwb.add_unit(spike_times=t, obs_intervals=obs, location=location,
                         electrodes=[k % 4])
            n += 1
    if trials is not None:
        onsets, duration = trials
        for t in onsets:
            nwb.add_trial(start_time=float(t), stop_time=float(t + duration))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_record_plot_and_compare(run_dir, tmp_path):
    """record --spiking writes recording.npz and recording.nwb with the spikes of the
    hidden layer; plot writes the panel (PNG + PDF); compare against Poisson (CV 1) and
    gamma (shape 4: CV 0.5) units grouped by location gives the table and the figure,
    the recording's CVs as generated (+-0.05)."""
    out = _cli("record", str(run_dir), "--n-samples", "5", "--spiking", "--r-max", "5000Hz",
               "--max-neurons", "4", "--device", "runtime", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "recorded 5 samples" in out.stdout
    from le_brian.ephys import read_nwb_trials
    from le_brian.protocols.recording import load_recording

    rec = load_recording(run_dir)
    assert set(rec["spikes"]) == {"layer1"} and rec["spikes"]["layer1"]["n_neurons"] == 10
    assert rec["states"]["layer2"]["u"].shape == (50, 3)  # 5 samples x 10 steps, 3 units
    # a subset of the hidden layer (evenly spaced, ends included); the output whole
    assert rec["states"]["layer1"]["u"].shape == (50, 4)
    assert rec["neurons"]["layer1"].tolist() == [0, 3, 6, 9]
    assert rec["neurons"]["layer2"].tolist() == [0, 1, 2]
    assert (run_dir / "recording.nwb").is_file()
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(run_dir / "recording.nwb"), "r") as io:
        ts = io.read().processing["misc"]["layer1_u"]
        np.testing.assert_array_equal(ts.data[:], rec["states"]["layer1"]["u"])
        assert "neurons [0, 3, 6, 9]" in ts.description
    onsets, durations = read_nwb_trials(run_dir / "recording.nwb")  # one trial per sample
    np.testing.assert_allclose(onsets, 1e-3 * np.arange(5) + onsets[0], atol=1e-12)
    np.testing.assert_allclose(durations, 1e-3)
    out = _cli("plot", str(run_dir), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (run_dir / "panel.png").stat().st_size > 20_000 and (run_dir / "panel.pdf").exists()

    rng = np.random.default_rng(4)
    poisson = [np.sort(rng.uniform(0, 20, rng.poisson(400))) for _ in range(15)]
    gamma = [np.cumsum(rng.gamma(4, 1 / (4 * 20), 500)) for _ in range(15)]
    gamma = [t[t < 20] for t in gamma]
    recording = _write_recording(tmp_path / "rec.nwb", {"V1": poisson, "M1": gamma},
                                 trials=(np.arange(0, 20, 1.0), 1.0))
    # 0.5 ms bins: the recorded run lasts 5 ms (5 samples of 1 ms)
    out = _cli("compare", str(run_dir), str(recording), "--units-column", "location",
               "--bin-size", "0.5ms", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(open(run_dir / "compare.csv")))
    stat = {(r["recording_group"], r["statistic"]): float(r["rec_mean"]) for r in rows}
    assert stat["V1", "cv"] == pytest.approx(1.0, abs=0.05)
    assert stat["M1", "cv"] == pytest.approx(0.5, abs=0.05)
    assert stat["V1", "rate"] == pytest.approx(20, rel=0.1)
    # Fano factor over the 20 trials of 1 s: Poisson 1; a gamma renewal process of shape
    # 4 has Fano -> CV^2 = 0.25 in long windows (20 spikes each); independent trains
    assert stat["V1", "fano"] == pytest.approx(1.0, abs=0.1)
    assert stat["M1", "fano"] == pytest.approx(0.25, abs=0.08)
    assert abs(stat["V1", "correlation"]) < 0.02
    assert {r["statistic"] for r in rows} == {"rate", "cv", "cv2", "lv", "fano",
                                              "correlation"}
    assert all(0 <= float(r["ks_distance"]) <= 1 for r in rows)
    for r in rows:  # W >= |difference of the means|; d inside its interval
        assert float(r["wasserstein"]) >= abs(float(r["sim_mean"]) - float(r["rec_mean"]))
        assert float(r["cohens_d_low"]) <= float(r["cohens_d"]) <= float(r["cohens_d_high"])
    assert (run_dir / "compare.png").exists() and "KS dist" in out.stdout
    assert "W dist" in out.stdout and "d [95% CI]" in out.stdout


def test_compare_recording_of_several_sessions(run_dir, tmp_path):
    """Units of two sessions (obs_intervals [0, 20] s and [50, 70] s) and units observed
    in both: each unit gives one train per interval, so the rates are those generated
    (20 Hz, not spikes / 70 s) and no ISI spans the gap; correlations are computed among
    trains of the same interval only."""
    from le_brian.ephys import read_nwb_units, spike_statistics
    from le_brian.protocols.recording import compare_run

    rng = np.random.default_rng(7)

    def poisson(t0, t1, rate=20.0):
        return np.sort(rng.uniform(t0, t1, rng.poisson(rate * (t1 - t0))))

    s1, s2, both = [[0.0, 20.0]], [[50.0, 70.0]], [[0.0, 20.0], [50.0, 70.0]]
    trains = ([poisson(0, 20) for _ in range(6)] + [poisson(50, 70) for _ in range(6)]
              + [np.concatenate([poisson(0, 20), poisson(50, 70)]) for _ in range(4)])
    intervals = [s1] * 6 + [s2] * 6 + [both] * 4
    path = _write_recording(tmp_path / "sessions.nwb", {"V1": trains}, intervals=intervals)
    groups = read_nwb_units(path)
    pieces = groups["all"]
    assert len(pieces) == 6 + 6 + 2 * 4
    assert sorted({(float(p.t_start), float(p.t_stop)) for p in pieces}) == [(0, 20), (50, 70)]
    assert [p.annotations["unit"] for p in pieces[-2:]] == [15, 15]
    assert sum(len(p) for p in pieces) == sum(len(t) for t in trains)
    stats = spike_statistics(pieces)
    assert stats["rate"].mean() == pytest.approx(20, rel=0.05)
    assert stats["cv"].mean() == pytest.approx(1, abs=0.05)
    assert len(stats["correlation"]) == 2 * (10 * 9 // 2)  # pairs within each interval
    rows = compare_run(run_dir, path, out=tmp_path / "cmp")
    rate = next(r for r in rows if r["statistic"] == "rate")
    assert rate["rec_mean"] == pytest.approx(20, rel=0.05) and rate["rec_n"] == 20
    assert "fano" not in {r["statistic"] for r in rows}  # the recording has no trials


def test_bad_recordings_are_named(run_dir, tmp_path):
    """A recording without units, with negative or unsorted spike times, an unknown
    column, a run folder without a recording: one line naming the file (exit 2)."""
    from pynwb import NWBHDF5IO, NWBFile

    empty = tmp_path / "empty.nwb"
    nwb = NWBFile(session_description="x", identifier="x",
                  session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
    with NWBHDF5IO(str(empty), "w") as io:
        io.write(nwb)
    negative = _write_recording(tmp_path / "neg.nwb", {"A": [np.array([-1.0, 0.5, 1.0])]})
    unsorted = _write_recording(tmp_path / "uns.nwb", {"A": [np.array([0.5, 0.2, 1.0])]})
    nan = _write_recording(tmp_path / "nan.nwb", {"A": [np.array([0.1, np.nan, 1.0])]})
    inf = _write_recording(tmp_path / "inf.nwb", {"A": [np.array([0.1, 0.5]),
                                                        np.array([0.2, np.inf])]})
    fresh = tmp_path / "norec"
    fresh.mkdir()
    for args, message in (
            ((str(run_dir), str(nan)), "nan.nwb: unit 0 has a non-finite spike time (nan)"),
            ((str(run_dir), str(inf)), "inf.nwb: unit 1 has a non-finite spike time (inf)"),
            ((str(run_dir), str(empty)), "empty.nwb: the file has no Units table"),
            ((str(run_dir), str(negative)), "neg.nwb: unit 0 has negative spike times"),
            ((str(run_dir), str(unsorted)), "uns.nwb: the spike times of unit 0 are not sorted"),
            ((str(run_dir), str(negative), "--units-column", "depth"), "no column 'depth'"),
            ((str(fresh), str(negative)), "holds no recording.nwb")):
        out = _cli("compare", *args, cwd=tmp_path)
        assert out.returncode == 2 and message in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr
    out = _cli("plot", str(fresh), cwd=tmp_path)
    assert out.returncode == 2 and "holds no run" in out.stderr
    out = _cli("record", str(run_dir), "--n-samples", "50", "--device", "runtime", "--overwrite",
               cwd=tmp_path)
    assert out.returncode == 2 and "the test split has 20 samples" in out.stderr


def _copy_run(run_dir, dest):
    import shutil

    dest.mkdir()
    for name in ("config.json", "weights.npz", "checkpoint.npz", "metrics.json"):
        shutil.copy(run_dir / name, dest / name)
    return dest


def test_rate_recording_overwrite_and_figure_formats(run_dir, tmp_path):
    """record without --spiking (a rate network's recording: its states) writes a valid
    NWB file without units, whose states equal the npz; a second record is refused
    (exit 2, files unchanged) unless --overwrite; compare says what works; plot --out
    writes exactly the format asked for, an unknown suffix is refused naming it."""
    from pynwb import NWBHDF5IO

    from le_brian.protocols.recording import load_recording

    rate = _copy_run(run_dir, tmp_path / "rate")
    out = _cli("record", str(rate), "--n-samples", "3", "--device", "runtime", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "states only: a rate network" in out.stdout
    rec = load_recording(rate)
    assert rec["spikes"] == {} and rec["states"]["layer2"]["u"].shape == (30, 3)
    with NWBHDF5IO(str(rate / "recording.nwb"), "r") as io:
        nwb = io.read()
        assert nwb.units is None and len(nwb.trials) == 3
        np.testing.assert_array_equal(nwb.processing["misc"]["layer1_r"].data[:],
                                      rec["states"]["layer1"]["r"])
    before = {p.name: p.read_bytes() for p in rate.iterdir()}
    out = _cli("record", str(rate), "--n-samples", "2", "--device", "runtime", cwd=tmp_path)
    assert out.returncode == 2 and "recording.npz exists" in out.stderr
    assert "--overwrite" in out.stderr and "Traceback" not in out.stderr
    assert {p.name: p.read_bytes() for p in rate.iterdir()} == before
    out = _cli("record", str(rate), "--n-samples", "2", "--device", "runtime", "--overwrite",
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert load_recording(rate)["n_samples"] == 2
    assert not [p for p in rate.iterdir() if p.name.startswith(".")]  # no temporaries
    out = _cli("compare", str(rate), str(rate / "recording.nwb"), cwd=tmp_path)
    assert out.returncode == 2 and "a rate network: no spikes" in out.stderr
    assert "--spiking" in out.stderr and "Traceback" not in out.stderr
    out = _cli("plot", str(rate), "--out", str(tmp_path / "p.jpg"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "p.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    assert not (tmp_path / "p.png").exists() and not (tmp_path / "p.pdf").exists()
    out = _cli("plot", str(rate), "--out", str(tmp_path / "p.xyz"), cwd=tmp_path)
    assert out.returncode == 2 and "cannot write a figure as '.xyz'" in out.stderr
    assert not (tmp_path / "p.xyz").exists()


def test_damaged_run_folder_files_are_named(run_dir, tmp_path):
    """Damaged recording.npz (truncated, a member missing, a NaN or infinite spike time,
    spike indices beyond the population), weights.npz, metrics.json, config.json: one
    line naming the file, exit 2, no traceback."""
    from le_brian.protocols.recording import load_recording

    rate = _copy_run(run_dir, tmp_path / "r")
    out = _cli("record", str(rate), "--n-samples", "2", "--device", "runtime", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    path = rate / "recording.npz"
    with np.load(path) as f:
        good = dict(f)
    spikes = {"spikes/layer1/i": np.array([0, 3, 9]), "spikes/layer1/t": np.array([0.1, 0.2,
                                                                                   0.3]),
              "spikes/layer1/n_neurons": np.array(10), "spikes/layer1/n_per_unit": np.array(1)}
    np.savez(path, **good, **spikes)
    assert load_recording(rate)["spikes"]["layer1"]["unit"].tolist() == [0, 3, 9]
    for change, message in (
            ({"spikes/layer1/t": np.array([0.1, np.nan, 0.3])}, "non-finite value \\(nan\\)"),
            ({"spikes/layer1/t": np.array([0.1, np.inf, 0.3])}, "non-finite value \\(inf\\)"),
            ({"spikes/layer1/i": np.array([0, 3, 12])}, "spikes of 'layer1' are inconsistent"),
            ({"spikes/layer1/t": np.array(["a", "b", "c"])}, "has dtype <U1, expected float"),
            ({"t": good["t"][:-1]}, "'state/layer1/r' has \\d+ rows, t has")):
        np.savez(path, **{**good, **spikes, **change})
        with pytest.raises(ValueError, match="recording.npz: .*" + message):
            load_recording(rate)
    np.savez(path, **{k: v for k, v in good.items() if k != "dt"})
    with pytest.raises(ValueError, match="recording.npz: damaged or incomplete le_brian "
                       "recording: no array 'dt'"):
        load_recording(rate)
    data = (rate / "weights.npz").read_bytes()
    np.savez(path, **good)
    for name, content, message in (
            ("recording.npz", b"PK\x03\x04trunc", "recording.npz: damaged or unreadable"),
            ("weights.npz", data[: len(data) // 3], "weights.npz: damaged or unreadable"),
            ("metrics.json", b'[{"epoch": 0', "metrics.json: not a readable JSON file")):
        original = (rate / name).read_bytes()
        (rate / name).write_bytes(content)
        out = _cli("plot", str(rate), cwd=tmp_path)
        assert out.returncode == 2 and message in out.stderr, (name, out.stderr)
        assert "Traceback" not in out.stderr
        (rate / name).write_bytes(original)
    (rate / "config.json").write_text("{")
    out = _cli("record", str(rate), "--overwrite", "--device", "runtime", cwd=tmp_path)
    assert out.returncode == 2 and "config.json: not a readable JSON file" in out.stderr
    (rate / "config.json").write_text("[]")
    out = _cli("record", str(rate), "--overwrite", "--device", "runtime", cwd=tmp_path)
    assert out.returncode == 2 and "config.json: damaged run configuration" in out.stderr
