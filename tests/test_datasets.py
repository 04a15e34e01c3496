"""Dataset generators and file loaders: shapes, dtypes, label ranges, split sizes,
seeds, and clear errors for missing or malformed files (the files are written here)."""

import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from le_brian import datasets
from le_brian.datasets import load, read_idx, yinyang_class


@pytest.mark.parametrize("name, n_features, n_out, sizes", [
    ("yinyang", 4, 3, (5000, 1000, 1000)),
    ("bars", 9, 3, (8, 8, 8)),
    ("digits", 64, 10, (1197, 300, 300)),
    ("mnist5k", 784, 10, (4000, 500, 500)),
    ("teacher", 10, 2, (2000, 500, 500)),
])
def test_embedded_shapes_and_splits(name, n_features, n_out, sizes):
    d = load(name, seed=0)
    assert (d.n_features, d.n_outputs) == (n_features, n_out)
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == sizes
    for x in (d.x_train, d.x_val, d.x_test):
        assert x.dtype == np.float64 and np.all(np.isfinite(x))
    if d.task == "classification":
        for y in (d.y_train, d.y_val, d.y_test):
            assert y.dtype.kind == "i" and y.min() >= 0 and y.max() < d.n_classes
        assert set(np.unique(d.y_train)) == set(range(d.n_classes))
    # the same seed gives the same data, another seed other splits (bars is fixed)
    again = load(name, seed=0)
    np.testing.assert_array_equal(d.x_train, again.x_train)
    if name != "bars":
        assert not np.array_equal(d.x_train, load(name, seed=1).x_train)


def test_embedded_splits_are_disjoint():
    d = load("digits", seed=3)
    rows = [set(map(bytes, x.astype(np.float32))) for x in (d.x_train, d.x_val, d.x_test)]
    # digits has a few duplicated images; the splits are a partition of the indices
    assert len(d.x_train) + len(d.x_val) + len(d.x_test) == 1797
    assert len(rows[1] & rows[2]) < 5


def test_yinyang_geometry_and_balance():
    d = load("yinyang", seed=0)
    raw = d.x_train / 4 + 0.5  # undo the scaling
    x, y = raw[:, 0], raw[:, 1]
    np.testing.assert_allclose(raw[:, 2], 1 - x, atol=1e-12)
    np.testing.assert_allclose(raw[:, 3], 1 - y, atol=1e-12)
    assert np.all(np.hypot(x - 0.5, y - 0.5) <= 0.5 + 1e-12)
    np.testing.assert_array_equal(yinyang_class(x, y), d.y_train)
    counts = np.bincount(d.y_train)
    assert np.all(np.abs(counts - 5000 / 3) < 100)  # balanced by construction
    # known points: the two dots and the two halves
    assert list(yinyang_class([0.75, 0.25, 0.5, 0.5], [0.5, 0.5, 0.9, 0.1])) == [2, 2, 1, 0]


def test_bars_patterns():
    d = load("bars")
    imgs = d.x_train.reshape(8, 3, 3)
    assert np.all(imgs.sum(axis=(1, 2)) == 3)
    for img, label in zip(imgs, d.y_train):
        if label == 0:
            assert np.any(img.sum(axis=1) == 3)
        elif label == 1:
            assert np.any(img.sum(axis=0) == 3)
        else:
            assert np.trace(img) == 3 or np.trace(np.fliplr(img)) == 3
    np.testing.assert_array_equal(np.bincount(d.y_train), [3, 3, 2])


def test_teacher_targets_follow_teacher():
    d = load("teacher", seed=2, n_in=3, n_hidden=5, n_out=1, n_train=50, n_val=0, n_test=10)
    (w1, w2), (b1, b2) = d.extra["weights"], d.extra["biases"]
    np.testing.assert_allclose(d.y_test, np.tanh(d.x_test @ w1.T + b1) @ w2.T + b2, atol=1e-14)
    assert d.x_train.min() >= -1 and d.x_train.max() <= 1
    with pytest.raises(ValueError, match="n_hidden"):
        load("teacher", n_hidden=0)


