"""The one loader of published parameter sets (the top-level ``models/`` folder,
installed as `le_brian.models`).

A parameter set is a module with Quantities: ``TRAINING`` (a `le-brian train` model),
``BACKPROP`` (its backprop baseline) or the settings of a microcircuit protocol
(``NETWORK``, ``PROTOCOL``, ...). `load_model` also accepts the path of a ``.py`` file of
the same form (your own parameter set).
"""

import importlib
import importlib.resources
import importlib.util
from pathlib import Path

from brian2 import Hz, Quantity, ms, second

__all__ = ["available_models", "model_module", "load_model", "config_dict"]


def available_models():
    """Names of the parameter sets shipped in `le_brian.models`."""
    files = importlib.resources.files("le_brian.models")
    return sorted(p.name[:-3] for p in files.iterdir()
                  if p.name.endswith(".py") and not p.name.startswith("_"))


def model_module(name):
    """The module of parameter set ``name`` (a name from `available_models`, or the
    path of a ``.py`` file, which is **executed**: it is Python code).

    Raises
    ------
    ValueError
        Unknown name, a missing file, or a file that does not run (a syntax error or an
        exception: the message names the file and the line)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"model must be a name {available_models()} or a .py file, "
                         f"got {name!r}")
    if name.endswith(".py"):
        path = Path(name)
        if not path.is_file():
            raise ValueError(f"model file {path} not found")
        spec = importlib.util.spec_from_file_location(f"le_brian_user_model_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        try:  # the file is Python code and runs here, by design (README "Reliability")
            spec.loader.exec_module(module)
        except SyntaxError as err:
            raise ValueError(f"model file {err.filename or path}, line {err.lineno}: "
                             f"syntax error ({err.msg})") from None
        except Exception as err:  # noqa: BLE001  (the user's code: name file and line)
            raise ValueError(f"model file {path}, line {_user_line(err, path)}: "
                             f"{type(err).__name__}: {err}") from None
        return module
    if name not in available_models():
        raise ValueError(f"unknown model {name!r}; available: {available_models()} (or the "
                         "path of a .py file)")
    return importlib.import_module(f"le_brian.models.{name}")


def _user_line(err, path):
    """The line of ``path`` where executing it raised ``err`` ('?' when not in it)."""
    line, tb, target = "?", err.__traceback__, str(Path(path).resolve())
    while tb is not None:
        if str(Path(tb.tb_frame.f_code.co_filename).resolve()) == target:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def load_model(name):
    """The parameters of a training parameter set: its ``TRAINING`` dict of
    `le_brian.params.TrainingParameters` field values (Quantities), checked."""
    from .params import ParameterError, TrainingParameters

    module = model_module(name)
    if not hasattr(module, "TRAINING"):
        raise ValueError(f"model {name!r} defines no TRAINING parameters (not a "
                         "`le-brian train` model)")
    params = dict(module.TRAINING)
    try:
        TrainingParameters(**params)
    except ParameterError as err:
        raise ValueError(f"model {name!r}: {err}") from None
    return params


def config_dict(params):
    """(le_brian <= 0.2.0 form, for old scripts.) Translate parameters given as Quantities (``tau_m=10*ms``,
    ``learning_rates=[100*Hz, ...]``, ``rate_noise=0.01*ms**0.5``) into `TrainConfig`
    fields (``tau_m_ms``, ``learning_rates_hz``, ``rate_noise_sqrt_ms``); plain values pass
    through."""
    out = {}
    for key, value in params.items():
        items = value if isinstance(value, (list, tuple)) else [value]
        if items and all(isinstance(v, Quantity) for v in items):
            dim = items[0].dim
            if dim == second.dim:
                unit, suffix = ms, "_ms"
            elif dim == Hz.dim:
                unit, suffix = Hz, "_hz"
            elif dim == (second ** 0.5).dim:
                unit, suffix = ms ** 0.5, "_sqrt_ms"
            else:
                raise ValueError(f"parameter {key}: unsupported unit {dim}")
            conv = [float(v / unit) for v in items]
            out[key + suffix] = conv if isinstance(value, (list, tuple)) else conv[0]
        else:
            out[key] = value
    return out
