"""Shared pieces of the figure scripts in ``scripts/``: the common command-line
arguments, resumable JSON results and figure saving.

The scripts import the installed package (``from le_brian.cli.script_helpers import
...``), so they run from any working directory; nothing here locates the repository.
"""

import json
import os
import tempfile
from pathlib import Path

from ..engine.devices import CODEGEN_TARGETS, DEVICES

__all__ = ["add_common_arguments", "add_sweep_arguments", "uses_sweep", "write_json",
           "read_json", "resume_results", "settings_key", "save_figure", "SMOKE_RUN_NOTE"]

#: Written on every figure of a ``--fast`` run.
SMOKE_RUN_NOTE = "smoke run (--fast): not the figure's numbers"


def add_common_arguments(parser, device="cpp_standalone", out="figures",
                         out_help="output folder", fast_help="short run (CI smoke test)",
                         codegen_target=False):
    """Add ``--device``, ``--out`` and ``--fast`` (and ``--codegen-target``) to an
    argument parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    device : str
        Default of ``--device`` (one of `le_brian.engine.devices.DEVICES`).
    out : str or path-like
        Default of ``--out``; a relative path is relative to the working directory
        (scripts never locate the repository).
    out_help : str
        Help text of ``--out`` (the default is appended).
    fast_help : str or None
        Help text of ``--fast``; None: no ``--fast`` argument.
    codegen_target : bool
        Also add ``--codegen-target`` (the runtime device's code generation target).

    Returns
    -------
    argparse.ArgumentParser
        ``parser``. ``--out`` is parsed into a `pathlib.Path`.
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    parser.add_argument("--device", default=device, choices=DEVICES,
                        help=f"Brian2 device (default: {device})")
    shown = out if Path(out).is_absolute() else f"./{Path(out)}"
    parser.add_argument("--out", type=Path, default=Path(out),
                        help=f"{out_help} (default: {shown})")
    if fast_help is not None:
        parser.add_argument("--fast", action="store_true", help=fast_help)
    if codegen_target:
        parser.add_argument("--codegen-target", default="auto", choices=CODEGEN_TARGETS,
                            help="code generation of the runtime device (default: auto)")
    return parser


def add_sweep_arguments(parser):
    """Add ``--scheduler`` and ``--workers``: run a script's configurations as a Dask
    sweep (`le_brian.sweep`) instead of one after another in the script's process."""
    parser.add_argument("--scheduler", default=None,
                        help="run the configurations on this Dask scheduler (tcp://host:8786)")
    parser.add_argument("--workers", type=int, default=None,
                        help="run the configurations on a local Dask cluster of N "
                        "single-threaded workers")
    return parser


def uses_sweep(args):
    """Whether ``--scheduler`` or ``--workers`` was given."""
    return args.scheduler is not None or args.workers is not None


def _json_default(obj):
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, obj, indent=2):
    """Write ``obj`` as JSON to ``path`` atomically.

    The text goes to a temporary file in the same folder, is flushed and synced to
    disk, then replaces ``path`` (`os.replace`): a reader, or a sweep resumed after a
    crash, sees either the old or the new file, never a partial one. Paths in ``obj``
    are written as strings.

    Parameters
    ----------
    path : str or path-like
        The folder is created if needed.
    obj : object
        JSON-serialisable (plus path-like objects).
    indent : int or None
        Passed to `json.dumps`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=indent, default=_json_default)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())  # mkstemp's 0600 -> as open() would
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def read_json(path, default=None):
    """Read a JSON file written by `write_json` (e.g. to resume a sweep).

    Parameters
    ----------
    path : str or path-like
    default : object, optional
        Returned when ``path`` does not exist.

    Returns
    -------
    object
        The parsed content, or ``default``.
    """
    path = Path(path)
    if not path.exists():
        return default
    return json.loads(path.read_text())


def _plain(obj):
    """``obj`` as it reads back from JSON (tuples become lists, paths strings)."""
    return json.loads(json.dumps(obj, default=_json_default))


def settings_key(settings):
    """A short hash of ``settings`` (a JSON-able dict): names run folders so that runs
    of other settings never share one."""
    import hashlib

    text = json.dumps(_plain(settings), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def resume_results(path, settings, restart=False, empty=None):
    """The results of a resumable sweep: those in ``path`` when it holds results made
    with the same ``settings`` (everything that changes a result; the grid axes that
    only add entries, such as seeds or presentation times, stay out), else a new
    ``empty`` dict (default ``{'runs': {}}``) with ``settings`` in it.

    Results made with other settings are never reused: the script stops with one line
    naming every setting that differs (exit status 2), unless ``restart``.

    Parameters
    ----------
    path : str or path-like
    settings : dict
    restart : bool
        Start afresh, ignoring (and later overwriting) ``path``.
    empty : dict, optional

    Returns
    -------
    dict
        ``results['settings']`` equals ``settings`` (as JSON reads it back).
    """
    settings = _plain(settings)
    fresh = dict(empty if empty is not None else {"runs": {}}, settings=settings)
    old = None if restart else read_json(path)
    if old is None:
        return fresh
    previous = old.get("settings")
    if previous != settings:
        keys = sorted(set(previous or {}) | set(settings))
        diff = ", ".join(f"{k}: {(previous or {}).get(k)!r} there, {settings.get(k)!r} now"
                         for k in keys if (previous or {}).get(k) != settings.get(k))
        import sys

        print(f"error: {path} holds results made with other settings ({diff or 'none '
              'recorded'}); choose another --out or pass --restart", file=sys.stderr)
        raise SystemExit(2)
    return old


def save_figure(fig, path, dpi=110, pdf=False, smoke=False):
    """Save a Matplotlib figure as PNG (and PDF), then close it.

    A figure made without pyplot (``matplotlib.figure.Figure(...)``, as the scripts do,
    so that no interactive backend is ever started) has no backend canvas: it is given
    an Agg canvas here. A pyplot figure keeps its backend and is closed with
    `matplotlib.pyplot.close`.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or path-like
        Output file; its suffix is replaced by ``.png`` (and ``.pdf``). The folder is
        created if needed.
    dpi : int
        Resolution of the PNG (and of the PDF's raster parts).
    pdf : bool
        Also write a PDF next to the PNG.
    smoke : bool
        Write `SMOKE_RUN_NOTE` on the figure (``--fast`` runs).

    Returns
    -------
    list of pathlib.Path
        The files written, the PNG first.
    """
    import sys

    from matplotlib.backend_bases import FigureCanvasBase

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if type(fig.canvas) is FigureCanvasBase:  # no backend: render with Agg
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    if smoke:
        fig.text(0.5, 0.5, SMOKE_RUN_NOTE, ha="center", va="center", fontsize=16,
                 color="red", alpha=0.35, rotation=20)
    paths = [path.with_suffix(".png")]
    if pdf:
        paths.append(path.with_suffix(".pdf"))
    for p in paths:
        fig.savefig(p, dpi=dpi)
    if "matplotlib.pyplot" in sys.modules:  # release a pyplot-managed figure
        sys.modules["matplotlib.pyplot"].close(fig)
    return paths
