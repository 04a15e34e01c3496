"""Shared pieces of the figure scripts in ``scripts/``: the common command-line
arguments, options made from parameter fields (`add_field_argument`: unit strings such
as ``"10 ms"``, the field's doc, unit and default as help) and resumable JSON results;
`write_json`, `read_json`, `settings_key` and `save_figure` are re-exported from
`le_brian.io` (atomic writes) for the scripts.

The scripts import the installed package (``from le_brian.cli.script_helpers import
...``), so they run from any working directory; nothing here locates the repository.
"""

import json
from pathlib import Path

from ..engine.devices import CODEGEN_TARGETS, DEVICES
from .fields import add_field_argument
from ..io import SMOKE_RUN_NOTE, _json_default, read_json, save_figure, settings_key, write_json

__all__ = ["add_accuracy_vs_T_arguments", "finish_accuracy_vs_T_arguments",
           "add_common_arguments", "add_field_argument", "in_unit", "plain_settings", "add_sweep_arguments", "uses_sweep", "write_json",
           "read_json", "resume_results", "settings_key", "save_figure", "SMOKE_RUN_NOTE"]


def add_common_arguments(parser, device=None, out="figures",
                         out_help="output folder", fast_help="short run (CI smoke test)",
                         codegen_target=False):
    """Add ``--device``, ``--out`` and ``--fast`` (and ``--codegen-target``) to an
    argument parser.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    device : str, optional
        Default of ``--device`` (one of `le_brian.engine.devices.DEVICES`; default: the
        ``device`` field's, `le_brian.params.Simulation`).
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
    from ..params import Simulation

    fields = Simulation.fields()
    device = fields["device"].default if device is None else device
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
        target = fields["codegen_target"].default
        parser.add_argument("--codegen-target", default=target, choices=CODEGEN_TARGETS,
                            help=f"code generation of the runtime device (default: {target})")
    return parser


def in_unit(value, unit):
    """A Quantity (or a list of them) as plain numbers in ``unit``: the shortest number
    that times ``unit`` gives the same float (``in_unit(0.3*ms, ms)`` is 0.3, not
    0.30000000000000004), so ``in_unit(q, ms) * ms == q`` and a script's keys and JSON
    numbers are the ones typed."""
    if isinstance(value, (list, tuple)):
        return [in_unit(v, unit) for v in value]
    number, target = float(value / unit), float(value)
    for digits in range(1, 18):
        candidate = float(f"{number:.{digits}g}")
        if float(candidate * unit) == target:
            return candidate
    return number


def plain_settings(args):
    """``vars(args)`` with every Quantity as its number in ms (times) or Hz (rates), the
    form the scripts' JSON ``settings`` have always had."""
    from brian2 import Hz, Quantity, ms
    from brian2.units.fundamentalunits import get_dimensions

    def plain(v):
        if isinstance(v, list):
            return [plain(x) for x in v]
        if isinstance(v, Quantity):
            unit = {ms.dim: ms, Hz.dim: Hz}.get(get_dimensions(v))
            return v if unit is None else in_unit(v, unit)
        return v

    return {k: plain(v) for k, v in vars(args).items()}


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


def _plain(obj):
    """``obj`` as it reads back from JSON (tuples become lists, paths strings)."""
    return json.loads(json.dumps(obj, default=_json_default))


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


def add_accuracy_vs_T_arguments(parser, datasets, times_ms, seeds, dt_max_ms, fast_help,
                                device=None, epochs=0, n_train=0, n_eval=0):
    """The options of the accuracy-against-presentation-time scripts
    (`le_brian.protocols.accuracy_vs_T`): ``--datasets``, ``--times``, ``--seeds``,
    ``--epochs``, ``--n-train``, ``--n-eval``, ``--dt-max``, ``--restart``, the common
    arguments (`add_common_arguments`, with ``--codegen-target``) and the sweep
    arguments, with the given defaults (times and dt_max in ms; ``epochs`` 0: the
    model's, ``n_train`` / ``n_eval`` 0: all samples). After parsing, pass the result
    through `finish_accuracy_vs_T_arguments`."""
    from brian2 import ms

    from ..params import TrainingParameters

    parser.add_argument("--datasets", nargs="+", default=list(datasets),
                        help=f"parameter sets in le_brian.models (default: "
                             f"{' '.join(datasets)})")
    fields = TrainingParameters.fields()
    add_field_argument(parser, fields["presentation_time"], "--times", nargs="+", metavar="T",
                       default=[T * ms for T in times_ms], doc="presentation times")
    parser.add_argument("--seeds", type=int, default=seeds,
                        help=f"seeds 0..N-1 (default {seeds})")
    parser.add_argument("--epochs", type=int, default=epochs,
                        help=f"epochs per run (0: the model's; default {epochs or 'the model'})")
    parser.add_argument("--n-train", type=int, default=n_train,
                        help=f"use only N training samples (0: all; default {n_train})")
    parser.add_argument("--n-eval", type=int, default=n_eval,
                        help=f"use only N validation and N test samples (0: all; default "
                             f"{n_eval})")
    add_field_argument(parser, fields["dt"], "--dt-max", default=dt_max_ms * ms,
                       doc="largest Euler step (dt = min(T/10, dt_max))")
    parser.add_argument("--restart", "--rerun", dest="restart", action="store_true",
                        help="ignore the summary's finished runs (and a summary of other "
                             "settings); --restart as in the other figure scripts")
    add_common_arguments(parser, device=device, out="figures", out_help="output folder",
                         fast_help=fast_help, codegen_target=True)
    add_sweep_arguments(parser)
    return parser


def finish_accuracy_vs_T_arguments(args):
    """``args.times`` and ``args.dt_max`` as plain numbers in ms (`in_unit`); returns
    ``args``."""
    from brian2 import ms

    args.times, args.dt_max = in_unit(args.times, ms), in_unit(args.dt_max, ms)
    return args
