"""What one sweep point runs: a table of protocols, each with its parameters (name, kind,
unit, default) and a function ``run(params, out_dir) -> metrics``.

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
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from brian2 import Hz, Quantity, ms, second

from ..cli.script_helpers import write_json
from .spec import SpecError, parse_quantity

__all__ = ["Protocol", "Parameter", "PROTOCOLS", "get_protocol", "train_parameters"]


def _quantity(name, value, unit, source):
    try:
        return parse_quantity(name, value, unit)
    except SpecError as err:
        raise SpecError(f"{source}: {err}") from None


@dataclass(frozen=True)
class Parameter:
    """A protocol parameter: ``kind`` one of 'time', 'rate', 'int', 'float', 'str',
    'bool', 'list'; ``choices`` for str; ``default`` (None: the protocol's own)."""

    name: str
    kind: str
    choices: tuple = None
    default: object = None

    def check(self, value, source):
        """``value`` checked against this parameter's kind and unit (Quantities for times
        and rates); ValueError naming ``source`` and the parameter otherwise."""
        where = f"{source}: parameter {self.name}"
        if self.kind in ("time", "rate"):
            return _quantity(self.name, value, ms if self.kind == "time" else Hz, source)
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise SpecError(f"{where}: expected an integer, got {value!r}")
            return int(value)
        if self.kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SpecError(f"{where}: expected a number, got {value!r}")
            return float(value)
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise SpecError(f"{where}: expected true or false, got {value!r}")
            return value
        if self.kind == "list":
            if not isinstance(value, list):
                raise SpecError(f"{where}: expected a list, got {value!r}")
            return list(value)
        if not isinstance(value, str) or (self.choices and value not in self.choices):
            raise SpecError(f"{where}: expected one of {list(self.choices)}, got {value!r}"
                            if self.choices else f"{where}: expected a string, got {value!r}")
        return value


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
                            f"{self.name!r}; known: {sorted(self.parameters)}")
        missing = [n for n in self.required if n not in raw]
        if missing:
            raise SpecError(f"{source}: protocol {self.name!r} needs {missing}")
        return {n: self.parameters[n].check(v, source) for n, v in raw.items()}



DEVICE_CHOICES = ("runtime", "cpp_standalone", "cuda_standalone")


# ------------------------------------------------------------------------------- bars
def _run_bars(params, out_dir):
    from ..protocols.bars import run_bars

    p = dict(params)
    T = p.pop("presentation_time")
    spiking = {k: p.pop(k) for k in ("n_per_unit", "r_max", "tau_s") if k in p}
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
    {"presentation_time": Parameter("presentation_time", "time"),
     "mode": Parameter("mode", "str", ("le", "original")),
     "epochs": Parameter("epochs", "int"), "seed": Parameter("seed", "int"),
     "device": Parameter("device", "str", DEVICE_CHOICES),
     "codegen_target": Parameter("codegen_target", "str", ("auto", "numpy", "cython")),
     "dtype": Parameter("dtype", "str", ("float64", "float32")),
     "out_lag": Parameter("out_lag", "time"),
     "n_per_unit": Parameter("n_per_unit", "int"), "r_max": Parameter("r_max", "rate"),
     "tau_s": Parameter("tau_s", "time")},
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
    {"mode": Parameter("mode", "str", ("le", "original")),
     "epochs": Parameter("epochs", "int"),
     "self_prediction_epochs": Parameter("self_prediction_epochs", "int"),
     "device": Parameter("device", "str", DEVICE_CHOICES),
     "codegen_target": Parameter("codegen_target", "str", ("auto", "numpy", "cython"))},
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
    {"architecture": Parameter("architecture", "str"), "n_steps": Parameter("n_steps", "int"),
     "device": Parameter("device", "str", DEVICE_CHOICES),
     "learn": Parameter("learn", "bool"),
     "dtype": Parameter("dtype", "str", ("float64", "float32")),
     "synapses": Parameter("synapses", "str", ("dense", "plain")),
     "seed": Parameter("seed", "int"), "repeats": Parameter("repeats", "int"),
     "steps_per_sample": Parameter("steps_per_sample", "int")},
    _run_benchmark, metric="steps_per_s", required=("architecture", "n_steps"),
    x_axis=("n_steps",))


