"""Compiled standalone programs kept across processes (le_brian.engine.program_cache):
content keys, atomic publication under concurrency, LRU bound, `le-brian cache`."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from le_brian.engine import program_cache as pc
from le_brian.engine.devices import cuda_build_available
from le_brian.engine.program_cache import ProgramCache, cache_limit, program_key

ROOT = Path(__file__).resolve().parent.parent


def _project(path, source="int main(){}", makefile="CXXFLAGS = -O3 -march=native"):
    path.mkdir(parents=True, exist_ok=True)
    (path / "main.cpp").write_text(source)
    (path / "makefile").write_text(makefile)
    return path


def test_key_is_the_generated_code_and_the_toolchain(tmp_path, monkeypatch):
    """Equal projects give equal keys wherever they lie; a changed source, makefile
    (compiler flags), device or toolchain gives another; results, objects, run_args
    values and the binary do not enter the key."""
    a, b = _project(tmp_path / "a"), _project(tmp_path / "b")
    key = program_key(a, "cpp_standalone")
    assert key == program_key(b, "cpp_standalone") and len(key) == 64
    for junk in ("main", "main.o", "make.deps", "results/v.dat", "static_arrays/init_x.dat"):
        (b / junk).parent.mkdir(exist_ok=True)
        (b / junk).write_text("changes every run")
    assert program_key(b, "cpp_standalone") == key
    assert program_key(_project(tmp_path / "c", source="int main(){return 1;}"),
                       "cpp_standalone") != key
    assert program_key(_project(tmp_path / "d", makefile="CXXFLAGS = -O2"),
                       "cpp_standalone") != key
    if cuda_build_available():
        assert program_key(a, "cuda_standalone") != key
    # another compiler (CXX) or another CPU's -march=native: another key
    monkeypatch.setenv("CXX", "clang++-does-not-exist")
    pc.toolchain_identity.cache_clear()
    try:
        assert program_key(a, "cpp_standalone") != key
    finally:
        monkeypatch.delenv("CXX")
        pc.toolchain_identity.cache_clear()
    monkeypatch.setattr(pc, "_native_target", lambda cxx: (["-march= znver9"], "flags:x"))
    pc.toolchain_identity.cache_clear()
    try:
        assert program_key(a, "cpp_standalone") != key
    finally:
        monkeypatch.undo()
        pc.toolchain_identity.cache_clear()
    assert program_key(a, "cpp_standalone") == key


def test_native_target_is_resolved_for_this_cpu():
    resolved, cpu = pc._native_target(os.environ.get("CXX", "g++"))
    assert any(item.startswith("-march=") and "native" not in item for item in resolved)
    assert "flags:" in cpu


def test_cache_limit_parsing(monkeypatch):
    assert cache_limit("500M") == 500 * 1024 ** 2
    assert cache_limit("2G") == 2 * 1024 ** 3 and cache_limit("1.5k") == 1536
    assert cache_limit("123") == 123
    monkeypatch.setenv("LE_BRIAN_CACHE_SIZE", "10KiB")
    assert cache_limit() == 10240
    monkeypatch.setenv("LE_BRIAN_CACHE_SIZE", "lots")
    with pytest.raises(ValueError, match="LE_BRIAN_CACHE_SIZE"):
        cache_limit()


def test_publish_fetch_and_least_recently_used_eviction(tmp_path):
    store = ProgramCache(tmp_path / "programs", limit=2500)
    entries = {}
    for name in ("k1", "k2"):
        d = _project(tmp_path / name)
        (d / "main").write_bytes(bytes(1000))
        store.publish(name, d)
        entries[name] = d
    os.utime(store.root / "k1" / store.ENTRY, (1000, 1000))
    os.utime(store.root / "k2" / store.ENTRY, (2000, 2000))
    out = _project(tmp_path / "out")
    assert store.fetch("k1", out) and (out / "main").stat().st_size == 1000  # k1 touched
    assert os.access(out / "main", os.X_OK) == os.access(entries["k1"] / "main", os.X_OK)
    assert not store.fetch("missing", out)
    d3 = _project(tmp_path / "k3")
    (d3 / "main").write_bytes(bytes(1000))
    store.publish("k3", d3)  # 3 x ~1 kB > 2500 bytes: the least recently used (k2) goes
    assert sorted(k for k, *_ in store.entries()) == ["k1", "k3"]
    # publishing an existing key keeps the first entry (the loser of a race uses its own)
    d4 = _project(tmp_path / "k4")
    (d4 / "main").write_bytes(b"other")
    assert store.publish("k1", d4) == store.root / "k1"
    assert (store.root / "k1" / "main").stat().st_size == 1000
    assert not list(store.root.glob(".tmp-*"))
    assert store.clear() == 2 and store.entries() == []


def _demo(tmp_path, cache, name):
    env = dict(os.environ, LE_BRIAN_CACHE=str(cache))
    return subprocess.Popen([sys.executable, "-m", "le_brian", "demo", "--fast", "--epochs", "1",
                             "--out", str(tmp_path / name)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)


@pytest.mark.standalone
def test_a_second_process_compiles_nothing_and_concurrent_builds_agree(tmp_path):
    """Two `le-brian demo` processes started at once on an empty cache both compile and
    both succeed with identical numbers (one entry per program); a third process takes
    every binary from the cache (0 compiled) and gives the same numbers again."""
    cache = tmp_path / "cache"
    first = [_demo(tmp_path, cache, f"run{i}") for i in (1, 2)]
    outputs = [p.communicate(timeout=900) for p in first]
    assert all(p.returncode == 0 for p in first), outputs
    results = [json.loads((tmp_path / f"run{i}" / "demo.json").read_text()) for i in (1, 2)]
    for k in ("LE", "lagged"):
        assert ([h["test_mse"] for h in results[0]["histories"][k]]
                == [h["test_mse"] for h in results[1]["histories"][k]])
    n_programs = results[0]["programs"]["compiled"] + results[0]["programs"]["from_cache"]
    assert n_programs >= 2
    entries = list((cache / "programs" / "cpp_standalone").iterdir())
    assert len(entries) == n_programs, entries  # no temporaries left, no duplicates
    third = _demo(tmp_path, cache, "run3")
    out, err = third.communicate(timeout=900)
    assert third.returncode == 0, err
    assert f"standalone programs: 0 compiled, {n_programs} taken from the program cache" in out
    again = json.loads((tmp_path / "run3" / "demo.json").read_text())
    assert again["programs"] == {"compiled": 0, "from_cache": n_programs}
    for k in ("LE", "lagged"):
        assert ([h["test_mse"] for h in again["histories"][k]]
                == [h["test_mse"] for h in results[0]["histories"][k]])
    env = dict(os.environ, LE_BRIAN_CACHE=str(cache))
    info = subprocess.run([sys.executable, "-m", "le_brian", "cache", "info"], env=env,
                          capture_output=True, text=True, check=True).stdout
    assert f"cpp_standalone: {n_programs} compiled program(s)" in info
    # the two concurrent first builds shared one precompiled header (fast build)
    assert "precompiled headers (fast builds): 1," in info
    assert not list((cache / "pch").glob(".tmp-*"))
    cleared = subprocess.run([sys.executable, "-m", "le_brian", "cache", "clear"], env=env,
                             capture_output=True, text=True, check=True).stdout
    assert f"removed {n_programs} compiled program(s)" in cleared
    assert not list((cache / "programs" / "cpp_standalone").iterdir())
    assert not (cache / "pch").exists()


def test_unwritable_cache_numpy_runs_and_standalone_names_the_folder(tmp_path, monkeypatch):
    """A cache folder that cannot be created (a file in its path) does not stop the
    runtime/numpy device; standalone devices refuse with a message naming LE_BRIAN_CACHE."""
    import numpy as np
    from brian2 import ms

    from le_brian import LENetwork

    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("LE_BRIAN_CACHE", str(blocker / "cache"))
    net = LENetwork([2, 3, 1], device="runtime", codegen_target="numpy", seed=0)
    assert net.run(np.ones((1, 2)), 0.3 * ms).output.shape == (3, 1)
    with pytest.raises(PermissionError, match="LE_BRIAN_CACHE"):
        LENetwork([2, 3, 1], device="cpp_standalone", seed=0).run(np.ones((1, 2)), 0.3 * ms)


CHILD = """
import numpy as np
from brian2 import ms
from le_brian import LENetwork
print("start", flush=True)
try:
    LENetwork([3, 7, 2], device="cpp_standalone", seed=3).run(np.ones((1, 3)), 0.2 * ms)
    print("completed")