def test_targets_subset_and_errors():
    d = load("yinyang")
    t = d.targets(d.y_train[:4], on=1.0, off=0.1)
    assert t.shape == (4, 3) and np.all(t.max(axis=1) == 1.0) and np.all(t.min(axis=1) == 0.1)
    np.testing.assert_array_equal(t.argmax(axis=1), d.y_train[:4])
    s = d.subset(n_train=10, n_test=5)
    assert (len(s.x_train), len(s.x_val), len(s.x_test)) == (10, 1000, 5)
    with pytest.raises(ValueError, match="n_train"):
        d.subset(n_train=10**6)
    with pytest.raises(ValueError, match="unknown dataset"):
        load("nope")
    with pytest.raises(TypeError, match="yinyang"):
        load("yinyang", bogus=1)


# ---------------------------------------------------------------- file loaders
def _write_idx(path, array, gz):
    codes = {np.uint8: 0x08, np.int32: 0x0C}
    a = np.ascontiguousarray(array)
    header = bytes([0, 0, codes[a.dtype.type], a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    data = header + a.astype(a.dtype.newbyteorder(">")).tobytes()
    opener = gzip.open if gz else open
    with opener(str(path) + (".gz" if gz else ""), "wb") as f:
        f.write(data)


def _write_mnist(folder, n_train=30, n_test=12, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n).astype(np.uint8)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte", x, gz)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte", y, gz)
        arrays[prefix] = (x, y)
    return arrays


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_idx_loader(tmp_path, gz, name):
    arrays = _write_mnist(tmp_path / name, gz=gz)
    d = load(name, seed=0, path=tmp_path / name, n_val=6)
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (24, 6, 12)
    assert d.n_features == 784 and d.n_outputs == 10
    x_test, y_test = arrays["t10k"]
    np.testing.assert_allclose(d.x_test, x_test.reshape(12, -1) / 255.0)
    np.testing.assert_array_equal(d.y_test, y_test)
    # train + val is a permutation of the training file
    x_all = np.concatenate([d.x_train, d.x_val])
    x_file = arrays["train"][0].reshape(30, -1) / 255.0
    assert sorted(map(bytes, x_all)) == sorted(map(bytes, x_file))


def test_idx_env_variable(tmp_path, monkeypatch):
    _write_mnist(tmp_path / "mnist")
    monkeypatch.setenv("LE_BRIAN_DATA", str(tmp_path))
    assert len(load("mnist", n_val=5).x_val) == 5
    monkeypatch.delenv("LE_BRIAN_DATA")
    with pytest.raises(FileNotFoundError, match="LE_BRIAN_DATA"):
        load("mnist")


def test_idx_missing_and_malformed(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load("mnist", path=tmp_path)
    _write_mnist(tmp_path)
    f = tmp_path / "train-images-idx3-ubyte"
    raw = f.read_bytes()
    f.write_bytes(raw[:-10])  # truncated
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*bytes"):
        load("mnist", path=tmp_path)
    f.write_bytes(b"PK\x03\x04" + raw[4:])  # not IDX
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(f)
    _write_mnist(tmp_path)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(5, np.uint8), False)
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.*12 labels"):
        load("mnist", path=tmp_path)


def _write_cifar(folder, n=10, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]:
        d = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"labels": list(rng.integers(0, 10, n))}
        with open(folder / name, "wb") as f:
            pickle.dump(d, f)
        batches[name] = d
    return batches


def test_cifar10_loader(tmp_path):
    batches = _write_cifar(tmp_path / "cifar-10-batches-py")
    d = load("cifar10", path=tmp_path, n_val=7, seed=1)
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (43, 7, 10)
    assert d.n_features == 3072 and d.extra["image_shape"] == (3, 32, 32)
    np.testing.assert_allclose(d.x_test, batches["test_batch"][b"data"] / 255.0)
    np.testing.assert_array_equal(d.y_test, batches["test_batch"][b"labels"])
    assert 0 <= d.x_train.min() and d.x_train.max() <= 1


def test_cifar10_errors(tmp_path):
    _write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        load("cifar10", path=tmp_path)
    _write_cifar(tmp_path)
    (tmp_path / "test_batch").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="test_batch.*pickle"):
        load("cifar10", path=tmp_path)
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4}, f)
    with pytest.raises(ValueError, match="test_batch.*3072"):
        load("cifar10", path=tmp_path)


