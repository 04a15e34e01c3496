"""Shorter builds (le_brian.engine.fastbuild) and the benchmark's traffic model and
bandwidth probe (le_brian.bandwidth). No timing is asserted: the build changes must
leave the compiled program's results bit for bit the same."""

from pathlib import Path

import numpy as np
import pytest
from brian2 import Hz, ms

from le_brian import LENetwork
from le_brian.bandwidth import (PATH_TRAFFIC, floor_steps_per_s, probe_bandwidth,
                                weight_traffic)
from le_brian.benchmark import summary_table
from le_brian.engine.devices import Simulator
from le_brian.engine.fastbuild import PCH_HEADERS, prepare_makefile
from le_brian.engine.fastbuild import _entry_valid as _pch_entry_valid

SIZES = [7, 5, 3]


def _run(cache, monkeypatch, fast):
    monkeypatch.setenv("LE_BRIAN_CACHE", str(cache))
    monkeypatch.setenv("LE_BRIAN_FAST_BUILD", "1" if fast else "0")
    rng = np.random.default_rng(3)
    net = LENetwork(SIZES, activation="tanh", seed=1, learning_rates=50 * Hz,
                    device="cpp_standalone",
                    simulator=Simulator("cpp_standalone", keep_builds=True))
    res = net.run(rng.uniform(0, 1, (6, 7)), 1 * ms, targets=rng.uniform(0, 1, (6, 3)),
                  record=["u", "eps"])
    assert res.compiled and not res.from_cache
    return res, net.get_parameters(), Path(net.build_directories[-1])


