"""Bad input refused before anything is built (no silent wrong values, no resource
bombs) and the CLI's one-line errors per kind of failure (issue 29, part B)."""

import os
import subprocess
import sys

import pytest
from brian2 import Hz, ms

from le_brian import LENetwork, Microcircuit
from le_brian.engine import resources
from le_brian.engine.spiking import SpikingSpec


def test_tau_s_shorter_than_dt_is_refused_naming_both():
    """tau_s < dt is refused for both network classes and any dt (the Euler decay of the
    trace would overshoot below 0: at tau_s = dt / 4 the trace goes to -3 per step, the
    issue's '-4'); tau_s = dt is accepted."""
    for dt, tau_s in ((0.1 * ms, 0.025 * ms), (0.01 * ms, 0.005 * ms)):
        with pytest.raises(ValueError, match=rf"tau_s = {float(tau_s / ms):g} ms is shorter "
                                             rf"than the time step dt = {float(dt / ms):g} ms"):
            LENetwork([2, 3, 1], device="runtime", spiking=True, activation="sigmoid",
                      spiking_output=False, dt=dt, tau_s=tau_s)
        with pytest.raises(ValueError, match="tau_s = .* shorter than the time step dt"):
            Microcircuit([2, 3, 1], device="runtime", spiking=True, dt=dt, tau_s=tau_s)
    spec = SpikingSpec.check(1, 1000 * Hz, 0.1 * ms, {}, dt=1e-4)
    assert spec.tau_s == pytest.approx(1e-4)
    # what the check prevents: one Euler step of the trace's decay at tau_s = dt / 4
    x, dt, tau = 1.0, 1e-4, 0.25e-4
    assert x - x * dt / tau == -3.0


def test_tau_bounds_that_exclude_the_nominal_tau_are_refused_without_jitter():
    """tau_bounds that exclude the nominal tau_m are refused with sigma = 0 as with
    sigma > 0 (both classes); bounds containing it, and the default bounds with a tau
    outside them but no jitter (e.g. the lagged tau_r = 0), are accepted."""
    for sigma in (0.0, 0.1):
        with pytest.raises(ValueError, match=r"tau_m\[0\]: nominal values 10 .. 10 ms lie "
                                             r"outside tau_bounds \[20, 100\] ms"):
            LENetwork([2, 3, 1], device="runtime", tau_m=10 * ms, tau_jitter=sigma,
                      tau_bounds=(20 * ms, 100 * ms))
        with pytest.raises(ValueError, match="outside tau_bounds"):
            Microcircuit([2, 3, 1], device="runtime", tau_jitter=sigma,
                         tau_bounds=(100 * ms, 1000 * ms))
    net = LENetwork([2, 3, 1], device="runtime", tau_m=10 * ms, tau_bounds=(5 * ms, 20 * ms))
    assert net is not None
    LENetwork([2, 3, 1], device="runtime", tau_r=0 * ms)
    LENetwork([2, 3, 1], device="runtime", tau_m=0.5 * ms)


@pytest.mark.parametrize("build", [
    lambda: LENetwork([2, 3, 1], device="runtime", spiking=True, activation="sigmoid",
                      spiking_output=False, n_per_unit=10 ** 9),
    lambda: Microcircuit([2, 3, 1], device="runtime", spiking=True, n_per_unit=10 ** 9),
    lambda: LENetwork([100_000, 100_000, 10], device="runtime"),
    lambda: Microcircuit([100_000, 100_000, 10], device="runtime"),
])
def test_a_network_larger_than_memory_is_refused_before_allocating(build, monkeypatch):
    """n_per_unit = 10**9 and 10^5-wide layers: ValueError with the estimated size and
    the limit, at once (tracemalloc: less than 10 MB allocated by the attempt)."""
    import tracemalloc

    monkeypatch.setenv("LE_BRIAN_MAX_MEMORY", "16G")
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"needs about [0-9.]+ [GT]iB of memory, more "
                                             r"than the limit of 16.0 GiB "
                                             r"\(LE_BRIAN_MAX_MEMORY\)"):
            build()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 ** 2


