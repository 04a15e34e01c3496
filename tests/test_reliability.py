"""Interrupted runs never pass for complete ones (subprocess tests with a real SIGINT to
the whole process group, as Ctrl-C sends it)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _popen(args, tmp_path):
    env = dict(os.environ, LE_BRIAN_CACHE=os.environ.get("LE_BRIAN_CACHE",
                                                        str(tmp_path / "cache")))
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, env=env, start_new_session=True)


def _interrupt_after(proc, marker, delay):
    for line in proc.stdout:
        if line.startswith(marker):
            time.sleep(delay)
            os.killpg(proc.pid, signal.SIGINT)
            break
    return proc.communicate(timeout=600)


def test_ctrl_c_during_training_saves_nothing_and_exits_130(tmp_path):
    """le-brian train on the runtime device, Ctrl-C in epoch 1: exit status 130, one
    'interrupted' line, the run folder holds epoch 0 only (no truncated epoch saved)."""
    run = tmp_path / "run"
    proc = _popen([sys.executable, "-m", "le_brian", "train", "--model", "yinyang",
                   "--epochs", "2", "--n-val", "20", "--n-test", "20", "--device", "runtime",
                   "--codegen-target", "numpy", "--out", str(run)], tmp_path)
    out, err = _interrupt_after(proc, "epoch   0", 3.0)
    assert proc.returncode == 130, err
    assert "le-brian: interrupted" in err and "Traceback" not in err
    assert [r["epoch"] for r in json.loads((run / "metrics.json").read_text())] == [0]
    assert "done" not in out


CHILD = """
import numpy as np
from brian2 import ms, Hz
from le_brian import LENetwork
net = LENetwork([4, 50, 3], device="cpp_standalone", learning_rates=10 * Hz)
x, y = np.random.default_rng(0).uniform(0, 1, (20000, 4)), np.zeros((20000, 3))
net.compile(x, 100 * ms, targets=y)
w, t = net.get_parameters()["weights"][0].copy(), float(net.t / ms)
print("ready", flush=True)
try:
    net.run(x, 100 * ms, targets=y)  # 2e7 steps
    print("completed")
except KeyboardInterrupt as err:
    kept = np.array_equal(w, net.get_parameters()["weights"][0]) and float(net.t / ms) == t
    print("interrupted", kept, err)
"""


@pytest.mark.standalone
def test_ctrl_c_during_a_standalone_run_raises_and_keeps_the_state(tmp_path):
    """cpp_standalone: Brian2's program stops 'gracefully' on SIGINT; le_brian raises
    KeyboardInterrupt and the network keeps its weights and time from before the run."""
    proc = _popen([sys.executable, "-c", CHILD], tmp_path)
    out, err = _interrupt_after(proc, "ready", 1.5)
    assert "interrupted True" in out, out + err
    assert "completed" not in out


def test_stale_build_directories_of_dead_processes_are_swept(tmp_path):
    """Build directories are named build-<host>-<pid>-*; the sweep removes those of dead
    processes of this host and keeps live ones' and other hosts'."""
    from le_brian.engine.devices import _build_prefix, sweep_stale_builds

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    host = _build_prefix().split("-")[1]
    stale = tmp_path / "cpp_standalone" / f"build-{host}-{int(dead.stdout)}-abc"
    mine = tmp_path / "cpp_standalone" / f"{_build_prefix()}xyz"
    other = tmp_path / "cpp_standalone" / f"build-otherhost-{int(dead.stdout)}-abc"
    for d in (stale, mine, other):
        d.mkdir(parents=True)
    assert sweep_stale_builds(tmp_path) == [stale]
    assert not stale.exists() and mine.exists() and other.exists()


@pytest.mark.standalone
def test_rebuild_when_a_program_directory_vanished(tmp_path):
    """Deleting a compiled program's directory by hand makes the next run build it again
    (instead of failing on a missing path), with the same result."""
    import shutil

    import numpy as np
    from brian2 import Hz, ms

    from le_brian import LENetwork
    from le_brian.engine.devices import Simulator

    x = np.random.default_rng(1).uniform(0, 1, (3, 3))
    net = LENetwork([3, 4, 2], device="cpp_standalone", simulator=Simulator("cpp_standalone"),
                    learning_rates=10 * Hz)
    first = net.run(x, 1 * ms, learn=False)
    shutil.rmtree(net.build_directories[-1])
    net.reset_state()
    again = net.run(x, 1 * ms, learn=False)
    assert again.compiled
    np.testing.assert_array_equal(np.asarray(again.output), np.asarray(first.output))