# ------------------------------------------------------------------------------ train
#: Unit-carrying names of the training protocol -> (TrainConfig field, unit).
TRAIN_QUANTITIES = {"presentation_time": ("presentation_time_ms", "time"),
                    "dt": ("dt_ms", "time"), "tau_m": ("tau_m_ms", "time"),
                    "tau_r": ("tau_r_ms", "time"), "lr_reference": ("lr_reference_ms", "time"),
                    "learning_rates": ("learning_rates_hz", "rate"),
                    "r_max": ("r_max_hz", "rate"), "tau_s": ("tau_s_ms", "time")}


def _train_parameters():
    from ..protocols.training import TrainConfig

    table = {"model": Parameter("model", "str")}
    suffixed = {field for field, _ in TRAIN_QUANTITIES.values()}
    for name, f in TrainConfig.__dataclass_fields__.items():
        if name in suffixed:
            continue
        kind = {int: "int", float: "float", bool: "bool", str: "str", list: "list"}.get(
            f.type if isinstance(f.type, type) else None, "any")
        table[name] = _Any(name) if kind == "any" else Parameter(name, kind)
    for name, (_, kind) in TRAIN_QUANTITIES.items():
        table[name] = (Parameter(name, kind) if name != "learning_rates"
                       else _RateOrRates(name, "rate"))
    return table


class _Any(Parameter):
    """A TrainConfig field with no single type (checked by TrainConfig itself)."""

    def __init__(self, name):
        super().__init__(name, "any")

    def check(self, value, source):
        return value


class _RateOrRates(Parameter):
    """One learning rate or one per layer, each with a unit."""

    def check(self, value, source):
        if isinstance(value, list):
            return [_quantity(self.name, v, Hz, source) for v in value]
        return _quantity(self.name, value, Hz, source)


def train_parameters(config):
    """Parameters of the ``train`` protocol from `TrainConfig` fields (``tau_m_ms=10``
    -> ``tau_m="10 ms"``; None values left out), e.g. to build a sweep from configs."""
    unit_names = {f: (name, "ms" if f.endswith("_ms") else "Hz")
                  for name, (f, _) in TRAIN_QUANTITIES.items()}
    out = {}
    for key, value in dict(config).items():
        if value is None:
            continue
        if key in unit_names:
            name, unit = unit_names[key]
            out[name] = ([f"{v:g} {unit}" for v in value] if isinstance(value, (list, tuple))
                         else f"{value:g} {unit}")
        else:
            out[key] = value
    return out


def _train_config(params):
    from ..parameter_sets import load_model
    from ..protocols.training import TrainConfig

    p = dict(params)
    base = load_model(p.pop("model")) if "model" in p else {}
    for name, (field_name, _) in TRAIN_QUANTITIES.items():
        if name in p:
            value = p.pop(name)
            unit = ms if field_name.endswith("_ms") else Hz
            p[field_name] = ([float(v / unit) for v in value] if isinstance(value, list)
                             else float(value / unit))
    return TrainConfig.from_dict({**base, **p})


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
        params = super().check(raw, source)
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
    """``python:<module>:<function>``: the user's ``function(params, out_dir) -> dict``."""
    try:
        _, module_name, function_name = spec.split(":")
        function = getattr(importlib.import_module(module_name), function_name)
    except (ValueError, ImportError, AttributeError) as err:
        raise SpecError(f"{source}: protocol {spec!r}: expected python:<module>:<function> of "
                        f"an importable module ({err})") from None
    if not callable(function):
        raise SpecError(f"{source}: protocol {spec!r} is not callable")
    return Protocol(spec, None, _UserFunction(module_name, function_name), metric=None)


class _UserFunction:
    """Picklable reference to a user's function (imported again on the worker)."""

    def __init__(self, module_name, function_name):
        self.module_name, self.function_name = module_name, function_name

    def __call__(self, params, out_dir):
        function = getattr(importlib.import_module(self.module_name), self.function_name)
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
