"""le_brian.io: atomic writes (nothing half-written is ever read back), overwrite
protection, damaged files of every kind the package writes refused with one error
naming the file, sizes checked before allocation."""

import io
import json
import os
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from le_brian import io as le_io
from le_brian.io import (NpzContents, atomic_write, read_json, read_npz, save_figure,
                         write_json)

ROOT = Path(__file__).resolve().parents[1]


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / "a.npz"
    atomic_write(path, lambda f: np.savez(f, x=np.arange(3)))
    before = path.read_bytes()

    def half_then_crash(f):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half_then_crash)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz"]  # no temporary left
    assert read_npz(path)["x"].tolist() == [0, 1, 2]
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_write_overwrite_false_and_concurrent_writers(tmp_path):
    """overwrite=False refuses an existing file (naming it); eight threads writing one
    JSON file each leave one complete file, never a mixture, and no temporaries."""
    path = tmp_path / "r.json"
    path.write_text("old")
    with pytest.raises(FileExistsError, match="r.json exists"):
        atomic_write(path, lambda f: f.write(b"new"), overwrite=False)
    assert path.read_text() == "old"
    payloads = [{"writer": k, "data": list(range(20000))} for k in range(8)]
    threads = [threading.Thread(target=write_json, args=(path, p)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert read_json(path) in payloads
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_read_json_names_damaged_files(tmp_path):
    path = tmp_path / "m.json"
    write_json(path, {"a": list(range(100))})
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match=r"m.json: not a readable JSON file \(JSONDecodeError"):
        read_json(path)
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="m.json: .*UnicodeDecodeError"):
        read_json(path)
    (tmp_path / "d.json").mkdir()
    with pytest.raises(ValueError, match="d.json: .*a folder"):
        read_json(tmp_path / "d.json")
    assert read_json(tmp_path / "none.json", default=7) == 7


