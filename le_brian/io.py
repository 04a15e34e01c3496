"""Reading and writing le_brian's files safely: atomic writes, overwrite protection,
guarded reads of ``.npz`` / JSON / gzip files.

Every file le_brian writes (run folders, recordings, NWB files, figures, tables) goes
through `atomic_write` / `atomic_path`: the content is written to a temporary file with
a unique name in the destination folder, flushed and synced to disk, then renamed over
the destination (`os.replace`, atomic on POSIX). A reader, a resumed run or a crash
sees the old file or the new one, never a half-written one.

Every file le_brian reads back goes through a guard that turns a damaged file
(truncated, not a zip, a missing member, a member of the wrong type or shape, bad JSON)
into one `ValueError` naming the file, and refuses a file that declares more data than
`read_limit` before anything of that size is allocated or decompressed.

This module sits below everything else in le_brian (it imports only NumPy and the
standard library; Matplotlib only inside `save_figure`).
"""

import contextlib
import gzip
import io as _stdio
import json
import math
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "atomic_path", "check_overwrite", "write_json", "read_json",
           "save_figure", "read_npz", "NpzContents", "read_limit", "format_bytes",
           "open_limited", "read_limited", "names_file", "MAX_READ_BYTES", "READ_LIMIT_ENV",
           "SMOKE_RUN_NOTE", "settings_key"]

#: Default limit (bytes) of the data one file may declare: the arrays of an ``.npz``
#: file together, or the decompressed size of a gzip file. Override it per call
#: (``max_bytes=``) or for a process with the environment variable `READ_LIMIT_ENV`.
MAX_READ_BYTES = 4 * 2**30
#: Environment variable overriding `MAX_READ_BYTES` (a number of bytes).
READ_LIMIT_ENV = "LE_BRIAN_MAX_READ_BYTES"
#: Written on every figure of a ``--fast`` run (`save_figure` ``smoke=True``).
SMOKE_RUN_NOTE = "smoke run (--fast): not the figure's numbers"


# ----------------------------------------------------------------------- writing
def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_overwrite(path, overwrite=False, hint="pass overwrite=True"):
    """Raise FileExistsError naming ``path`` when it exists and not ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; {hint} to replace it")
    return path


@contextlib.contextmanager
def atomic_path(path, overwrite=True):
    """A temporary path beside ``path`` for a writer that takes a file name (pynwb,
    Matplotlib); on success it is synced and renamed over ``path``, on failure removed.

    Parameters
    ----------
    path : path-like
        Destination; its folder is created if needed.
    overwrite : bool
        False: FileExistsError if ``path`` exists (checked before and again just
        before the rename).

    Yields
    ------
    pathlib.Path
        The temporary file (same folder, unique name, same suffix as ``path`` so that
        writers choosing a format by suffix choose the right one).
    """
    path = Path(path)
    check_overwrite(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp"
                               f"{path.suffix}")
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 -> as open() would
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if not overwrite:  # link: fails if path appeared meanwhile
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise FileExistsError(f"{path} exists; pass overwrite=True to replace it") \
                    from None
            except OSError:  # no hard links here: check, then rename
                check_overwrite(path, overwrite)
                os.replace(tmp, path)
            tmp.unlink(missing_ok=True)
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path, write, overwrite=True, text=False):
    """Write ``path`` atomically: ``write(f)`` fills a temporary file beside it.

    Parameters
    ----------
    path : path-like
    write : callable
        Receives an open file (binary, or text with ``text=True``).
    overwrite : bool
        False: FileExistsError if ``path`` exists.
    text : bool
        Open the temporary file in text mode (UTF-8, no newline translation).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.npz"
    >>> _ = atomic_write(p, lambda f: np.savez(f, x=np.arange(3)))
    >>> read_npz(p)["x"].tolist()
    [0, 1, 2]
    """
    with atomic_path(path, overwrite=overwrite) as tmp:
        with open(tmp, "w" if text else "wb", **({"encoding": "utf-8", "newline": ""}
                                                  if text else {})) as f:
            write(f)
    return Path(path)


def _json_default(obj):
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def write_json(path, obj, indent=2):
    """Write ``obj`` as JSON to ``path`` atomically (`atomic_write`).

    Parameters
    ----------
    path : str or path-like
        The folder is created if needed.
    obj : object
        JSON-serialisable (plus path-like objects, written as strings).
    indent : int or None
        Passed to `json.dumps`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    text = json.dumps(obj, indent=indent, default=_json_default)
    return atomic_write(path, lambda f: f.write(text), text=True)


