"""Typed, frozen parameter groups and the parameter sets composed of them.

Every parameter of le_brian is a `Field` of exactly one group below; its default, unit,
choices and doc are written there and nowhere else. Network constructors take their
defaults from these fields, run folders store a set's JSON form (Quantities as text with
units), ``le-brian train`` makes one option per field, and sweep tables check their
values with the fields.
"""

from dataclasses import replace

from brian2 import Hz, kHz, ms, second

from ..engine.registry import CODEGEN_TARGETS, DEVICES, DTYPES
from ..equations.activations import ACTIVATIONS
from .fields import Field, ParameterError

__all__ = ["ParameterGroup", "ParameterSet", "Dynamics", "Learning", "Spiking", "Substrate",
           "Simulation", "Training", "MicrocircuitDynamics", "MicrocircuitLearning",
           "MicrocircuitSpiking", "LENetworkParameters", "MicrocircuitParameters",
           "TrainingParameters", "MicrocircuitTraining", "MicrocircuitTrainingParameters",
           "MICROCIRCUIT_PROTOCOLS", "SCHEMES", "HAND_DOWN", "SYNAPSE_KINDS", "TARGET_TYPES",
           "MODES", "INITS", "TAU_LEARNING", "SPIKE_DRAWS"]

#: How the spikes of a spiking view are drawn (docs/model.md §5.1, §5.5).
SPIKE_DRAWS = ("neurons", "counts")
#: Discrete-time schemes of a layered network (docs/model.md §1.2, §1.3).
SCHEMES = ("sweep", "reference")
#: What a layer passes down: its held error or its mismatch (docs/model.md §1.4).
HAND_DOWN = ("error", "mismatch")
#: How projections are simulated (docs/model.md §4.1).
SYNAPSE_KINDS = ("dense", "dense_unfused", "plain")
#: Output error from the voltage or from the rate (docs/model.md §1.1).
TARGET_TYPES = ("voltage", "rate")
#: The microcircuit's modes: LE (prospective) or the original microcircuit.
MODES = ("le", "original")
#: Protocols of a microcircuit training run (docs/model.md §3.5, §3.6).
MICROCIRCUIT_PROTOCOLS = ("bars", "classification", "mimic")
#: Initial weights of the microcircuit (docs/model.md §2.5).
INITS = ("self_predicting", "random")
#: Time constants the local time-constant learning can adapt (docs/model.md §1.8).
TAU_LEARNING = ("tau_m", "tau_r")