def _npz_bytes(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_read_npz_reads_what_np_load_reads(tmp_path):
    arrays = {"w": np.random.default_rng(0).normal(size=(4, 3)), "i": np.arange(5),
              "s": np.array("text"), "nested/name": np.float64(2.5)}
    (tmp_path / "a.npz").write_bytes(_npz_bytes(**arrays))
    f = read_npz(tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz") as ref:
        assert sorted(f.files) == sorted(ref.files)
        for k in ref.files:
            np.testing.assert_array_equal(f[k], ref[k])
            assert f[k].dtype == ref[k].dtype
    assert f.scalar("nested/name", "f") == 2.5


def test_read_npz_damaged_files_are_named(tmp_path):
    """Truncated, not a zip, empty, a folder, a corrupt member (CRC), a member whose
    data is cut short, an object array, a missing member, wrong dtype / shape /
    non-finite values: one ValueError naming the file (FileNotFoundError if absent)."""
    good = _npz_bytes(x=np.arange(1000.0), y=np.ones((3, 2)))
    cases = {"trunc.npz": good[: len(good) // 2], "text.npz": b"not a zip", "empty.npz": b""}
    crc = bytearray(good)
    start = crc.index(b"x.npy") + 200  # inside the stored data of x
    crc[start] ^= 0xFF
    cases["crc.npz"] = bytes(crc)
    short = io.BytesIO()
    with zipfile.ZipFile(short, "w") as z:
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.arange(1000.0))
        z.writestr("x.npy", buf.getvalue()[:-800])
    cases["short.npz"] = short.getvalue()
    cases["object.npz"] = _npz_bytes(o=np.array([{"a": 1}], dtype=object))
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=name.replace(".", r"\.")):
            read_npz(tmp_path / name, "checkpoint")
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(ValueError, match="dir.npz: .*a folder"):
        read_npz(tmp_path / "dir.npz")
    with pytest.raises(FileNotFoundError, match="absent.npz"):
        read_npz(tmp_path / "absent.npz")
    (tmp_path / "ok.npz").write_bytes(_npz_bytes(t=np.array([0.0, np.nan]), s=np.array("a")))
    f = read_npz(tmp_path / "ok.npz", "recording")
    with pytest.raises(ValueError, match=r"ok.npz: damaged or incomplete recording: no array "
                       r"'spikes'"):
        f["spikes"]
    with pytest.raises(ValueError, match=r"ok.npz: 't' holds a non-finite value \(nan\)"):
        f.array("t", "f", finite=True)
    with pytest.raises(ValueError, match=r"ok.npz: 's' has dtype <U1, expected float"):
        f.array("s", "f")
    with pytest.raises(ValueError, match=r"ok.npz: 't' has shape \(2,\), expected 2 dim"):
        f.array("t", "f", ndim=2)
    assert isinstance(f, NpzContents) and "t" in f and "spikes" not in f


def _huge_npz(path, shape):
    """An npz whose member's header declares ``shape`` (float64) with 16 bytes of data."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": shape})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("w.npy", header.getvalue() + bytes(16))  # magic + header, then data
    return path


def test_read_npz_refuses_huge_declared_shapes_before_allocating(tmp_path, monkeypatch):
    """A (10^6, 10^6) float64 member (7.3 TiB) is refused from its header with the size
    and the limit; np.lib.format.read_array is never called. The limit is overridable
    (max_bytes=, $LE_BRIAN_MAX_READ_BYTES) and applies to the members together."""
    path = _huge_npz(tmp_path / "w.npz", (10**6, 10**6))
    called = []
    real = np.lib.format.read_array
    monkeypatch.setattr(np.lib.format, "read_array",
                        lambda *a, **k: called.append(1) or real(*a, **k))
    with pytest.raises(ValueError, match=r"w.npz: array 'w' of shape \(1000000, 1000000\) "
                       r"\(float64\) would need 7.3 TiB, more than the read limit of 4.0 GiB"):
        read_npz(path)
    assert not called
    (tmp_path / "two.npz").write_bytes(_npz_bytes(a=np.zeros(100), b=np.zeros(100)))
    assert len(read_npz(tmp_path / "two.npz", max_bytes=1600)) == 2
    with pytest.raises(ValueError, match=r"two.npz: array 'b' of shape \(100,\) \(float64\) "
                       "with the arrays before it would need 1.6 KiB, more than the read "
                       "limit of 1000 B"):
        read_npz(tmp_path / "two.npz", max_bytes=1000)
    monkeypatch.setenv("LE_BRIAN_MAX_READ_BYTES", "1000")
    with pytest.raises(ValueError, match="more than the read limit of 1000 B"):
        read_npz(tmp_path / "two.npz")
    monkeypatch.setenv("LE_BRIAN_MAX_READ_BYTES", "lots")
    with pytest.raises(ValueError, match="LE_BRIAN_MAX_READ_BYTES must be a number"):
        read_npz(tmp_path / "two.npz")


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF"),
                                           (".jpg", b"\xff\xd8\xff"), (".svg", b"<?xml")])
def test_save_figure_writes_the_format_its_suffix_names(tmp_path, suffix, magic):
    from matplotlib.figure import Figure

    fig = Figure()
    fig.subplots().plot([0, 1], [1, 0])
    paths = save_figure(fig, tmp_path / f"f{suffix}", dpi=30)
    assert paths == [tmp_path / f"f{suffix}"]
    assert paths[0].read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"f{suffix}"]


def test_save_figure_refuses_an_unknown_suffix_and_writes_nothing(tmp_path):
    from matplotlib.figure import Figure

    with pytest.raises(ValueError, match=r"f.xyz: cannot write a figure as '.xyz'; "
                       r"supported suffixes: .*\.png"):
        save_figure(Figure(), tmp_path / "f.xyz")
    assert not list(tmp_path.iterdir())
    paths = save_figure(Figure(), tmp_path / "g", pdf=True)  # no suffix: PNG (+ PDF)
    assert [p.name for p in paths] == ["g.png", "g.pdf"]


def test_names_file_turns_malformed_content_into_one_error(tmp_path):
    @le_io.names_file(lambda p: p, "checkpoint")
    def reader(p):
        return int(json.loads("{bad"))

    with pytest.raises(ValueError, match=r"c.npz: damaged checkpoint \(JSONDecodeError"):
        reader(tmp_path / "c.npz")


def test_library_never_imports_the_cli():
    """Library modules (everything outside le_brian/cli) import le_brian.io, never
    le_brian.cli (whose script helpers re-export the writers for the scripts)."""
    import re

    importing = re.compile(r"^\s*(from\s+(\.+cli|le_brian\.cli)\b|import\s+le_brian\.cli)",
                           re.M)
    for path in (ROOT / "le_brian").rglob("*.py"):
        if "cli" in path.relative_to(ROOT / "le_brian").parts or path.name == "__main__.py":
            continue  # the entry point runs the CLI
        assert not importing.search(path.read_text()), path
    from le_brian.cli import script_helpers

    assert script_helpers.write_json is write_json and script_helpers.save_figure is save_figure


def test_damaged_parameter_files_name_the_file(tmp_path):
    from le_brian import LENetwork

    net = LENetwork([3, 4, 2], device="runtime", codegen_target="numpy", seed=0)
    path = tmp_path / "w.npz"
    net.save_parameters(path)
    other = LENetwork([3, 4, 2], device="runtime", codegen_target="numpy", seed=1)
    other.load_parameters(path)
    np.testing.assert_array_equal(other.get_parameters()["weights"][0],
                                  net.get_parameters()["weights"][0])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="w.npz: damaged or unreadable le_brian parameter"):
        other.load_parameters(path)
    with np.load(_resave(net, tmp_path / "ok.npz")) as f:
        arrays = dict(f)
    arrays["weights_1"] = np.full((5, 5), 0.5)  # wrong shape
    np.savez(tmp_path / "shape.npz", **arrays)
    with pytest.raises(ValueError, match=r"shape.npz: damaged le_brian parameter file "
                       r"\(weights\[0\] must have shape \(4, 3\)"):
        other.load_parameters(tmp_path / "shape.npz")
    arrays["weights_1"] = np.full((4, 3), np.nan)
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(ValueError, match="nan.npz: damaged .*NaN"):
        other.load_parameters(tmp_path / "nan.npz")
    del arrays["weights_1"]
    np.savez(tmp_path / "missing.npz", **arrays)
    with pytest.raises(ValueError, match=r"missing.npz: missing arrays \['weights_1'\]"):
        other.load_parameters(tmp_path / "missing.npz")


def _resave(net, path):
    net.save_parameters(path)
    return path


def test_damaged_checkpoints_name_the_file(tmp_path):
    """A truncated checkpoint, one missing a member, one with a malformed member, a
    damaged config.json: --resume / load_network raise one ValueError naming the file."""
    from le_brian.protocols.training import CHECKPOINT, load_network, train

    cfg = dict(dataset="yinyang", hidden=[4], learning_rates_hz=1000.0, n_train=20,
               n_val=10, n_test=10, epochs=1, device="runtime", codegen_target="numpy")
    run = tmp_path / "run"
    train(cfg, run, progress=lambda _: None)
    path = run / CHECKPOINT
    with np.load(path) as f:
        good = dict(f)
    resume = dict(cfg, epochs=2)
    for content, message in (
            (good | {"config": np.array("{not json")}, "damaged checkpoint .*JSONDecodeError"),
            (good | {"epoch": np.array("one")}, "damaged checkpoint"),
            ({k: v for k, v in good.items() if k != "rng"},
             "damaged or incomplete checkpoint: no array 'rng'")):
        np.savez(path, **content)
        with pytest.raises(ValueError, match="checkpoint.npz: " + message):
            train(resume, run, resume=True, progress=lambda _: None)
    data = _npz_bytes(**good)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="checkpoint.npz: damaged or unreadable checkpoint"):
        train(resume, run, resume=True, progress=lambda _: None)
    with pytest.raises(ValueError, match="checkpoint.npz: damaged or unreadable checkpoint"):
        load_network(run)
    (run / "config.json").write_text('{"config": {}}')
    with pytest.raises(ValueError, match="config.json: damaged run configuration"):
        load_network(run)