except KeyboardInterrupt as err:
    print("interrupted", err)
"""


@pytest.mark.standalone
def test_ctrl_c_during_compilation_raises_keyboard_interrupt_and_leaves_nothing(tmp_path):
    """SIGINT to the process group while make runs: KeyboardInterrupt (not a compile
    error), the build directory is removed and nothing enters the program cache."""
    cache = tmp_path / "cache"
    env = dict(os.environ, LE_BRIAN_CACHE=str(cache))
    proc = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env,
                            start_new_session=True)
    deadline = time.time() + 300
    while time.time() < deadline and not list(cache.glob("cpp_standalone/build-*/make.log")):
        time.sleep(0.05)
    assert list(cache.glob("cpp_standalone/build-*/make.log")), "make never started"
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert "interrupted" in out and "completed" not in out, out + err
    assert "compilation failed" not in out + err
    assert not list(cache.glob("cpp_standalone/build-*"))
    assert not list(cache.glob("programs/cpp_standalone/*"))


HISTORY = """
import sys, json
import numpy as np
from brian2 import ms
from le_brian import LENetwork, Microcircuit
from le_brian.engine.devices import Simulator
out = {}
x = np.random.default_rng(0).uniform(0, 1, (3, 3))
for name in sys.argv[1:]:
    if name == "mc":
        res = Microcircuit([3, 4, 2], out_lag=0.2 * ms, seed=1).run(x, 1 * ms, record={"pyr1": ["u"]},
                                                                   record_every=0.2 * ms)
        out[name] = res.pattern_outputs.tolist()
    else:
        sizes = [int(n) for n in name.split("-")]
        res = LENetwork(sizes, seed=1).run(x, 1 * ms, record={1: ["u"]}, record_every=0.5 * ms)
        out[name] = res.output.tolist()