@pytest.mark.standalone
def test_fast_build_same_program_results(tmp_path, monkeypatch):
    """The same network compiled with and without the fast build (separate caches, so
    both compile): bit-identical outputs, states and weights. The fast build's makefile
    force-includes the cached precompiled header, compiles objects.o at -O0 and has an
    empty make.deps; a corrupt header file in the cache is ignored by the compiler and
    the results stay the same."""
    slow, p_slow, d_slow = _run(tmp_path / "slow", monkeypatch, fast=False)
    fast, p_fast, d_fast = _run(tmp_path / "fast", monkeypatch, fast=True)
    np.testing.assert_array_equal(fast.output, slow.output)
    for var in ("u", "eps"):
        np.testing.assert_array_equal(fast.state(var, 1), slow.state(var, 1))
    for a, b in zip(p_fast["weights"] + p_fast["biases"], p_slow["weights"] + p_slow["biases"]):
        np.testing.assert_array_equal(a, b)
    makefile = (d_fast / "makefile").read_text()
    (gch,) = (tmp_path / "fast" / "pch").glob("*/le_pch.h.gch")
    assert "CXXFLAGS += -include le_pch.h\n" in makefile  # the build's own link
    assert str(tmp_path) not in makefile  # no cache path reaches make's shell
    assert (d_fast / "le_pch.h.gch").read_bytes() == gch.read_bytes()
    assert "objects.o: CXXFLAGS += -O0" in makefile
    assert (d_fast / "make.deps").read_text() == ""
    assert "le_brian fastbuild" not in (d_slow / "makefile").read_text()
    assert (d_slow / "make.deps").stat().st_size > 0
    header = gch.with_suffix("").read_text()
    assert all(f"#include <{h}>" in header for h in PCH_HEADERS)

    # a truncated header in the cache: detected (size and checksum), built again, and
    # the program's results stay the same
    size = gch.stat().st_size
    with open(gch, "r+b") as f:
        f.truncate(size // 2)
    (tmp_path / "fast" / "programs").rename(tmp_path / "fast" / "old-programs")
    broken, _, d_broken = _run(tmp_path / "fast", monkeypatch, fast=True)
    np.testing.assert_array_equal(broken.output, slow.output)
    (gch,) = (tmp_path / "fast" / "pch").glob("*/le_pch.h.gch")
    assert gch.stat().st_size > size // 2 and _pch_entry_valid(gch.parent)
    assert (d_broken / "le_pch.h.gch").read_bytes() == gch.read_bytes()


def test_prepare_makefile_reuses_the_header_and_survives_no_compiler(tmp_path, monkeypatch):
    """prepare_makefile on a minimal project: the header is built once under the given
    root and reused by a second project with the same flags; with a compiler that cannot
    run, nothing but make.deps and the -O0 rule change (no -include)."""
    def project(name):
        d = tmp_path / name
        d.mkdir()
        (d / "makefile").write_text("CXXFLAGS = -c -O2 -I.\nOPTIMISATIONS = -O2\n")
        return d

    root = tmp_path / "pch"
    first, second = project("a"), project("b")
    prepare_makefile(first, root)
    (gch,) = root.glob("*/le_pch.h.gch")
    stamp = gch.stat().st_mtime_ns
    prepare_makefile(second, root)
    assert gch.stat().st_mtime_ns == stamp and len(list(root.iterdir())) == 1
    assert "-include le_pch.h\n" in (second / "makefile").read_text()
    # the second project's header is a private hard link of the cached one: removing the
    # cache (le-brian cache clear in another process) leaves it intact
    assert (second / "le_pch.h.gch").stat().st_ino == gch.stat().st_ino
    import shutil

    data = gch.read_bytes()
    shutil.rmtree(root)
    assert (second / "le_pch.h.gch").read_bytes() == data
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    third = project("c")
    prepare_makefile(third, tmp_path / "pch2")
    text = (third / "makefile").read_text()
    assert "CXXFLAGS += -include" not in text
    assert "objects.o: CXXFLAGS += -O0" in text and (third / "make.deps").read_text() == ""


def test_weight_traffic_model():
    """Bytes per step per path: 784-300-100-10 holds 266,200 weights; the fused sweep
    reads and writes each once (4.26 MB in float64, half in float32), its evaluation
    branch reads each once, the unfused dense
    path adds a forward and a feedback read, plain also the int32 indices."""
    sizes = [784, 300, 100, 10]
    n_in, n_rest = 784 * 300, 300 * 100 + 100 * 10
    assert weight_traffic(sizes, "dense") == 2 * 8 * (n_in + n_rest) == 4_259_200
    assert weight_traffic(sizes, "dense", "float32") == 2_129_600
    assert weight_traffic(sizes, "dense_unfused") == 8 * (3 * n_in + 4 * n_rest)
    assert weight_traffic(sizes, "plain") == (3 * 8 + 16) * n_in + (4 * 8 + 24) * n_rest
    assert weight_traffic(sizes, "numpy-loop") == weight_traffic(sizes, "dense_unfused")
    assert floor_steps_per_s(sizes, 4.2592e10) == pytest.approx(1e4)
    # evaluation (the fused pass's evaluation branch): one read of every weight
    assert weight_traffic(sizes, "dense_eval") == 8 * (n_in + n_rest)
    assert floor_steps_per_s(sizes, 4.2592e10, learn=False) == pytest.approx(2e4)
    with pytest.raises(ValueError, match="path must be one of"):
        weight_traffic(sizes, "sparse")
    assert set(PATH_TRAFFIC) == {"dense", "dense_eval", "dense_unfused", "plain",
                                 "numpy-loop"}


def test_bandwidth_probe_measures_and_checks_arguments():
    """The probe runs and returns a bandwidth between 0.1 GB/s and 10 TB/s for a 256 kB
    buffer (any machine); its arguments are checked."""
    probe = probe_bandwidth(256 * 1024, "float64", seconds=0.05)
    assert 1e8 < probe["bytes_per_s"] < 1e13
    assert probe["n_bytes"] == 256 * 1024 and probe["pass_seconds"] > 0
    assert "-O3" in probe["compiler"]
    assert probe_bandwidth(4096, "float32", seconds=0.01)["n_bytes"] == 4096
    for kwargs, message in ((dict(n_bytes=10), "n_bytes must be an int >= 1024"),
                            (dict(n_bytes=4096, dtype="int8"), "dtype must be"),
                            (dict(n_bytes=4096, seconds=0), "seconds must be > 0")):
        with pytest.raises(ValueError, match=message):
            probe_bandwidth(**kwargs)


def test_benchmark_summary_reports_fraction_of_floor():
    """summary_table: steps/s of the three paths, the fused/unfused ratio and the
    fraction of the floor from the entries (no run: entries as run_benchmarks writes
    them)."""
    def entry(path, rate, **extra):
        return {"architecture": "784-300-100-10", "learn": True, "device": "cpp_standalone",
                "path": path, "dtype": "float64", "steps_per_s": rate, **extra}

    results = {"entries": [
        {**entry("numpy-loop", 5000.0), "device": "numpy"},
        entry("dense", 15000.0, fraction_of_floor=0.7, compiled=True, build_seconds=4.2),
        entry("dense_unfused", 10000.0), entry("plain", 3000.0)]}
    table = summary_table(results)
    header, _, row = table.splitlines()
    assert "dense/unfused" in header and "of floor" in header and "f32" not in header
    assert row == ("| 784-300-100-10 | on | 5,000 | 3,000 | 10,000 | 15,000 | x1.50 | 0.70 "
                   "| 4.2 |")


@pytest.mark.standalone
def test_a_cache_path_with_shell_metacharacters_builds_and_runs_nothing(tmp_path,
                                                                       monkeypatch):
    """LE_BRIAN_CACHE with spaces, quotes, ';', '$(...)', '`' and '#': the fast build
    (precompiled header, program cache) works and gives the same output as a build in a
    plain folder, and none of the embedded commands ran (no file was created)."""
    marker = tmp_path / "INJECTED"
    nasty = tmp_path / f"ca che;touch {marker};'q\"$(touch {marker}2)`touch {marker}3`#x"
    plain, _, _ = _run(tmp_path / "plain", monkeypatch, fast=True)
    odd, _, build = _run(nasty, monkeypatch, fast=True)
    np.testing.assert_array_equal(odd.output, plain.output)
    assert str(build).startswith(str(nasty))
    assert list(nasty.glob("pch/*/le_pch.h.gch"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("INJECTED")]
    assert not list(Path.cwd().glob("*INJECTED*"))