class ParameterGroup:
    """A frozen group of checked parameters (subclasses list their `FIELDS`).

    ``Group(**values)`` checks every value with its field (text forms such as
    ``"10 ms"`` are read) and fills in the defaults; attributes are read-only;
    `replace` makes a changed copy; `to_json` / `from_json` convert to and from the JSON
    form (Quantities as text with units).

    Raises
    ------
    ParameterError
        An unknown name, or a value its field refuses (the message names the parameter
        and what it expects).
    """

    FIELDS = ()
    #: Name of the group in the JSON form of a `ParameterSet`.
    key = None

    def __init_subclass__(cls, **kwargs):
        """Every group's docstring ends with the table of its fields (name, default with
        its unit, what it takes, doc), made from `FIELDS`: the API reference shows the one
        description."""
        super().__init_subclass__(**kwargs)
        if cls.FIELDS and cls.__doc__:
            cls.__doc__ = cls.__doc__.rstrip() + "\n\n" + _fields_table(cls.FIELDS)

    def __init__(self, **values):
        fields = self.fields()
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ParameterError(f"unknown parameter(s) {unknown} of {type(self).__name__}; "
                                 f"known: {sorted(fields)}")
        checked = {name: f.check(values[name] if name in values else f.default)
                   for name, f in fields.items()}
        object.__setattr__(self, "_values", checked)
        self._check_group()

    def _check_group(self):
        """Checks between fields of the group (subclasses)."""

    @classmethod
    def fields(cls):
        """``{name: Field}`` in declaration order."""
        return {f.name: f for f in cls.FIELDS}

    def __getattr__(self, name):
        try:
            return object.__getattribute__(self, "_values")[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no parameter {name!r}") from None

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is frozen: use .replace({name}=...)")

    def __eq__(self, other):
        return type(self) is type(other) and self.to_json() == other.to_json()

    def __hash__(self):
        return hash(repr(self))

    def __repr__(self):
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"{type(self).__name__}({inner})"

    def values(self):
        """``{name: value}`` (a copy)."""
        return dict(self._values)

    def replace(self, **changes):
        """A copy with ``changes`` (checked)."""
        return type(self)(**{**self._values, **changes})

    def to_json(self):
        """``{name: JSON value}``."""
        fields = self.fields()
        return {k: fields[k].to_json(v) for k, v in self._values.items()}

    @classmethod
    def from_json(cls, d):
        """A group from its JSON form (or any ``{name: value}``)."""
        return cls(**d)


def _fields_table(fields):
    """An RST list-table of ``fields`` (indented for a class docstring)."""
    rows = ["    .. list-table:: Fields", "       :header-rows: 1", "       :widths: 20 20 60",
            "", "       * - name", "         - default", "         - meaning"]
    for f in fields:
        default = f.text(f.default).replace("*", "\\*")
        rows += [f"       * - ``{f.name}``", f"         - {default}",
                 f"         - {f.doc}; {f.expects()}".replace("*", "\\*").replace("`", "'")]
    return "\n".join(rows) + "\n"


def _time(name, default, doc, **kw):
    return Field(name, default, doc, unit="ms", **kw)


def _rate(name, default, doc, **kw):
    return Field(name, default, doc, unit="Hz", **kw)


# --------------------------------------------------------------------------- LE layers
class Dynamics(ParameterGroup):
    """Neuron dynamics of a layered LE network (docs/model.md §1)."""

    key = "dynamics"
    FIELDS = (
        Field("activation", "tanh", "rate function of the hidden layers",
              kind="str", choices=ACTIVATIONS),
        Field("output_activation", "linear", "rate function of the output layer",
              kind="str", choices=ACTIVATIONS),
        _time("tau_m", 10 * ms, "membrane time constant", low=0, per_layer=True),
        _time("tau_r", None, "prospective time constant (default: tau_m)", low=0,
              low_open=False, optional=True, per_layer=True),
        Field("prospective", True, "prospective rates (false: the lagged baseline, "
              "tau_r = 0)", kind="bool"),
        Field("beta", 0.1, "output nudging strength", low=0, low_open=False),
        Field("target_type", "voltage", "output error from the voltage or the rate",
              kind="str", choices=TARGET_TYPES),
        Field("scheme", "sweep", "discrete-time scheme (docs/model.md §1.2, §1.3)",
              kind="str", choices=SCHEMES),
        Field("hand_down", "error", "what a layer passes down: its held error or its "
              "mismatch", kind="str", choices=HAND_DOWN),
    )


class Learning(ParameterGroup):
    """Plasticity of a layered LE network and its schedule over epochs."""

    key = "learning"
    FIELDS = (
        _rate("learning_rates", 0 * Hz, "eta per layer (weights and biases)", low=0,
              low_open=False, per_layer=True),
        Field("weight_scale", None, "initial weights and biases ~ N(0, weight_scale) "
              "(default: weights N(0, 1/n_pre), biases 0)", low=0, optional=True),
    )


class Spiking(ParameterGroup):
    """The spiking view (docs/model.md §5)."""

    key = "spiking"
    FIELDS = (
        Field("spiking", False, "spiking layers: Poisson spikes at r_max phi, read "
              "through a trace", kind="bool"),
        Field("n_per_unit", 1, "Brian2 neurons per rate unit", kind="int", low=0),
        _rate("r_max", 10 * kHz, "rate at phi = 1", low=0),
        _time("tau_s", 1 * ms, "time constant of the spike trace", low=0),
        _time("t_ref", None, "absolute refractory period of a spiking neuron (a whole "
              "number of steps dt, below 1/r_max; its rate stays r_max phi)", low=0,
              low_open=False, optional=True),
        Field("spiking_output", True, "the output layer spikes too", kind="bool"),
        Field("spike_draw", "neurons", "how spikes are drawn: one draw per neuron and step, "
              "or one binomial count per unit and step (cost per spike; same statistics)",
              kind="str", choices=SPIKE_DRAWS),
        Field("prospective_trace", False, "projections read the prospective trace "
              "x + tau_s dx/dt instead of x (no synaptic lag)", kind="bool"),
        _rate("max_rate", None, "largest rate of a spiking neuron (it fires at "
              "min(r_max phi, max_rate))", low=0, optional=True),
    )

    def _check_group(self):
        if self.t_ref is not None and not float(self.t_ref * self.r_max) < 1:
            raise ParameterError(f"parameter t_ref: {float(self.t_ref / ms):g} ms must be "
                                 f"shorter than 1/r_max = {float(1 / self.r_max / ms):g} ms "
                                 f"(r_max = {float(self.r_max / Hz):g} Hz)")


#: The options of a spiking view (of a rate network, a sweep, a recording), besides
#: ``spiking`` and ``spiking_output``.
SPIKING_VIEW = ("n_per_unit", "r_max", "tau_s", "t_ref", "spike_draw", "prospective_trace",
                "max_rate")


class Substrate(ParameterGroup):
    """Substrate imperfections (docs/model.md §1.8, paper Fig. 4)."""

    key = "substrate"
    FIELDS = (
        Field("tau_jitter", 0.0, "sigma of the per-neuron tau_m and tau_r factors "
              "N(1, sigma^2)", kind="any"),
        _time("tau_bounds", (1 * ms, 1000 * ms), "range of jittered and learned time "
              "constants", low=0, pair=True),
        Field("tau_learning", None, "learn this time constant locally", kind="str",
              choices=TAU_LEARNING, optional=True),
        Field("eta_tau", 0 * second, "rate of the time-constant learning", unit="ms",
              low=0, low_open=False),
        Field("rate_noise", None, "white-noise density on the rates", unit="ms**0.5",
              low=0, low_open=False, optional=True),
        _time("tau_syn", None, "synaptic low-pass filter of the rates", low=0,
              optional=True),
        Field("filter_target", True, "with tau_syn: the target passes the same filter",
              kind="bool"),
    )

    def _check_group(self):
        from .. import substrate

        try:
            substrate.check_jitter(self.tau_jitter)
        except (TypeError, ValueError) as err:
            raise ParameterError(f"parameter tau_jitter: {err}") from None


class Simulation(ParameterGroup):
    """Time step, seed and where the network runs (docs/model.md §4)."""

    key = "simulation"
    FIELDS = (
        _time("dt", 0.1 * ms, "Euler time step", low=0),
        Field("seed", 0, "seed of the weight initialisation and every random draw",
              kind="int"),
        Field("device", "cpp_standalone", "Brian2 device", kind="str", choices=DEVICES),
        Field("codegen_target", "auto", "runtime code generation target", kind="str",
              choices=CODEGEN_TARGETS),
        Field("dtype", "float64", "floating-point type of every state variable",
              kind="str", choices=DTYPES),
        Field("threads", 0, "OpenMP threads (cpp_standalone)", kind="int", low=0,
              low_open=False),
        Field("synapses", "dense", "how projections are simulated (one for all or one per "
              "projection)", kind="str", choices=SYNAPSE_KINDS, per_layer=True),
    )


# ------------------------------------------------------------------------- microcircuit
class MicrocircuitDynamics(ParameterGroup):
    """Conductances and read-out of the cortical microcircuit (docs/model.md §2)."""

    key = "dynamics"
    _g = dict(low=0, low_open=False)
    FIELDS = (
        Field("mode", "le", "LE (prospective) or the original microcircuit", kind="str",
              choices=MODES),
        Field("g_l", 0.03 / ms, "leak conductance", unit="/ ms", **_g),
        Field("g_b", 0.1 / ms, "basal dendrite -> soma conductance", unit="/ ms", low=0),
        Field("g_a", 0.06 / ms, "apical dendrite -> soma conductance", unit="/ ms", **_g),
        Field("g_d", 0.1 / ms, "dendritic conductance of the self-predicting "
              "initialisation", unit="/ ms", low=0),
        Field("g_som", 0.06 / ms, "somatic nudging conductance", unit="/ ms", **_g),
        _time("tau_0", None, "input / target low-pass filter (default: dt)", low=0,
              optional=True),
        Field("init", "self_predicting", "initial weights", kind="str", choices=INITS),
        Field("activation", "soft_relu", "rate function of every cell", kind="str",
              choices=ACTIVATIONS),
        _time("out_lag", 0 * ms, "read-out lag inside a presentation", low=0,
              low_open=False),
    )
    del _g


class MicrocircuitLearning(ParameterGroup):
    """Plasticity of the microcircuit (per hidden layer / projection, in 1/ms)."""

    key = "learning"
    FIELDS = tuple(
        Field(name, 0 / ms, doc, unit="/ ms", low=0, low_open=False, per_layer=True)
        for name, doc in (("eta_up", "learning rates of the bottom-up weights"),
                          ("eta_ip", "learning rates of the interneuron weights"),
                          ("eta_pi", "learning rates of the interneuron -> pyramidal "
                           "weights")))


class MicrocircuitSpiking(Spiking):
    """The spiking view of the microcircuit (its r_max default is 2 kHz)."""

    FIELDS = tuple(_rate("r_max", 2 * kHz, f.doc, low=0) if f.name == "r_max" else f
                   for f in Spiking.FIELDS)


# ----------------------------------------------------------------------------- training
class Training(ParameterGroup):
    """A training run (`le-brian train`): data, presentation and epochs."""

    key = "training"
    FIELDS = (
        Field("dataset", "yinyang", "dataset name (le_brian.datasets.available())",
              kind="str"),
        Field("dataset_kwargs", {}, "options of the dataset loader (e.g. path)",
              kind="dict"),
        Field("hidden", [120], "hidden layer sizes", kind="ints"),
        Field("conv", None, "convolution and pooling layers before the hidden ones, e.g. "
              "'c20k5,m2,c50k5,m2' (c<channels>k<kernel>[s<stride>][p<padding>]; "
              "m<size> / a<size>[s<stride>][p<padding>]: max / average pooling)",
              kind="str", optional=True),
        Field("image_shape", None, "input image shape C,H,W (needed with conv)",
              kind="ints", optional=True),
        _time("presentation_time", 1 * ms, "time each sample is shown", low=0),
        Field("epochs", 10, "training epochs", kind="int", low=0),
        Field("lr_decay", 1.0, "factor applied to every learning rate after each epoch",
              low=0),
        _time("lr_reference", None, "scale the learning rates by lr_reference / "
              "presentation_time", low=0, optional=True),
        Field("eval_every", 1, "evaluate every N epochs (and after the last)", kind="int",
              low=0),
        Field("readout_fraction", 0.5, "class read out from this last fraction of each "
              "presentation", low=0, high=1),
        Field("n_train", None, "use only the first N training samples", kind="int", low=0,
              optional=True),
        Field("n_val", None, "use only the first N validation samples", kind="int", low=0,
              optional=True),
        Field("n_test", None, "use only the first N test samples", kind="int", low=0,
              optional=True),
        Field("target_on", 1.0, "target of the true class"),
        Field("target_off", 0.0, "target of the other classes"),
        Field("tau_learning_epochs", 0, "passes of time-constant learning before epoch 0",
              kind="int", low=0, low_open=False),
        Field("tau_learning_in_training", False, "time-constant learning during training "
              "too", kind="bool"),
    )


class MicrocircuitTraining(ParameterGroup):
    """A microcircuit run (`le-brian train --model microcircuit_bars`): the bars protocol
    or a classification dataset, with the protocols' rules (docs/model.md §2.4, §3.5)."""

    key = "training"
    _T = Training.fields()
    FIELDS = (
        Field("model", "microcircuit_bars", "the parameter set the run was made from",
              kind="str"),
        Field("protocol", "bars", "the bars patterns or a classification dataset",
              kind="str", choices=MICROCIRCUIT_PROTOCOLS),
        Field("dataset", None, "classification protocol: dataset name", kind="str",
              optional=True),
        replace(_T["hidden"], default=[30]), _T["presentation_time"], _T["epochs"],
        _T["lr_decay"],
        Field("lr_decay_every", 1, "apply lr_decay once every N epochs (a step schedule: "
              "the learning rates of epoch e are times lr_decay ** ((e - 1) // N))",
              kind="int", low=0),
        _T["eval_every"], _T["target_on"],
        replace(_T["target_off"], default=0.1), _T["n_train"], _T["n_val"], _T["n_test"],
        # the mimic protocol (docs/model.md §3.6): values in models/microcircuit_mimic.py
        Field("teacher_seed", None, "mimic: seed of the teacher's weights and inputs",
              kind="int", optional=True),
        Field("teacher_init", None, "mimic: initial weights of the teacher", kind="str",
              choices=INITS, optional=True),
        Field("n_patterns", None, "mimic: input patterns U(0, 1) the teacher labels",
              kind="int", low=0, optional=True),
        Field("self_prediction_epochs", None, "mimic: epochs of the self-prediction phase "
              "(no nudging, learning on) before epoch 0", kind="int", low=0, low_open=False,
              optional=True),
        *(replace(f, name=f"self_prediction_{f.name}", default=None, optional=True,
                  doc=f"mimic: {f.doc} in the self-prediction phase")
          for f in MicrocircuitLearning.FIELDS),
    )
    del _T
    #: The fields the mimic protocol needs (and the other protocols leave null).
    MIMIC = ("teacher_seed", "teacher_init", "n_patterns", "self_prediction_epochs",
             "self_prediction_eta_up", "self_prediction_eta_ip", "self_prediction_eta_pi")

    def _check_group(self):
        if (self.dataset is None) != (self.protocol in ("bars", "mimic")):
            raise ParameterError("parameter dataset: the bars protocol has its own 8 patterns "
                                 "and the mimic protocol its teacher's (null); a "
                                 "classification protocol needs a dataset")
        for name in self.MIMIC:
            if (getattr(self, name) is None) == (self.protocol == "mimic"):
                raise ParameterError(f"parameter {name}: the mimic protocol needs it, the "
                                     f"others leave it null (protocol {self.protocol!r})")


# ---------------------------------------------------------------------- parameter sets
class ParameterSet:
    """Several groups under one flat namespace (every field name is unique in a set).

    ``Set(**values)`` sorts the values into the groups (unknown names are an error);
    attributes read any field; `to_json` gives ``{group key: {name: value}}`` and
    `from_json` reads that form, a flat ``{name: value}`` and the run folders of
    le_brian <= 0.2.0 (unit in the name: ``tau_m_ms``).
    """

    GROUPS = ()
    #: Defaults that differ from the groups' in this context (``{name: value}``).
    DEFAULTS = {}

    def __init__(self, **values):
        owner = self.owners()
        unknown = sorted(set(values) - set(owner))
        if unknown:
            raise ParameterError(f"unknown parameter(s) {unknown}; known: {sorted(owner)}")
        per_group = {g: {} for g in self.GROUPS}
        for name, value in {**self.DEFAULTS, **values}.items():
            per_group[owner[name]][name] = value
        object.__setattr__(self, "groups", {g.key: g(**v) for g, v in per_group.items()})
        self._check_set()

    def _check_set(self):
        """Checks across groups (subclasses)."""

    @classmethod
    def fields(cls):
        """``{name: Field}`` of every group, with this set's defaults."""
        out = {}
        for g in cls.GROUPS:
            for name, f in g.fields().items():
                if name in cls.DEFAULTS:
                    f = replace(f, default=cls.DEFAULTS[name])
                out[name] = f
        return out

    @classmethod
    def check_arguments(cls, values, none_is_default=()):
        """Check the keyword arguments of a network constructor with this set's fields
        (`Field.check_argument`: units, ranges, choices; a per-layer time also takes one
        array per layer), so that a constructor writes no check of its own for them.

        Parameters
        ----------
        values : dict
            ``{keyword: value}`` (e.g. the constructor's ``locals()``); names that are no
            field of the set are left to the constructor. An object whose ``name`` is
            among a field's choices (an `le_brian.activations` activation) is checked by
            its name.
        none_is_default : sequence of str
            Keywords whose None means "the constructor's default" (not checked).

        Returns
        -------
        dict
            ``{field name: checked value}`` of the fields among ``values``.

        Raises
        ------
        ParameterError
            The first value its field refuses (names the parameter and what it expects;
            a `ParameterUnitError` for a missing or wrong unit).
        """
        fields = cls.fields()
        out = {}
        for name, value in values.items():
            f = fields.get(name)
            if f is None or (value is None and name in none_is_default):
                continue
            if f.choices is not None and getattr(value, "name", None) in f.choices:
                value = value.name
            out[name] = f.check_argument(value)
        return out

    @classmethod
    def owners(cls):
        """``{name: group class}``: which group holds each field."""
        return {name: g for g in cls.GROUPS for name in g.fields()}

    def __getattr__(self, name):
        for g in object.__getattribute__(self, "groups").values():
            if name in g.fields():
                return getattr(g, name)
        raise AttributeError(f"{type(self).__name__} has no parameter {name!r}")

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is frozen: use .replace({name}=...)")

    def __eq__(self, other):
        return type(self) is type(other) and self.to_json() == other.to_json()

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(map(repr, self.groups.values()))})"

    def values(self):
        """``{name: value}`` of every field."""
        return {k: v for g in self.groups.values() for k, v in g.values().items()}

    def replace(self, **changes):
        """A copy with ``changes`` (checked)."""
        return type(self)(**{**self.values(), **changes})

    def to_json(self):
        """``{group key: {name: JSON value}}`` (Quantities as text with units)."""
        return {key: g.to_json() for key, g in self.groups.items()}

    def flat_json(self):
        """``{name: JSON value}`` of every field (one level)."""
        return {k: v for g in self.to_json().values() for k, v in g.items()}

    @classmethod
    def from_json(cls, d):
        """Read the grouped form, a flat form, or a 0.2.0 run folder's flat form."""
        if not isinstance(d, dict):
            raise ParameterError(f"parameters must be a table, got {d!r}")
        keys = {g.key for g in cls.GROUPS}
        flat = {}
        for k, v in d.items():
            if k in keys and isinstance(v, dict):
                flat.update(v)
            else:
                flat[k] = v
        return cls(**cls.migrate(flat))

    #: The name of `from_json` in le_brian <= 0.2.0 (``TrainConfig.from_dict``).
    from_dict = from_json

    @classmethod
    def migrate(cls, flat):
        """Rename the fields of le_brian <= 0.2.0 (``tau_m_ms: 10`` -> ``tau_m: 10 ms``)."""
        legacy = {f.legacy_name: f for f in cls.fields().values() if f.legacy_name}
        out = {}
        for k, v in flat.items():
            if k not in legacy:
                out[k] = v
                continue
            f = legacy[k]
            try:
                out[f.name] = f.check(f.from_legacy(v))
            except ParameterError as err:  # name the parameter as the user wrote it
                raise ParameterError(f"parameter {k} ({f.legacy_unit_doc}): "
                                     f"{err}") from None
        return out


