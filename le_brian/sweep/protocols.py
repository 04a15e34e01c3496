"""What one sweep point runs: a table of protocols, each with its parameters (the
`le_brian.params` fields: unit, check, doc) and a function ``run(params, out_dir) ->
metrics``.

==============================  ===================================================
protocol                        one point
==============================  ===================================================
``bars``                        `le_brian.protocols.bars.run_bars` (paper Fig. 3)
``mimic``                       `le_brian.protocols.mimic.run_mimic` (paper Fig. 5)
``train``                       `le_brian.protocols.training.train` into the point's
                                folder (a run folder as ``le-brian train`` makes)
``benchmark``                   `le_brian.benchmark.benchmark_layered` (steps/s of
                                an ``architecture`` such as ``'784-100-10'``)
``python:<module>:<function>``  your own ``function(params, out_dir) -> dict``
==============================  ===================================================

Every protocol's metrics are a flat dict of numbers (the aggregated table's columns);
curves go into the point's folder.
"""

import importlib
import importlib.util
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from brian2 import Quantity, second

from ..io import write_json
from ..params import (Field, MicrocircuitDynamics, MicrocircuitSpiking, MicrocircuitTraining,
                      ParameterError, Simulation, Training, TrainingParameters)
from ..params.groups import SPIKING_VIEW
from .spec import SpecError

__all__ = ["Protocol", "Parameter", "PROTOCOLS", "get_protocol", "train_parameters"]


class Parameter:
    """A protocol parameter: a `le_brian.params.Field` (its unit, check and doc), checked
    with the spec's file name in the error."""

    def __init__(self, field):
        self.field = field
        self.name = field.name

    def check(self, value, source):
        """``value`` checked by the field (text forms read); SpecError naming ``source``
        and the parameter otherwise."""
        try:
            return self.field.check(value)
        except ParameterError as err:
            raise SpecError(f"{source}: {err}") from None


def _migration_hint(unknown, parameters):
    """How to rename the parameters of a le_brian 0.2.0 spec (units in the name)."""
    legacy = {p.field.legacy_name: p.field for p in parameters.values()
              if isinstance(p, Parameter) and p.field.legacy_name}
    renames = [f"{n} = X -> {legacy[n].name} = 'X {legacy[n].unit}'" for n in unknown
               if n in legacy]
    if not renames:
        return ""
    return (" (names of le_brian 0.2.0: write the value with its unit under the new name, "
            f"{'; '.join(renames)}; the points then run again under their new names)")


def _table(*fields):
    return {f.name: Parameter(f) for f in fields}


def _own(name, kind, doc, **kw):
    """A parameter of one protocol only (not a model parameter)."""
    return Field(name, None, doc, kind=kind, **kw)


_SIM = Simulation.fields()
_TRAINING = Training.fields()
_MC = {**MicrocircuitDynamics.fields(), **MicrocircuitSpiking.fields()}


@dataclass
class Protocol:
    """A sweepable protocol: ``parameters`` (name -> `Parameter`; None: any names, for
    user functions), ``run(params, out_dir) -> metrics``, the ``metric`` its figure
    shows and the parameters that are not curves of the figure (``seed_names``)."""

    name: str
    parameters: dict
    run: object
    metric: str
    seed_names: tuple = ("seed",)
    required: tuple = ()
    x_axis: tuple = ("presentation_time", "presentation_time_ms")
    #: Parameters that reach the compiled program as run-time values (seeds, modes,
    #: learning rates): points that differ only in these share one program.
    run_time_values: tuple = ("seed",)

    def shape_of(self, params):
        """A key equal for points that run the same compiled program."""
        return repr(sorted((k, repr(v)) for k, v in params.items()
                           if k not in self.run_time_values))

    def check(self, raw, source):
        """Checked parameters of one point (Quantities for times and rates)."""
        if self.parameters is None:
            return dict(raw)
        unknown = sorted(set(raw) - set(self.parameters))
        if unknown:
            raise SpecError(f"{source}: unknown parameter(s) {unknown} of protocol "
                            f"{self.name!r}{_migration_hint(unknown, self.parameters)}; "
                            f"known: {sorted(self.parameters)}")
        missing = [n for n in self.required if n not in raw]
        if missing:
            raise SpecError(f"{source}: protocol {self.name!r} needs {missing}")
        return {n: self.parameters[n].check(v, source) for n, v in raw.items()}