def _write_higgs(path, n=200, seed=0, gz=False):
    rng = np.random.default_rng(seed)
    a = np.column_stack([rng.integers(0, 2, n), rng.normal(size=(n, 28))])
    text = "\n".join(",".join(f"{v:.6e}" for v in row) for row in a) + "\n"
    if gz:
        with gzip.open(str(path) + ".gz", "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    return a


@pytest.mark.parametrize("gz", [False, True])
def test_higgs_loader(tmp_path, gz):
    a = _write_higgs(tmp_path / "HIGGS.csv", gz=gz)
    d = load("higgs", path=tmp_path, n_test=50, n_val=30)
    assert (len(d.x_train), len(d.x_val), len(d.x_test)) == (120, 30, 50)
    assert d.n_features == 28 and d.n_outputs == 1 and d.binary
    np.testing.assert_array_equal(d.y_test, a[-50:, 0].astype(int))
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.x_train.std(axis=0), 1, atol=1e-12)
    t = d.targets(np.array([0, 1]), on=1.0, off=0.0)
    np.testing.assert_array_equal(t, [[0.0], [1.0]])
    np.testing.assert_array_equal(d.predict_classes(np.array([[0.2], [0.7]])), [0, 1])
    # n_rows reads only the first rows
    assert len(load("higgs", path=tmp_path, n_rows=100, n_test=20, n_val=10).x_train) == 70


def test_higgs_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="HIGGS.csv"):
        load("higgs", path=tmp_path)
    (tmp_path / "HIGGS.csv").write_text("1,2,3\n0,1,2\n")
    with pytest.raises(ValueError, match="29 columns"):
        load("higgs", path=tmp_path)
    (tmp_path / "HIGGS.csv").write_text("x" * 40 + "\n")
    with pytest.raises(ValueError, match="HIGGS.csv"):
        load("higgs", path=tmp_path)


def test_available_lists_every_loader():
    assert set(datasets.available()) == set(datasets.EMBEDDED) | set(datasets.FILE_BASED)


def test_idx_malformed_content_is_refused_with_the_file_name(tmp_path):
    """Negative (int8) and float labels, float (NaN) pixels, test images of another size,
    a corrupt or truncated .gz, a folder in place of a file, and n_val out of range."""
    _write_mnist(tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte"
    raw = labels.read_bytes()
    labels.write_bytes(bytes([0, 0, 0x09, 1]) + raw[4:8] + bytes([255]) + raw[9:])  # int8 -1
    with pytest.raises(ValueError, match="labels-idx1-ubyte: labels must be 0..9, found -1"):
        load("mnist", path=tmp_path)
    n = 30
    labels.write_bytes(bytes([0, 0, 0x0D, 1]) + struct.pack(">I", n)
                       + np.full(n, 2.5, ">f4").tobytes())
    with pytest.raises(ValueError, match="labels must be integers.*float32"):
        load("mnist", path=tmp_path)
    _write_mnist(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte"
    x = np.full((n, 28, 28), np.nan, ">f4")
    images.write_bytes(bytes([0, 0, 0x0D, 3]) + struct.pack(">3I", n, 28, 28) + x.tobytes())
    with pytest.raises(ValueError, match="train-images-idx3-ubyte: expected uint8 pixels"):
        load("mnist", path=tmp_path)
    _write_mnist(tmp_path)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((12, 14, 14), np.uint8), False)
    with pytest.raises(ValueError, match="test images .* 14x14 but the training images 28x28"):
        load("mnist", path=tmp_path)
    _write_mnist(tmp_path)
    for n_val in (30, 31, -1, True, 2.0):
        with pytest.raises(ValueError, match="n_val must be an int in \\[0, 30\\)"):
            load("mnist", path=tmp_path, n_val=n_val)
    gz = tmp_path / "gz"
    _write_mnist(gz, gz=True)
    f = gz / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:200])  # truncated stream
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: cannot read IDX file"):
        load("mnist", path=gz)
    raw = bytearray(gzip.compress(bytes(5000)))
    raw[20:40] = bytes(range(20))  # corrupt deflate data
    f.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: cannot read IDX file"):
        load("mnist", path=gz)
    f.unlink()
    f.mkdir()
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz: cannot read IDX file "
                                         "\\(a folder, not a file\\)"):
        load("mnist", path=gz)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > evil.txt",))