class LENetworkParameters(ParameterSet):
    """Every parameter of a layered `LENetwork` but its architecture."""

    GROUPS = (Dynamics, Learning, Spiking, Substrate, Simulation)


class MicrocircuitParameters(ParameterSet):
    """Every parameter of a `Microcircuit` but its architecture."""

    GROUPS = (MicrocircuitDynamics, MicrocircuitLearning, MicrocircuitSpiking, Simulation)


class MicrocircuitTrainingParameters(ParameterSet):
    """A microcircuit training run: the microcircuit's parameters and the protocol's."""

    GROUPS = (MicrocircuitTraining, MicrocircuitDynamics, MicrocircuitLearning,
              MicrocircuitSpiking, Simulation)


class TrainingParameters(ParameterSet):
    """A `le-brian train` run of a layered network: the network's parameters and the
    training protocol's. Its defaults differ from a bare network's in two places: the
    learning rates (100 Hz) and a non-spiking output layer."""

    GROUPS = (Training, Dynamics, Learning, Spiking, Substrate, Simulation)
    DEFAULTS = {"learning_rates": 100 * Hz, "spiking_output": False}

    def _check_set(self):
        if self.tau_learning is None and (self.tau_learning_epochs
                                          or self.tau_learning_in_training):
            raise ParameterError("parameters tau_learning_epochs / tau_learning_in_training "
                                 "need tau_learning ('tau_m' or 'tau_r')")
        lr = self.learning_rates
        n_layers = self.n_learnable()
        if isinstance(lr, list) and len(lr) != n_layers:
            raise ParameterError(f"parameter learning_rates must have one value or "
                                 f"{n_layers} (one per layer with parameters), got {len(lr)}")
        if self.image_shape is not None and len(self.image_shape) != 3:
            raise ParameterError(f"parameter image_shape must be C,H,W, got "
                                 f"{self.image_shape!r}")
        if self.conv is not None and self.image_shape is None:
            raise ParameterError("parameter conv needs image_shape (C,H,W of the input)")

    def n_learnable(self):
        """Number of layers with parameters: the convolutions of ``conv``, the hidden
        layers and the output layer."""
        if self.conv is None:
            return len(self.hidden) + 1
        from ..engine.conv_geometry import parse_layers

        try:
            spatial = parse_layers(self.conv)
        except ValueError as err:
            raise ParameterError(f"parameter {err}") from None
        return sum(t[0] == "conv" for t in spatial) + len(self.hidden) + 1

    def learning_rates_of_epoch(self, epoch=0):
        """Learning rates (Quantities, one per layer with parameters) used during
        ``epoch`` (0-based)."""
        n_layers = self.n_learnable()
        lr = self.learning_rates
        rates = list(lr) if isinstance(lr, list) else [lr] * n_layers
        scale = self.lr_decay ** epoch
        if self.lr_reference is not None:
            scale *= float(self.lr_reference / ms) / float(self.presentation_time / ms)
        return [float(r / Hz) * scale * Hz for r in rates]
