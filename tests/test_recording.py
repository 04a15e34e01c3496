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


def _write_recording(path, groups, t_stop=20.0, seed=0):
    """An NWB file with a Units table: per group (location) a list of spike-time arrays,
    an electrodes table, obs_intervals; nwbinspector-style metadata."""
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
    for location, trains in groups.items():
        for k, t in enumerate(trains):
            nwb.add_unit(spike_times=t, obs_intervals=[[0.0, t_stop]], location=location,
                         electrodes=[k % 4])
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path


def test_record_plot_and_compare(run_dir, tmp_path):
    """record --spiking writes recording.npz and recording.nwb with the spikes of the
    hidden layer; plot writes the panel (PNG + PDF); compare against Poisson (CV 1) and
    gamma (shape 4: CV 0.5) units grouped by location gives the table and the figure,
    the recording's CVs as generated (+-0.05)."""
    out = _cli("record", str(run_dir), "--n-samples", "5", "--spiking", "--r-max", "5000",
               "--device", "runtime", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "recorded 5 samples" in out.stdout
    from le_brian.protocols.recording import load_recording

    rec = load_recording(run_dir)
    assert set(rec["spikes"]) == {"layer1"} and rec["spikes"]["layer1"]["n_neurons"] == 10
    assert rec["states"]["layer2"]["u"].shape == (50, 3)  # 5 samples x 10 steps, 3 units
    assert (run_dir / "recording.nwb").is_file()
    out = _cli("plot", str(run_dir), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (run_dir / "panel.png").stat().st_size > 20_000 and (run_dir / "panel.pdf").exists()

    rng = np.random.default_rng(4)
    poisson = [np.sort(rng.uniform(0, 20, rng.poisson(400))) for _ in range(15)]
    gamma = [np.cumsum(rng.gamma(4, 1 / (4 * 20), 500)) for _ in range(15)]
    gamma = [t[t < 20] for t in gamma]
    recording = _write_recording(tmp_path / "rec.nwb", {"V1": poisson, "M1": gamma})
    out = _cli("compare", str(run_dir), str(recording), "--units-column", "location",
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(open(run_dir / "compare.csv")))
    cv = {r["recording_group"]: float(r["rec_mean"]) for r in rows if r["statistic"] == "cv"}
    assert cv["V1"] == pytest.approx(1.0, abs=0.05) and cv["M1"] == pytest.approx(0.5, abs=0.05)
    rate = {r["recording_group"]: float(r["rec_mean"]) for r in rows if r["statistic"] == "rate"}
    assert rate["V1"] == pytest.approx(20, rel=0.1)
    assert all(0 <= float(r["ks_distance"]) <= 1 for r in rows)
    assert (run_dir / "compare.png").exists() and "KS dist" in out.stdout


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
    fresh = tmp_path / "norec"
    fresh.mkdir()
    for args, message in (
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
    out = _cli("record", str(run_dir), "--n-samples", "50", "--device", "runtime", cwd=tmp_path)
    assert out.returncode == 2 and "the test split has 20 samples" in out.stderr