def settings_key(settings):
    """A short hash of ``settings`` (a JSON-able dict; tuples and lists, paths and
    strings hash alike, keys in any order): names run folders so that runs of other
    settings never share one."""
    import hashlib

    plain = json.loads(json.dumps(settings, default=_json_default))
    text = json.dumps(plain, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def read_json(path, default=None):
    """Read a JSON file (as `write_json` writes).

    Parameters
    ----------
    path : str or path-like
    default : object, optional
        Returned when ``path`` does not exist.

    Returns
    -------
    object
        The parsed content, or ``default``.

    Raises
    ------
    ValueError
        Naming the file: a folder, unreadable, not UTF-8 or not valid JSON (truncated).
    """
    path = Path(path)
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        reason = "a folder, not a file" if path.is_dir() else f"{type(err).__name__}: {err}"
        raise ValueError(f"{path}: not a readable JSON file ({reason})") from None


def save_figure(fig, path, dpi=110, pdf=False, smoke=False, overwrite=True):
    """Save a Matplotlib figure atomically in the format its suffix names (PNG without
    a suffix), optionally also as PDF, then close it.

    A figure made without pyplot (``matplotlib.figure.Figure(...)``) has no backend
    canvas: it is given an Agg canvas here. A pyplot figure keeps its backend and is
    closed with `matplotlib.pyplot.close`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or path-like
        Output file; its suffix chooses the format (any format Matplotlib writes:
        png, pdf, svg, jpg, ...). The folder is created if needed.
    dpi : int
        Resolution of raster output (and of the PDF's raster parts).
    pdf : bool
        Also write a PDF next to it (same name, ``.pdf``), unless it is one.
    smoke : bool
        Write `SMOKE_RUN_NOTE` on the figure (``--fast`` runs).
    overwrite : bool
        False: FileExistsError if a file to write exists.

    Returns
    -------
    list of pathlib.Path
        The files written, ``path`` first.

    Raises
    ------
    ValueError
        A suffix Matplotlib cannot write (naming it and the supported ones).
    """
    import sys

    from matplotlib.backend_bases import FigureCanvasBase

    path = Path(path)
    if not path.suffix:
        path = path.with_suffix(".png")
    if type(fig.canvas) is FigureCanvasBase:  # no backend: render with Agg
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    supported = fig.canvas.get_supported_filetypes()
    fmt = path.suffix[1:].lower()
    if fmt not in supported:
        raise ValueError(f"{path}: cannot write a figure as {path.suffix!r}; supported "
                         f"suffixes: {', '.join('.' + s for s in sorted(supported))}")
    if smoke:
        fig.text(0.5, 0.5, SMOKE_RUN_NOTE, ha="center", va="center", fontsize=16,
                 color="red", alpha=0.35, rotation=20)
    paths = [path]
    if pdf and fmt != "pdf":
        paths.append(path.with_suffix(".pdf"))
    for p in paths:
        check_overwrite(p, overwrite)
    for p in paths:
        with atomic_path(p, overwrite=overwrite) as tmp:
            fig.savefig(tmp, dpi=dpi, format=p.suffix[1:].lower())
    if "matplotlib.pyplot" in sys.modules:  # release a pyplot-managed figure
        sys.modules["matplotlib.pyplot"].close(fig)
    return paths


# ----------------------------------------------------------------------- reading
def read_limit(max_bytes=None):
    """The read limit in bytes: ``max_bytes``, else ``$LE_BRIAN_MAX_READ_BYTES``, else
    `MAX_READ_BYTES`."""
    if max_bytes is None:
        env = os.environ.get(READ_LIMIT_ENV)
        if env:
            try:
                max_bytes = int(float(env))
            except ValueError:
                raise ValueError(f"{READ_LIMIT_ENV} must be a number of bytes, got "
                                 f"{env!r}") from None
        else:
            max_bytes = MAX_READ_BYTES
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) \
            or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive int, got {max_bytes!r}")
    return int(max_bytes)