def test_memory_estimate_and_limit(monkeypatch):
    """The estimate from its documented constants; LE_BRIAN_MAX_MEMORY overrides the
    default (physical memory) and allows a network the default refuses; a bad value
    names the variable."""
    est = resources.estimate_network_bytes([2, 3, 1], spiking_units=3, n_per_unit=10 ** 9)
    assert est == (resources.PROJECTIONS_PER_LAYER * resources.BYTES_PER_WEIGHT * 9
                   + resources.BYTES_PER_UNIT * 6 + resources.BYTES_PER_SPIKING_NEURON * 3e9)
    monkeypatch.setenv("LE_BRIAN_MAX_MEMORY", "1M")
    with pytest.raises(ValueError, match=r"n_per_unit = 10000 on 3 units \(30,000 Brian2 "
                                         r"neurons\) needs about 4.6 MiB .* limit of 1.0 MiB"):
        LENetwork([2, 3, 1], device="runtime", spiking=True, activation="sigmoid",
                  spiking_output=False, n_per_unit=10000)
    monkeypatch.setenv("LE_BRIAN_MAX_MEMORY", "8M")
    LENetwork([2, 3, 1], device="runtime", spiking=True, activation="sigmoid",
              spiking_output=False, n_per_unit=10000)
    monkeypatch.setenv("LE_BRIAN_MAX_MEMORY", "plenty")
    with pytest.raises(ValueError, match="LE_BRIAN_MAX_MEMORY must be a size"):
        LENetwork([2, 3, 1], device="runtime")
    monkeypatch.delenv("LE_BRIAN_MAX_MEMORY")
    assert resources.memory_limit() == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


# ------------------------------------------------------------------------------- CLI
def _cli(args, tmp_path, env=None):
    return subprocess.run([sys.executable, "-m", "le_brian", *args], capture_output=True,
                          text=True, timeout=300, cwd=tmp_path,
                          env=dict(os.environ, LE_BRIAN_CACHE=str(tmp_path / "cache"),
                                   **(env or {})))


def _one_line(out, code, *needles):
    assert out.returncode == code, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr and "Brian 2 encountered" not in out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_model_file_errors_name_the_file_and_line(tmp_path):
    """--model FILE.py with a syntax error, and one that raises: exit 2, one line with
    the file and the line; --debug shows Python's traceback without Brian2's banner."""
    bad = tmp_path / "bad_model.py"
    bad.write_text("TRAINING = dict(\n    epochs=2,\n    hidden=[10 20],\n)\n")
    out = _cli(["train", "--model", str(bad), "--out", str(tmp_path / "r")], tmp_path)
    _one_line(out, 2, f"model file {bad}, line 3: syntax error")
    raising = tmp_path / "raising_model.py"
    raising.write_text("import math\n\nTRAINING = dict(epochs=math.log(-1))\n")
    out = _cli(["train", "--model", str(raising), "--out", str(tmp_path / "r")], tmp_path)
    _one_line(out, 2, f"model file {raising}, line 3: ValueError: math domain error")
    for argv in (["--debug", "train"], ["train", "--debug"]):
        dbg = _cli([*argv, "--model", str(bad), "--out", str(tmp_path / "r")], tmp_path)
        assert dbg.returncode == 1 and "Traceback" in dbg.stderr
        assert "Brian 2 encountered" not in dbg.stderr and "brian2/issues" not in dbg.stderr