def test_cifar10_reader_refuses_other_classes_and_bad_labels(tmp_path, monkeypatch):
    """A pickle naming another class (here os.system) is refused, not executed; negative
    labels, non-uint8 pixels, a folder in place of a batch and n_val out of range raise
    ValueError naming the file or the parameter."""
    monkeypatch.chdir(tmp_path)
    _write_cifar(tmp_path)
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [_Evil(), 0]}, f)
    with pytest.raises(ValueError, match="test_batch: cannot read CIFAR-10 batch.*refusing to "
                                         "load posix.system"):
        load("cifar10", path=tmp_path)
    assert not (tmp_path / "evil.txt").exists()
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [-1, 0]}, f)
    with pytest.raises(ValueError, match="test_batch: labels must be 0..9, found -1"):
        load("cifar10", path=tmp_path)
    with open(tmp_path / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((2, 3072)), b"labels": [1, 0]}, f, protocol=5)
    with pytest.raises(ValueError, match="test_batch: expected uint8 pixels, got float64"):
        load("cifar10", path=tmp_path)
    (tmp_path / "test_batch").unlink()
    (tmp_path / "test_batch").mkdir()
    with pytest.raises(ValueError, match="test_batch: cannot read CIFAR-10 batch \\(a folder"):
        load("cifar10", path=tmp_path)
    (tmp_path / "test_batch").rmdir()
    _write_cifar(tmp_path)
    with pytest.raises(ValueError, match="cifar10: n_val must be an int in \\[0, 50\\)"):
        load("cifar10", path=tmp_path, n_val=50)


def test_higgs_malformed_content(tmp_path):
    """One NaN or inf field is refused with its row and column (it would turn a whole
    standardised column NaN); n_val leaving no training rows, negative sizes and a
    truncated .gz are refused."""
    a = _write_higgs(tmp_path / "HIGGS.csv", n=100)
    lines = (tmp_path / "HIGGS.csv").read_text().splitlines()
    for bad in ("nan", "inf"):
        fields = lines[6].split(",")
        fields[4] = bad
        (tmp_path / "HIGGS.csv").write_text("\n".join(lines[:6] + [",".join(fields)]
                                                      + lines[7:]) + "\n")
        with pytest.raises(ValueError, match=f"HIGGS.csv: row 7, column 5 is {bad}"):
            load("higgs", path=tmp_path, n_test=20)
    _write_higgs(tmp_path / "HIGGS.csv", n=100)
    with pytest.raises(ValueError, match="n_val=80 leaves no training rows"):
        load("higgs", path=tmp_path, n_test=20, n_val=80)
    for name in ("n_val", "n_test", "n_rows"):
        with pytest.raises(ValueError, match=f"higgs: {name} must be a non-negative int"):
            load("higgs", path=tmp_path, **{name: -1})
    d = load("higgs", path=tmp_path, n_test=20, n_val=10)
    assert np.isfinite(d.x_train).all() and len(d.x_train) == 70
    np.testing.assert_array_equal(d.y_test, a[-20:, 0].astype(int))
    gz = tmp_path / "gz"
    gz.mkdir()
    _write_higgs(gz / "HIGGS.csv", n=400, gz=True)
    f = gz / "HIGGS.csv.gz"
    f.write_bytes(f.read_bytes()[:3000])
    with pytest.raises(ValueError, match="HIGGS.csv.gz: cannot read the HIGGS csv"):
        load("higgs", path=gz, n_test=20)


# ------------------------------------------------- mnist5k from path=, size limits
def _write_mnist5k(path, n=20, seed=0, edit=None):
    rng = np.random.default_rng(seed)
    a = np.concatenate([rng.integers(0, 256, (n, 784)), rng.integers(0, 10, (n, 1))],
                       axis=1).astype(float)
    if edit:
        edit(a)
    rows = "\n".join(",".join(f"{v:g}" for v in row) for row in a)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt") as f:
        f.write(rows + "\n")
    return a