# ------------------------------------------------------------------------------- bars
def _run_bars(params, out_dir):
    from ..protocols.bars import run_bars

    p = dict(params)
    T = p.pop("presentation_time")
    spiking = {k: p.pop(k) for k in SPIKING_VIEW if k in p}
    res = run_bars(T, spiking=spiking or None, **p)
    val = np.asarray(res["val_accuracy"], dtype=float)
    tail = max(1, len(val) // 10)
    metrics = {"final_accuracy": float(val[-tail:].mean()),
               "last_accuracy": float(val[-1]), "steps": int(res["steps"]),
               "run_time_s": float(res["run_time"]), "build_time_s": float(res["build_time"])}
    for key in ("n_spikes", "mean_rate_hz", "spikes_per_presentation"):  # spiking runs
        if key in res:
            metrics[key] = float(res[key])
    write_json(Path(out_dir) / "curves.json",
                {"val_accuracy": val.tolist(),
                 "train_accuracy": np.asarray(res["train_accuracy"]).tolist()})
    return metrics


BARS = Protocol(
    "bars",
    _table(_TRAINING["presentation_time"], _MC["mode"], _TRAINING["epochs"], _SIM["seed"],
           _SIM["device"], _SIM["codegen_target"], _SIM["dtype"], _MC["out_lag"],
           _MC["n_per_unit"], _MC["r_max"], _MC["tau_s"], _MC["t_ref"]),
    _run_bars, metric="final_accuracy", required=("presentation_time",),
    run_time_values=("seed", "mode", "out_lag"))


# ------------------------------------------------------------------------------ mimic
def _run_mimic(params, out_dir):
    from ..protocols.mimic import run_mimic

    res = run_mimic(**params)
    err = np.asarray(res["training"]["val_error"], dtype=float)
    write_json(Path(out_dir) / "curves.json", {"val_error": err.tolist()})
    return {"val_error_first": float(err[0]), "val_error_last": float(err[-1])}


MIMIC = Protocol(
    "mimic",
    _table(_MC["mode"], _TRAINING["epochs"],
           replace(MicrocircuitTraining.fields()["self_prediction_epochs"], optional=False),
           _SIM["device"], _SIM["codegen_target"]),
    _run_mimic, metric="val_error_last", x_axis=("epochs",), run_time_values=("mode",))


# -------------------------------------------------------------------------- benchmark
def _run_benchmark(params, out_dir):
    from ..benchmark import benchmark_layered, parse_architecture

    p = dict(params)
    sizes = parse_architecture(p.pop("architecture"))
    result = benchmark_layered(sizes, **p)
    return {k: float(v) for k, v in result.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


BENCHMARK = Protocol(
    "benchmark",
    _table(_own("architecture", "str", "layer sizes such as '784-100-10'"),
           _own("n_steps", "int", "simulated steps", low=0),
           _SIM["device"], _own("learn", "bool", "plasticity on"), _SIM["dtype"],
           _SIM["synapses"], _SIM["seed"], _own("repeats", "int", "timed runs", low=0),
           _own("steps_per_sample", "int", "steps per input sample", low=0)),
    _run_benchmark, metric="steps_per_s", required=("architecture", "n_steps"),
    x_axis=("n_steps",))


# ------------------------------------------------------------------------------ train
def _train_parameters():
    return {"model": Parameter(_own("model", "str", "a le_brian.models name or .py file")),
            **{name: Parameter(f) for name, f in TrainingParameters.fields().items()}}


def train_parameters(config):
    """Parameters of the ``train`` protocol from a `TrainingParameters` or any form
    `le_brian.protocols.training.training_parameters` reads (None values left out), e.g.
    to build a sweep from configurations."""
    from ..protocols.training import training_parameters

    return {k: v for k, v in training_parameters(config).flat_json().items()
            if v is not None}


def _is_model_file(model):
    return isinstance(model, str) and model.endswith(".py")


def _train_config(params, run_model_file=True):
    """The `TrainingParameters` of a point. A ``model`` that is a ``.py`` file is executed
    (it is Python code) only with ``run_model_file``; otherwise its parameters are left
    out (checking a specification runs none of the user's code)."""
    from ..parameter_sets import load_model

    p = dict(params)
    model = p.pop("model", None)
    base = {} if model is None or (_is_model_file(model) and not run_model_file) \
        else load_model(model)
    return TrainingParameters(**{**base, **p})


def _run_train(params, out_dir):
    from ..protocols.training import CHECKPOINT, train

    cfg = _train_config(params)
    out = Path(out_dir)
    history = train(cfg, out, resume=(out / CHECKPOINT).is_file(), progress=lambda line: None)
    last = history[-1]
    return {k: float(v) for k, v in last.items()
            if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)}


class _TrainProtocol(Protocol):
    def check(self, raw, source):
        """The parameters checked against `TrainConfig`. A ``model`` file is checked to
        exist, not executed (that happens where the point runs); its values are then
        checked there too."""
        params = super().check(raw, source)
        model = params.get("model")
        if _is_model_file(model):
            path = Path(model)
            if not path.is_file():
                raise SpecError(f"{source}: parameter model: model file {path} not found")
            try:
                _train_config(params, run_model_file=False)
            except (ValueError, TypeError):
                pass  # may be completed by the file's values: checked where it runs
            return params
        try:
            _train_config(params)
        except (ValueError, TypeError) as err:
            raise SpecError(f"{source}: {err}") from None
        return params


def _make_train():
    return _TrainProtocol("train", _train_parameters(), _run_train, metric="test_accuracy",
                          run_time_values=("seed", "learning_rates", "lr_decay", "beta",
                                           "weight_scale", "lr_reference"))


# ----------------------------------------------------------------------------- python
def _python_protocol(spec, source):
    """``python:<module>:<function>``: the user's ``function(params, out_dir) -> dict``.

    The module is any importable module and its code runs, by design, where a point runs
    (imported there, on the Dask workers); here it is only found (`importlib.util.find_spec`:
    the parent packages of a dotted name are imported, the module itself is not)."""
    parts = spec.split(":")
    if len(parts) != 3 or not all(p.isidentifier() for p in parts[2:]) or not all(
            q.isidentifier() for q in parts[1].split(".")):
        raise SpecError(f"{source}: protocol {spec!r}: expected python:<module>:<function> "
                        "(a dotted module name and a function name)")
    _, module_name, function_name = parts
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as err:
        found, reason = None, f" ({err})"
    else:
        reason = ""
    if found is None:
        raise SpecError(f"{source}: protocol {spec!r}: module {module_name!r} not found on "
                        f"the Python path{reason}")
    return Protocol(spec, None, _UserFunction(module_name, function_name), metric=None)


class _UserFunction:
    """Picklable reference to a user's function (imported again on the worker)."""

    def __init__(self, module_name, function_name):
        self.module_name, self.function_name = module_name, function_name

    def __call__(self, params, out_dir):
        function = getattr(importlib.import_module(self.module_name), self.function_name, None)
        if not callable(function):
            raise TypeError(f"protocol python:{self.module_name}:{self.function_name}: "
                            f"module {self.module_name} has no function {self.function_name}")
        metrics = function(dict(params), Path(out_dir))
        if not isinstance(metrics, dict):
            raise TypeError(f"{self.module_name}.{self.function_name} must return a dict of "
                            f"metrics, got {type(metrics).__name__}")
        return metrics


#: Protocol name -> factory of its `Protocol` (besides ``python:<module>:<function>``).
PROTOCOLS = {"bars": lambda: BARS, "mimic": lambda: MIMIC, "train": _make_train,
             "benchmark": lambda: BENCHMARK}


def get_protocol(name, source="<spec>"):
    """The `Protocol` called ``name`` (SpecError naming the known ones otherwise)."""
    if isinstance(name, str) and name.startswith("python:"):
        return _python_protocol(name, source)
    if name not in PROTOCOLS:
        raise SpecError(f"{source}: unknown protocol {name!r}; known: {sorted(PROTOCOLS)} "
                        "or python:<module>:<function>")
    return PROTOCOLS[name]()


def metrics_json(metrics):
    """Metrics as JSON-able numbers (Quantities in SI base units)."""
    out = {}
    for k, v in metrics.items():
        if isinstance(v, Quantity):
            v = float(v / second) if v.dim == second.dim else float(v)
        out[k] = v
    return json.loads(json.dumps(out, default=float))