CLI_RAISES = """
import sys
import le_brian.cli as cli
import le_brian.protocols.demo as demo
kind = sys.argv[1]

def boom(**kwargs):
    if kind == "FloatingPointError":
        raise FloatingPointError("layer1: u is not finite after 12 steps")
    if kind == "MemoryError":
        raise MemoryError()
    if kind == "OverflowError":
        raise OverflowError("cannot convert float infinity to integer")
    if kind == "OSError":  # a file where the output folder should be
        open(sys.argv[2] + "/x.json", "w")
    if kind == "RuntimeError":
        raise RuntimeError("compiling failed; compiler output:\\nerror: one\\nerror: two")
    if kind == "KeyError":
        raise KeyError("weights")

demo.run_demo = boom
sys.exit(cli.main(["demo", "--out", sys.argv[2]] + sys.argv[3:]))
"""


@pytest.mark.parametrize("kind, code, needle", [
    ("FloatingPointError", 3, "error (the run diverged): layer1: u is not finite"),
    ("MemoryError", 3, "error (out of memory): out of memory"),
    ("OverflowError", 2, "error: cannot convert float infinity"),
    ("OSError", 2, "Not a directory: "),
    ("KeyError", 4, "unexpected error KeyError"),
])
def test_cli_errors_are_one_line_with_their_exit_status(kind, code, needle, tmp_path):
    """Each kind of error in a command: one line (exit 2 bad input or an unusable path,
    3 a failed run, 4 unexpected), the path of an OSError named, no traceback, no
    Brian2 banner; --debug shows the traceback."""
    folder = tmp_path / "not_a_folder"
    folder.write_text("a file where a folder is expected")
    out = subprocess.run([sys.executable, "-c", CLI_RAISES, kind, str(folder)],
                         capture_output=True, text=True, timeout=300)
    line = _one_line(out, code, needle)
    if kind == "OSError":
        assert str(folder / "x.json") in line
    dbg = subprocess.run([sys.executable, "-c", CLI_RAISES, kind, str(folder), "--debug"],
                         capture_output=True, text=True, timeout=300)
    assert "Traceback" in dbg.stderr and "Brian 2 encountered" not in dbg.stderr


def test_cli_run_failure_shows_the_program_output_then_one_line(tmp_path):
    """A RuntimeError (a compiler's failure): its output lines, then one le-brian line;
    exit 3, no traceback."""
    out = subprocess.run([sys.executable, "-c", CLI_RAISES, "RuntimeError", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 3 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        "error: one", "error: two", "le-brian: error (failed): compiling failed; compiler "
        "output:"]


def test_exit_codes_are_documented():
    """le-brian --help lists every exit status and the code that runs by design."""
    from le_brian.cli import EXIT_CODES, build_parser

    text = " ".join(build_parser().format_help().split())
    for code in EXIT_CODES:
        assert f"{code} " in text
    assert "--model FILE.py executes that file" in text


def test_wheel_build_is_quiet_and_has_the_templates(tmp_path):
    """Building the wheel prints no setuptools warning about packages absent from the
    configuration, and the wheel holds the code templates and le_brian.models."""
    import shutil
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    source = tmp_path / "source"
    shutil.copytree(root, source, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "dist", ".cache", "*.egg-info", "__pycache__", "runs",
        "figures", "le_brian_demo", "sweeps"))
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w",
                          str(tmp_path / "dist"), str(source)], capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "absent from the" not in out.stdout + out.stderr
    (wheel,) = (tmp_path / "dist").glob("le_brian-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for folder, suffix in (("dense_cpp", ".cpp"), ("dense_cuda", ".cu"), ("conv_cpp", ".cpp"),
                           ("conv_cuda", ".cu")):
        expected = sorted(p.name for p in (root / "le_brian" / "templates" / folder).iterdir()
                          if p.suffix == suffix)
        assert sorted(n.rsplit("/", 1)[1] for n in names
                      if n.startswith(f"le_brian/templates/{folder}/")) == expected
    assert "le_brian/models/yinyang.py" in names


def test_default_output_folders_are_ignored_by_git():
    """le-brian demo's and le-brian sweep's default output folders are in .gitignore."""
    from pathlib import Path

    lines = (Path(__file__).resolve().parent.parent / ".gitignore").read_text().splitlines()
    assert "le_brian_demo/" in lines and "sweeps/" in lines