sim = Simulator.shared("cpp_standalone")
print(json.dumps({"compiles": sim.n_compiles, "out": out}))
"""


@pytest.mark.standalone
def test_a_program_built_after_others_finds_the_cached_binary(tmp_path):
    """The cache key does not depend on what the process built before: process A builds a
    microcircuit only; process B builds an LE network, then the same microcircuit (its
    code objects named ``..._codeobject_1``), which comes from the cache (one compile in
    B) and gives A's outputs to the bit."""
    env = dict(os.environ, LE_BRIAN_CACHE=str(tmp_path / "cache"))

    def run(*names):
        out = subprocess.run([sys.executable, "-c", HISTORY, *names], capture_output=True,
                             text=True, env=env, timeout=900)
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.strip().splitlines()[-1])

    first = run("mc")
    second = run("3-5-2", "mc")
    assert first["compiles"] == 1 and second["compiles"] == 1
    assert second["out"]["mc"] == first["out"]["mc"]


def test_damaged_entries_are_never_used_and_are_repaired(tmp_path):
    """Entries record their binary's size and SHA-256: a truncated binary, a binary of
    the right size with other bytes, an entry without its binary and an entry of an
    older version without a checksum are misses (nothing copied), are removed, and the
    next publication of the key stores a valid entry again."""
    import hashlib

    store = ProgramCache(tmp_path / "programs")
    src = _project(tmp_path / "src")
    (src / "main").write_bytes(bytes(range(256)) * 8)
    entry = store.publish("k", src)
    meta = json.loads((entry / store.ENTRY).read_text())
    assert meta["size"] == 2048
    assert meta["sha256"] == hashlib.sha256((src / "main").read_bytes()).hexdigest()
    out = _project(tmp_path / "out")

    def damage_truncate():
        with open(entry / "main", "r+b") as f:
            f.truncate(1000)

    def damage_flip():
        data = bytearray((entry / "main").read_bytes())
        data[100] ^= 0xFF
        (entry / "main").write_bytes(bytes(data))

    def damage_remove():
        (entry / "main").unlink()

    def damage_old_entry():
        (entry / store.ENTRY).write_text(json.dumps({"key": "k"}))

    for damage in (damage_truncate, damage_flip, damage_remove, damage_old_entry):
        assert store.fetch("k", out)
        (out / "main").unlink()
        damage()
        assert not store.fetch("k", out), damage.__name__
        assert not (out / "main").exists()
        if damage is not damage_remove:  # a fetch of a damaged entry removes it
            assert not entry.exists(), damage.__name__
        assert store.publish("k", src) == entry  # repaired
        assert store.valid("k") and (entry / "main").read_bytes() == (src / "main").read_bytes()
    assert not list(store.root.glob(".t*"))