def test_mnist5k_from_a_path_reads_the_file(tmp_path):
    from le_brian.datasets import _mnist5k

    a = _write_mnist5k(tmp_path / "m.csv.gz", n=20)
    d = _mnist5k(0, path=tmp_path / "m.csv.gz")
    x = np.concatenate([d.x_train, d.x_val, d.x_test])
    y = np.concatenate([d.y_train, d.y_val, d.y_test])
    order = np.lexsort(x.T[::-1])
    ref = np.lexsort((a[:, :784] / 255).T[::-1])
    np.testing.assert_array_equal(x[order], a[ref, :784] / 255)
    np.testing.assert_array_equal(y[order], a[ref, 784].astype(int))


@pytest.mark.parametrize("edit, message", [
    (lambda a: a.__setitem__((3, 10), np.nan), r"row 4, pixel 11 is nan"),
    (lambda a: a.__setitem__((0, 0), np.inf), r"row 1, pixel 1 is inf"),
    (lambda a: a.__setitem__((5, 7), -1), r"row 6, pixel 8 is -1"),
    (lambda a: a.__setitem__((2, 784), -3), r"row 3 has label -3"),
    (lambda a: a.__setitem__((7, 784), 12), r"row 8 has label 12"),
    (lambda a: a.__setitem__((1, 784), 3.5), r"row 2 has label 3.5"),
    (lambda a: a.__setitem__((1, 784), np.nan), r"row 2 has label nan"),
])
def test_mnist5k_bad_values_are_refused_naming_the_file(tmp_path, edit, message):
    path = tmp_path / "bad.csv"
    _write_mnist5k(path, edit=edit)
    with pytest.raises(ValueError, match=r"bad.csv: " + message):
        load("mnist5k", path=path)


def test_mnist5k_damaged_files(tmp_path):
    path = tmp_path / "m.csv.gz"
    _write_mnist5k(path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])  # truncated gzip
    with pytest.raises(ValueError, match="m.csv.gz"):
        load("mnist5k", path=path)
    (tmp_path / "t.csv").write_text("1,2,x\n")
    with pytest.raises(ValueError, match="t.csv"):
        load("mnist5k", path=tmp_path / "t.csv")
    (tmp_path / "s.csv").write_text("1,2,3\n")
    with pytest.raises(ValueError, match=r"s.csv has shape \(1, 3\)"):
        load("mnist5k", path=tmp_path / "s.csv")


def test_gzip_bomb_is_refused_before_it_is_decompressed(tmp_path, monkeypatch):
    """A 64 MiB gzip of zeros (64 KiB on disk) under a 1 MiB limit: refused naming the
    file and the limit, by its declared size and, when the trailer lies, while
    streaming (never more than the limit read)."""
    from le_brian import io as le_io

    bomb = tmp_path / "train-images-idx3-ubyte.gz"
    with gzip.open(bomb, "wb") as f:
        for _ in range(64):
            f.write(bytes(2**20))
    assert bomb.stat().st_size < 2**20
    monkeypatch.setenv("LE_BRIAN_MAX_READ_BYTES", str(2**20))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz: .*64.0 MiB.*1.0 MiB"):
        le_io.read_limited(bomb, "IDX file")
    lying = tmp_path / "lying.gz"
    lying.write_bytes(bomb.read_bytes()[:-4] + (100).to_bytes(4, "little"))
    reads = []
    real = le_io._LimitedReader.read

    def spy(self, size=-1):
        try:
            return real(self, size)
        finally:
            reads.append(self.n)

    monkeypatch.setattr(le_io._LimitedReader, "read", spy)
    with pytest.raises(ValueError, match=r"lying.gz: decompressing .* read limit of 1.0 MiB"):
        le_io.read_limited(lying, "file")
    assert max(reads) <= 2**20 + 1
    monkeypatch.setenv("LE_BRIAN_MAX_READ_BYTES", str(2**27))  # raised: reads
    assert len(le_io.read_limited(bomb, "IDX file")) == 64 * 2**20


def test_idx_header_declaring_gigabytes_is_refused_before_reading(tmp_path, monkeypatch):
    """An IDX header declaring 10^5 x 10^5 x 10^3 uint8 (9.1 TiB) in a tiny file: refused
    by its header, with the size, before the data is read."""
    folder = tmp_path / "mnist"
    _write_mnist(folder, gz=True)
    header = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 10**5, 10**5, 10**3)
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(header + bytes(1000))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz: IDX header says shape "
                       r"\(100000, 100000, 1000\): 9.1 TiB, more than the read limit"):
        load("mnist", path=folder)