def format_bytes(n):
    """``n`` bytes as a short human string (``'7.3 TiB'``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _too_big(path, what, n, limit):
    return ValueError(f"{path}: {what} would need {format_bytes(n)}, more than the read "
                      f"limit of {format_bytes(limit)} (a damaged or hostile file?); raise "
                      f"the limit with max_bytes= or ${READ_LIMIT_ENV} if it is genuine")


class NpzContents(dict):
    """The arrays of an ``.npz`` file (`read_npz`); a missing member raises ValueError
    naming the file and the member instead of KeyError."""

    path = None
    what = "npz file"

    @property
    def files(self):
        """Member names (as ``numpy.lib.npyio.NpzFile.files``)."""
        return list(self)

    def __enter__(self):  # reads like an NpzFile in a with block; nothing to close
        return self

    def __exit__(self, *exc):
        return False

    def __missing__(self, key):
        raise ValueError(f"{self.path}: damaged or incomplete {self.what}: no array "
                         f"{key!r} (it holds {sorted(self)})")

    def array(self, key, kinds="fiu", ndim=None, finite=False):
        """Member ``key`` checked: dtype kind in ``kinds`` (``'f'`` float, ``'i'`` /
        ``'u'`` int, ``'b'`` bool, ``'U'`` str), ``ndim`` dimensions, finite values;
        ValueError naming the file and member otherwise."""
        a = self[key]
        if a.dtype.kind not in kinds:
            raise ValueError(f"{self.path}: {key!r} has dtype {a.dtype}, expected "
                             f"{'/'.join(_KIND_NAMES.get(k, k) for k in kinds)} values")
        if ndim is not None and a.ndim != ndim:
            raise ValueError(f"{self.path}: {key!r} has shape {a.shape}, expected "
                             f"{ndim} dimension(s)")
        if finite and a.dtype.kind == "f" and not np.isfinite(a).all():
            bad = a[~np.isfinite(a)].flat[0]
            raise ValueError(f"{self.path}: {key!r} holds a non-finite value ({bad})")
        return a

    def scalar(self, key, kinds="fiu"):
        """Member ``key`` as a Python scalar (a 0-d or 1-element array)."""
        a = self.array(key, kinds)
        if a.size != 1:
            raise ValueError(f"{self.path}: {key!r} has shape {a.shape}, expected a scalar")
        return a.reshape(()).item()


_KIND_NAMES = {"f": "float", "i": "int", "u": "uint", "b": "bool", "U": "str"}


def _npy_header(fp):
    """(shape, fortran_order, dtype) of the ``.npy`` stream ``fp``."""
    fmt = np.lib.format
    version = fmt.read_magic(fp)
    if version == (1, 0):
        return fmt.read_array_header_1_0(fp)
    if version == (2, 0):
        return fmt.read_array_header_2_0(fp)
    return fmt._read_array_header(fp, version)  # (3, 0): no public reader


def read_npz(path, what="npz file", max_bytes=None):
    """Every array of an ``.npz`` file, read with its size checked first.

    Each member's ``.npy`` header is read (`numpy.lib.format.read_array_header_1_0` /
    ``_2_0``) and the sizes it declares are added up; a file that declares more than
    `read_limit` ``(max_bytes)`` is refused before any array is allocated. Pickled
    (object) arrays are refused.

    Parameters
    ----------
    path : path-like
    what : str
        What the file should be (named in errors, e.g. ``'checkpoint'``).
    max_bytes : int, optional
        Limit of the arrays together (default `read_limit`).

    Returns
    -------
    NpzContents
        ``{name: ndarray}``; a missing name raises ValueError naming the file.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Naming the file: a folder, not a zip file, truncated or corrupt (CRC), a member
        that is not a valid array, object arrays, the declared size above the limit.
    """
    path = Path(path)
    limit = read_limit(max_bytes)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found (expected a {what})")
    out = NpzContents()
    out.path, out.what = path, what
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if i.filename.endswith(".npy")]
            total = 0
            for info in members:
                with zf.open(info) as fp:
                    shape, _, dtype = _npy_header(fp)
                if dtype.hasobject:
                    raise ValueError(f"member {info.filename!r} holds Python objects "
                                     "(pickles are never loaded)")
                size = math.prod(int(s) for s in shape) * dtype.itemsize
                if total + size > limit:
                    raise _too_big(path, f"array {info.filename[:-4]!r} of shape "
                                   f"{tuple(shape)} ({dtype})" + (" with the arrays before "
                                   "it" if total else ""), total + size, limit)
                total += size
            for info in members:
                with zf.open(info) as fp:
                    out[info.filename[:-4]] = np.lib.format.read_array(fp,
                                                                       allow_pickle=False)
    except ValueError as err:
        if str(err).startswith(str(path)):
            raise
        raise ValueError(f"{path}: damaged {what} ({err})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError,
            NotImplementedError, RuntimeError) as err:
        reason = "a folder, not a file" if path.is_dir() else f"{type(err).__name__}: {err}"
        raise ValueError(f"{path}: damaged or unreadable {what} ({reason})") from None
    return out


class _LimitedReader:
    """A binary stream that raises ValueError naming the file once more than ``limit``
    bytes have been read from ``raw``."""

    def __init__(self, raw, path, limit, what):
        self.raw, self.path, self.limit, self.what, self.n = raw, path, limit, what, 0

    def read(self, size=-1):
        if size is None or size < 0:
            size = self.limit + 1 - self.n
        data = self.raw.read(min(size, self.limit + 1 - self.n))
        self.n += len(data)
        if self.n > self.limit:
            raise _too_big(self.path, f"decompressing this {self.what}", self.n, self.limit)
        return data

    def readable(self):
        return True

    def __getattr__(self, name):
        return getattr(self.raw, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.raw.close()


def open_limited(path, what="file", max_bytes=None, text=False):
    """Open ``path`` (gzip-decompressed when it ends in ``.gz``) for reading such that
    reading more than `read_limit` ``(max_bytes)`` bytes raises ValueError naming the
    file: a small ``.gz`` that would inflate to gigabytes is refused after reading
    the limit, never decompressed whole. A gzip file whose trailer declares (modulo
    2**32) more than the limit is refused before reading.

    Returns a binary stream (a text stream with ``text=True``)."""
    path = Path(path)
    limit = read_limit(max_bytes)
    if str(path).endswith(".gz"):
        with open(path, "rb") as f:
            magic = f.read(2)
            f.seek(0, os.SEEK_END)
            if magic == b"\x1f\x8b" and f.tell() >= 18:  # a gzip file: trust its trailer
                f.seek(-4, os.SEEK_END)
                declared = int.from_bytes(f.read(4), "little")
                if declared > limit:
                    raise _too_big(path, f"this {what} (declared decompressed size)",
                                   declared, limit)
        raw = gzip.open(path, "rb")
    else:
        raw = open(path, "rb")
    stream = _LimitedReader(raw, path, limit, what)
    if text:
        return _stdio.TextIOWrapper(_stdio.BufferedReader(_RawAdapter(stream)),
                                    encoding="utf-8")
    return stream


class _RawAdapter(_stdio.RawIOBase):
    """`_LimitedReader` as a RawIOBase (for TextIOWrapper)."""

    def __init__(self, stream):
        self.stream = stream

    def readable(self):
        return True

    def readinto(self, b):
        data = self.stream.read(len(b))
        b[:len(data)] = data
        return len(data)

    def close(self):
        self.stream.raw.close()
        super().close()


def read_limited(path, what="file", max_bytes=None, n=-1):
    """The (decompressed) bytes of ``path`` (``n`` at most), read through
    `open_limited`; ValueError naming the file when unreadable, corrupt, truncated or
    larger than the limit."""
    try:
        with open_limited(path, what, max_bytes) as f:
            return f.read(n)
    except (OSError, EOFError, zlib.error) as e:
        reason = "a folder, not a file" if Path(path).is_dir() else f"{type(e).__name__}: {e}"
        raise ValueError(f"{path}: cannot read {what} ({reason})") from None


def names_file(path_of, what):
    """Decorator of a reader: a KeyError, TypeError, IndexError or ValueError from
    malformed content (e.g. ``int()`` of a string member, ``json.loads`` of a damaged
    string) becomes one ValueError naming the file; a ValueError whose message already
    names it passes unchanged. ``path_of(*args, **kwargs)`` gives the file."""
    import functools

    def wrap(fn):
        @functools.wraps(fn)
        def reader(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (KeyError, TypeError, IndexError, ValueError) as err:
                path = path_of(*args, **kwargs)
                if isinstance(err, ValueError) and (str(path) in str(err) or
                                                    str(Path(path).parent) in str(err)):
                    raise
                raise ValueError(f"{path}: damaged {what} ({type(err).__name__}: "
                                 f"{err})") from None
        return reader
    return wrap