TRUNCATE_CHILD = """
import sys
import numpy as np
from brian2 import Hz, ms
from le_brian import LENetwork
net = LENetwork([3, 4, 2], device="cpp_standalone", learning_rates=10 * Hz, seed=2)
x = np.random.default_rng(1).uniform(0, 1, (3, 3))
res = net.run(x, 1 * ms, learn=False)
print(int(res.from_cache), repr(np.asarray(res.output).tolist()))
"""


@pytest.mark.standalone
def test_a_truncated_cached_binary_is_rebuilt_in_the_next_process(tmp_path):
    """A process compiles and publishes a program; its cached binary is truncated; the
    next process does not run it (it is compiled again, same output) and the cache
    holds a valid binary afterwards, which a third process uses."""
    env = dict(os.environ, LE_BRIAN_CACHE=str(tmp_path / "cache"))

    def child():
        out = subprocess.run([sys.executable, "-c", TRUNCATE_CHILD], env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        cached, output = out.stdout.strip().splitlines()[-1].split(" ", 1)
        return int(cached), output

    first = child()
    (main,) = (tmp_path / "cache" / "programs" / "cpp_standalone").glob("*/main")
    size = main.stat().st_size
    with open(main, "r+b") as f:
        f.truncate(size // 3)
    second = child()
    assert second == (0, first[1])  # compiled again, the same numbers
    (main,) = (tmp_path / "cache" / "programs" / "cpp_standalone").glob("*/main")
    assert ProgramCache(main.parent.parent).valid(main.parent.name)
    assert child() == (1, first[1])


CLEAR_LOOP = """
import shutil, sys, time
from pathlib import Path
from le_brian.engine.devices import DEVICES, cache_dir, program_store
stop, n = Path(sys.argv[1]), 0
while not stop.exists():
    for device in DEVICES[1:]:
        program_store(device).clear()
    shutil.rmtree(cache_dir(create=False) / "pch", ignore_errors=True)
    n += 1
    time.sleep(0.02)
print(n)
"""

BUILD_CHILD = """
import numpy as np
from brian2 import Hz, ms
from le_brian import LENetwork
from le_brian.engine.devices import Simulator
outs = []
for sizes in ([3, 4, 2], [3, 5, 2], [3, 6, 2]):
    net = LENetwork(sizes, device="cpp_standalone", learning_rates=10 * Hz, seed=2,
                    simulator=Simulator("cpp_standalone"))
    x = np.random.default_rng(1).uniform(0, 1, (3, 3))
    outs.append(np.asarray(net.run(x, 1 * ms, learn=False).output).tolist())
print(repr(outs))
"""


@pytest.mark.standalone
def test_cache_clear_in_another_process_never_breaks_a_build(tmp_path):
    """One process clears the cache (programs and precompiled headers) every 20 ms while
    another builds three programs with the fast build: the builds succeed, with the
    same outputs as builds without the clearing."""
    env = dict(os.environ, LE_BRIAN_CACHE=str(tmp_path / "cache"))
    quiet = subprocess.run([sys.executable, "-c", BUILD_CHILD], env=dict(
        env, LE_BRIAN_CACHE=str(tmp_path / "quiet")), capture_output=True, text=True,
        timeout=900)
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    clearer = subprocess.Popen([sys.executable, "-c", CLEAR_LOOP, str(tmp_path / "stop")],
                               env=env, stdout=subprocess.PIPE, text=True)
    try:
        built = subprocess.run([sys.executable, "-c", BUILD_CHILD], env=env,
                               capture_output=True, text=True, timeout=900)
    finally:
        (tmp_path / "stop").touch()
        n_clears = int(clearer.communicate(timeout=60)[0])
    assert built.returncode == 0, built.stderr[-3000:]
    assert n_clears > 10
    assert built.stdout.strip().splitlines()[-1] == quiet.stdout.strip().splitlines()[-1]
