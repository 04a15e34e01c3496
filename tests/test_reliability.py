"""Interrupted runs never pass for complete ones (subprocess tests with a real SIGINT to
the whole process group, as Ctrl-C sends it), kill -9 and a full disk lose nothing that
was finished, and stale build directories are swept."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _popen_env(tmp_path):
    return dict(os.environ, LE_BRIAN_CACHE=os.environ.get("LE_BRIAN_CACHE",
                                                          str(tmp_path / "cache")))


def _popen(args, tmp_path):
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, env=_popen_env(tmp_path), start_new_session=True)


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


STRIP = ("train_seconds", "eval_seconds")


def _same_run(a, b):
    """Weights bit for bit and every metric but the wall times equal."""
    wa, wb = np.load(a / "weights.npz"), np.load(b / "weights.npz")
    assert sorted(wa.files) == sorted(wb.files)
    for k in wa.files:
        np.testing.assert_array_equal(wa[k], wb[k])
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
    assert ([{k: v for k, v in r.items() if k not in STRIP} for r in ma]
            == [{k: v for k, v in r.items() if k not in STRIP} for r in mb])


@pytest.mark.standalone
def test_kill_9_then_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    """le-brian train (cpp_standalone) killed with SIGKILL during epoch 2, then --resume:
    the run folder holds the completed epochs only, and the resumed run ends with the same
    weights (bit for bit) and metrics as an uninterrupted run of 3 epochs."""
    args = [sys.executable, "-m", "le_brian", "train", "--model", "yinyang", "--layers", "20",
            "--epochs", "3", "--n-train", "300", "--n-val", "30", "--n-test", "30",
            "--presentation-time", "1ms", "--device", "cpp_standalone"]
    full = subprocess.run(args + ["--out", str(tmp_path / "full")], cwd=tmp_path,
                          capture_output=True, text=True, env=_popen_env(tmp_path))
    assert full.returncode == 0, full.stderr
    proc = _popen(args + ["--out", str(tmp_path / "killed")], tmp_path)
    for line in proc.stdout:
        if line.startswith("epoch   1"):
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=600)
    assert proc.returncode == -signal.SIGKILL
    epochs = [r["epoch"] for r in json.loads((tmp_path / "killed" / "metrics.json").read_text())]
    assert epochs in ([0, 1], [0, 1, 2])  # whatever completed, nothing half-written
    assert not list((tmp_path / "killed").glob(".*.tmp"))
    resumed = subprocess.run(args + ["--out", str(tmp_path / "killed"), "--resume"],
                             cwd=tmp_path, capture_output=True, text=True,
                             env=_popen_env(tmp_path))
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {tmp_path / 'killed'} after epoch {epochs[-1]}" in resumed.stdout
    _same_run(tmp_path / "full", tmp_path / "killed")


def test_full_disk_keeps_the_finished_epochs(tmp_path, monkeypatch):
    """The disk fills up (ENOSPC at the fsync of epoch 2's checkpoint): train raises
    OSError, checkpoint.npz still holds epoch 1 intact, no temporary file is left, and a
    resume (disk space back) ends bit-identical to an uninterrupted run."""
    import errno

    from le_brian.protocols.training import CHECKPOINT, train

    cfg = dict(dataset="yinyang", hidden=[10], learning_rates_hz=1000.0, n_train=60,
               n_val=10, n_test=10, epochs=2, device="runtime", codegen_target="numpy")
    train(cfg, tmp_path / "full", progress=lambda _: None)
    real_fsync, calls = os.fsync, []

    def fsync(fd):
        name = os.readlink(f"/proc/self/fd/{fd}")
        if f".{CHECKPOINT}." in name:
            calls.append(name)
            if len(calls) == 3:  # epochs 0, 1 written; epoch 2's checkpoint fails
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match="No space left"):
        train(cfg, tmp_path / "run", progress=lambda _: None)
    monkeypatch.setattr(os, "fsync", real_fsync)
    with np.load(tmp_path / "run" / CHECKPOINT) as ckpt:
        assert int(ckpt["epoch"]) == 1
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]
    train(cfg, tmp_path / "run", resume=True, progress=lambda _: None)
    _same_run(tmp_path / "full", tmp_path / "run")
