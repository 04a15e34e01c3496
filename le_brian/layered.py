r"""Layered Latent Equilibrium networks in Brian2.

`LENetwork` assembles the equation strings of :mod:`le_brian.equations` into Brian2
groups and schedules them explicitly (slot ``groups``; Brian2 would otherwise break
ties by object name), in one of two discrete-time schemes (DESIGN.md section 1).

``scheme="sweep"`` (default, "instantaneous sweep"), step k, layers l = 1..L:

==================  ====================================================================
order               operation
==================  ====================================================================
``before_groups``   input rates r_0 of step k from a TimedArray
``10 l``            summed updater of projection l: I_ff_l = W_l r_{l-1}
``10 l + 1``        layer l: ub_l = u_l + tau_r du_l/dt, r_l = phi(ub_l), rp_l = phi'(ub_l)
``999``             (mismatch hand-down only) mismatch_l = u_l - I_ff_l - b_l
``1000 + L - l``    summed updater of projection l >= 2: I_fb_{l-1} = W_l^T e_l (held e_l)
``2000``            plasticity: W_l += dt eta_l e_l r_{l-1}^T (held e_l, rates of step k)
``3000``            membranes and biases: u_l += dt du_l/dt, b_l += dt eta_l e_l
``4000``            new errors: e_L from the target of step k, e_l = rp_l I_fb_l
``end``             monitors
==================  ====================================================================

Inference is exactly instantaneous: the output of step k reflects the input of step k
at any depth; errors move down one layer per step.

``scheme="reference"`` is the authors' synchronous (Jacobi) step: every layer advances
from the rates of step k-1, so it reads values before any layer has overwritten them:

==================  ====================================================================
order               operation
==================  ====================================================================
``before_groups``   input rates of step k
``10 + l``          I_ff_l = W_l r_{l-1}  (r_{l-1} of step k-1; r_0 of step k)
``999``             (mismatch hand-down only) mismatch_l = u_l - I_ff_l - b_l
``1000 + L - l``    I_fb_{l-1} = W_l^T e_l (held e_l, weights of step k-1)
``1500``            new errors eps_new: e_L from last step's ub_L (r_L, rp_L) and the
                    target of step k; hidden: rp_l (of step k-1) I_fb_l
``2000``            plasticity with the new errors: W_l += dt eta_l eps_new_l r_{l-1}^T
``2500 + l``        ub_l, r_l, rp_l from I_ff_l and the held error
``3000``            u_l += dt du_l/dt, b_l += dt eta_l eps_new_l
``4000``            e_l = eps_new_l (enters the membranes in step k+1)
==================  ====================================================================

The output of step k then reflects the input of step k-L+1.
"""

from dataclasses import dataclass, field

import numpy as np
from brian2 import Clock, Hz, Network, NeuronGroup, StateMonitor, Synapses, TimedArray, ms, second

from . import equations as eq
from .dense import DenseSynapses, check_all_to_all
from .devices import Built, Simulator
from .validation import as_dimensionless, as_matrix, as_rate, as_time, per_neuron, steps_of

__all__ = ["LENetwork", "RunResult", "RECORDABLE", "SCHEMES", "authors_learning_rates"]

#: Variables of a layer that can be recorded.
RECORDABLE = ("u", "ub", "r", "rp", "eps", "I_ff", "I_fb", "b")

SCHEMES = ("sweep", "reference")
HAND_DOWN = ("error", "mismatch")
SYNAPSE_KINDS = ("dense", "plain")
MAX_LAYERS = 90  # keeps 10 l + 1 below the fixed orders


@dataclass(frozen=True)
class Schedule:
    """Orders (slot ``groups``) of every operation of one step, per scheme."""

    forward: object  # layer -> order of the I_ff summed updater
    prospective: object  # layer -> order of the ub / r / rp update
    new_error: int
    latch: object  # None: the new error is written into eps directly
    mismatch: int = 999
    feedback: int = 1000  # + L - l
    plasticity: int = 2000
    membrane: int = 3000


SCHEDULES = {
    "sweep": Schedule(forward=lambda l: 10 * l, prospective=lambda l: 10 * l + 1,
                      new_error=4000, latch=None),
    "reference": Schedule(forward=lambda l: 10 + l, prospective=lambda l: 2500 + l,
                          new_error=1500, latch=4000),
}


@dataclass
class RunResult:
    """Recordings of one `LENetwork.run`.

    Attributes
    ----------
    t : Quantity
        Times of the recorded steps (network time, continuing across runs).
    output : ndarray, shape (n_recorded, n_out)
        Output-layer rates at the end of every recorded step.
    states : dict
        ``states[l][var]``: recorded variable ``var`` of layer ``l`` (1-based),
        shape (n_recorded, n_l).
    steps_per_sample, record_every_steps, n_samples : int
    dt, presentation_time : Quantity
    build_time, run_time : float
        Wall-clock seconds spent building (0 when a compiled program was reused) and
        running.
    simulation_time : float or None
        Seconds of Brian2's simulation loop alone (standalone: measured inside the
        compiled program, without start-up and file transfers).
    compiled : bool
        Whether this run generated and compiled code (standalone devices).
    """

    t: object
    output: np.ndarray
    states: dict
    steps_per_sample: int
    record_every_steps: int
    n_samples: int
    dt: object
    presentation_time: object
    build_time: float = 0.0
    run_time: float = 0.0
    compiled: bool = False
    extra: dict = field(default_factory=dict)
    simulation_time: float = None

    def state(self, var, layer):
        """Recorded ``var`` of ``layer`` (1-based; the output layer is ``L``)."""
        try:
            return self.states[layer][var]
        except KeyError:
            raise KeyError(f"variable {var!r} of layer {layer} was not recorded; pass "
                           f"record={{ {layer}: [{var!r}] }} to run()") from None

    def sample_means(self, fraction=0.5, values=None):
        """Mean of the output over the last ``fraction`` of every presentation.

        Returns an array (n_samples, n_out). ``values`` (n_recorded, n) replaces
        the output, e.g. a recorded hidden variable.
        """
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        values = self.output if values is None else values
        per_sample = self.steps_per_sample // self.record_every_steps
        if per_sample * self.record_every_steps != self.steps_per_sample:
            raise ValueError("record_every must divide presentation_time for sample_means")
        v = values.reshape(self.n_samples, per_sample, -1)
        start = per_sample - max(1, int(round(fraction * per_sample)))
        return v[:, start:, :].mean(axis=1)


class LENetwork:
    r"""A layered Latent Equilibrium network simulated by Brian2.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_in, n_1, ..., n_L]``; at least one layer after the input.
    activation, output_activation : str
        Rate functions of hidden layers and output layer; names from
        `le_brian.equations.ACTIVATIONS` (tanh, sigmoid, hard_sigmoid, softplus,
        relu, linear, soft_relu).
    tau_m : Quantity
        Membrane time constant: a scalar, or one entry per layer (scalar or one value
        per neuron).
    tau_r : Quantity or None
        Prospective time constant, same forms as ``tau_m``; default ``tau_m``.
    prospective : bool
        ``False`` gives the lagged baseline: rates read from u (tau_r = 0).
    beta : float
        Output nudging strength.
    target_type : {'voltage', 'rate'}
        e_L = beta (target - ub_L) or beta phi'(ub_L) (target - r_L).
    learning_rates : Quantity or sequence of Quantity
        eta_l in Hz, one per layer (or one for all); weights and biases of layer l
        learn with eta_l. Default: 0 Hz (no plasticity).
    dt : Quantity
        Euler time step.
    seed : int
        Seed of the weight initialisation.
    weight_scale : float or None
        Initial weights and biases ~ N(0, weight_scale) (the paper's MNIST set-up uses
        0.05); None: weights ~ N(0, 1/n_pre), biases 0.
    device : {'runtime', 'cpp_standalone', 'cuda_standalone'}
    codegen_target : {'auto', 'numpy', 'cython'}
        Runtime code generation target.
    keep_builds : bool
        Keep standalone build directories (in `le_brian.devices.cache_dir`).
    threads : int
        OpenMP threads (cpp_standalone).
    simulator : le_brian.devices.Simulator, optional
        Where compiled programs are kept. Default: one per device configuration shared
        by the whole process, so networks of equal structure reuse each other's builds.
    scheme : {'sweep', 'reference'}
        Discrete-time scheme: the package's instantaneous sweep (default) or the
        authors' synchronous step (module docstring; DESIGN.md section 1).
    hand_down : {'error', 'mismatch'}
        What a layer passes down to the layer below: its held error e_l (default), or
        the mismatch u_l - I_l taken before the Euler update (the authors' lagged run).
    dtype : {'float64', 'float32'}
        Floating-point type of every state variable (the authors' code computes in
        float32).
    synapses : {'dense', 'plain'} or sequence of them
        How projections are simulated: 'dense' (default) uses
        `le_brian.dense.DenseSynapses` (dense code templates on cpp_standalone and
        cuda_standalone, Brian2's own templates in runtime mode); 'plain' uses
        `brian2.Synapses` with its index arrays. One value for all projections or one
        per projection. Both give the same results (to rounding).

    Notes
    -----
    State (u, errors, weights, biases) persists across `run` calls; `reset_state`
    zeroes the dynamic variables. Parameters are set with `set_parameters`.

    References
    ----------
    P. Haider, B. Ellenberger, L. Kriener, J. Jordan, W. Senn, M. A. Petrovici (2021).
    Latent Equilibrium: A unified learning theory for arbitrarily fast computation
    with arbitrarily slow neurons. NeurIPS 34. arXiv:2110.14549.
    """

    def __init__(
        self,
        layer_sizes,
        activation="tanh",
        output_activation="linear",
        tau_m=10 * ms,
        tau_r=None,
        prospective=True,
        beta=0.1,
        target_type="voltage",
        learning_rates=None,
        dt=0.1 * ms,
        seed=0,
        weight_scale=None,
        device="runtime",
        codegen_target="auto",
        keep_builds=False,
        threads=0,
        simulator=None,
        scheme="sweep",
        hand_down="error",
        dtype="float64",
        synapses="dense",
    ):
        sizes = list(layer_sizes) if isinstance(layer_sizes, (list, tuple, np.ndarray)) else None
        if (
            sizes is None
            or len(sizes) < 2
            or not all(isinstance(n, (int, np.integer)) and n > 0 for n in sizes)
        ):
            raise ValueError(
                f"layer_sizes must be a list of at least two positive ints "
                f"[n_in, ..., n_out], got {layer_sizes!r}"
            )
        self.layer_sizes = [int(n) for n in sizes]
        self.n_layers = len(sizes) - 1
        self.activation = eq.get_activation(activation).name
        self.output_activation = eq.get_activation(output_activation).name
        eq.output_error_code(target_type, "x")  # validates target_type
        self.target_type = target_type
        self.dt = float(as_time("dt", dt))
        hidden = self.layer_sizes[1:]
        self._tau_m = per_neuron("tau_m", tau_m, hidden, as_time)
        if tau_r is None:
            self._tau_r = [t.copy() for t in self._tau_m]
        else:
            self._tau_r = per_neuron(
                "tau_r", tau_r, hidden, lambda n, v: as_time(n, v, allow_zero=True))
        self.prospective = bool(prospective)
        self.beta = float(as_dimensionless("beta", beta, nonnegative=True))
        self.set_learning_rates(0 * Hz if learning_rates is None else learning_rates)
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        self.scheme = scheme
        if hand_down not in HAND_DOWN:
            raise ValueError(f"hand_down must be one of {HAND_DOWN}, got {hand_down!r}")
        self.hand_down = hand_down
        if self.n_layers > MAX_LAYERS:
            raise ValueError(f"layer_sizes: at most {MAX_LAYERS} layers are supported")
        self.synapses = _projection_kinds(synapses, self.n_layers)
        self.seed = int(seed)
        self.weight_scale = None if weight_scale is None else float(weight_scale)
        if simulator is None:
            simulator = Simulator.shared(device, codegen_target=codegen_target,
                                         keep_builds=keep_builds, threads=threads, dtype=dtype)
        elif (not isinstance(simulator, Simulator) or simulator.device != device
              or simulator.dtype != dtype):
            raise ValueError(f"simulator must be a le_brian.devices.Simulator for "
                             f"device={device!r}, dtype={dtype!r}")
        self._sim = simulator
        self.n_builds = 0  # programs compiled by this network's runs
        self.build_directories = []
        self.device = device
        self.t = 0.0  # network time in seconds, continues across runs
        self._init_parameters()
        self.reset_state()

    # ------------------------------------------------------------------ parameters
    def _init_parameters(self):
        rng = np.random.default_rng(self.seed)
        self._weights, self._biases = [], []
        for n_pre, n_post in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            if self.weight_scale is None:
                self._weights.append(rng.normal(0, 1 / np.sqrt(n_pre), (n_post, n_pre)))
                self._biases.append(np.zeros(n_post))
            else:
                self._weights.append(rng.normal(0, self.weight_scale, (n_post, n_pre)))
                self._biases.append(rng.normal(0, self.weight_scale, n_post))

    def get_parameters(self):
        """Copies of the weights (list of (n_l, n_{l-1}) arrays) and biases."""
        return [w.copy() for w in self._weights], [b.copy() for b in self._biases]

    def set_parameters(self, weights=None, biases=None):
        """Set weights (list of (n_l, n_{l-1}) arrays) and/or biases (list of (n_l,))."""
        if weights is not None:
            if len(weights) != self.n_layers:
                raise ValueError(f"weights must be a list of {self.n_layers} arrays, "
                                 f"got {len(weights)}")
            self._weights = [
                as_matrix(f"weights[{k}]", w, (self.layer_sizes[k + 1], self.layer_sizes[k]))
                for k, w in enumerate(weights)]
        if biases is not None:
            if len(biases) != self.n_layers:
                raise ValueError(f"biases must be a list of {self.n_layers} arrays, "
                                 f"got {len(biases)}")
            self._biases = [as_matrix(f"biases[{k}]", b, (self.layer_sizes[k + 1],))
                            for k, b in enumerate(biases)]

    def set_learning_rates(self, learning_rates):
        """Set eta_l (Quantity in Hz, one for all layers or one per layer)."""
        if isinstance(learning_rates, (list, tuple)):
            if len(learning_rates) != self.n_layers:
                raise ValueError(
                    f"learning_rates must have one entry per layer ({self.n_layers}), "
                    f"got {len(learning_rates)}")
            self._eta = [float(as_rate(f"learning_rates[{k}]", v))
                         for k, v in enumerate(learning_rates)]
        else:
            self._eta = [float(as_rate("learning_rates", learning_rates))] * self.n_layers

    def save_parameters(self, path):
        """Write weights and biases to an ``.npz`` file (arrays W1.., b1..)."""
        w, b = self.get_parameters()
        np.savez(path, **{f"W{k + 1}": a for k, a in enumerate(w)},
                 **{f"b{k + 1}": a for k, a in enumerate(b)})

    def load_parameters(self, path):
        """Read weights and biases written by `save_parameters`."""
        with np.load(path) as f:
            missing = [k for k in (f"W{l}" for l in range(1, self.n_layers + 1)) if k not in f]
            if missing:
                raise ValueError(f"{path}: missing arrays {missing} for a network with "
                                 f"{self.n_layers} layers")
            self.set_parameters([f[f"W{l}"] for l in range(1, self.n_layers + 1)],
                                [f[f"b{l}"] for l in range(1, self.n_layers + 1)])

    @property
    def tau_m(self):
        """Membrane time constants, one array per layer (Quantity)."""
        return [t * second for t in self._tau_m]

    @property
    def tau_r(self):
        """Prospective time constants actually used (0 ms in the lagged baseline)."""
        return [t * second for t in self._effective_tau_r()]

    def _effective_tau_r(self):
        return self._tau_r if self.prospective else [np.zeros_like(t) for t in self._tau_r]

    @property
    def learning_rates(self):
        return [e * Hz for e in self._eta]

    def reset_state(self):
        """Zero every dynamic variable (u, ub, r, phi'(ub), held errors)."""
        self._dyn = {
            l: {v: np.zeros(n) for v in ("u", "eps", "ub", "r", "rp")}
            for l, n in enumerate(self.layer_sizes[1:], start=1)
        }

    def get_state(self):
        """Copies of the dynamic variables: ``{layer: {var: array}}``."""
        return {l: {v: a.copy() for v, a in d.items()} for l, d in self._dyn.items()}

    def set_state(self, state):
        """Set dynamic variables from ``{layer: {var: array}}`` (as `get_state` returns;
        missing entries keep their values)."""
        for l, variables in state.items():
            if l not in self._dyn:
                raise ValueError(f"state: layer must be in 1..{self.n_layers}, got {l!r}")
            for var, value in variables.items():
                if var not in self._dyn[l]:
                    raise ValueError(f"state: unknown variable {var!r}; expected one of "
                                     f"{sorted(self._dyn[l])}")
                self._dyn[l][var] = as_matrix(f"state[{l}][{var!r}]", value,
                                              (self.layer_sizes[l],))

    # ------------------------------------------------------------------ building
    def _build(self, tables, steps_per_sample, record, record_every_steps):
        L, dt = self.n_layers, self.dt * second
        sched = SCHEDULES[self.scheme]
        reference = self.scheme == "reference"
        error = "eps_new" if reference else "eps"
        hand_down = "mismatch" if self.hand_down == "mismatch" else "eps"
        clock = Clock(dt, name="le_clock")
        presentation = steps_per_sample * dt
        inputs = TimedArray(tables["le_input"], dt=presentation, name="le_input")
        targets = TimedArray(tables["le_target"], dt=presentation, name="le_target")
        namespace = {"le_input": inputs, "le_target": targets}

        layer0 = NeuronGroup(self.layer_sizes[0], eq.INPUT_LAYER, clock=clock, name="layer0")
        layer0.run_regularly(eq.INPUT_UPDATE.format(source="le_input"),
                             when="before_groups", name="layer0_input")
        groups, projections, state = [layer0], [], {}
        for l in range(1, L + 1):
            act = self.output_activation if l == L else self.activation
            g = NeuronGroup(self.layer_sizes[l], eq.layer_equations(l == L, self.scheme,
                                                  hand_down == "mismatch"),
                            method="euler", clock=clock, name=f"layer{l}")
            g.state_updater.order = sched.membrane
            g.run_regularly(eq.prospective_code(act), when="groups",
                            order=sched.prospective(l), name=f"layer{l}_prospective")
            err = (eq.output_error_code(self.target_type, "le_target", error) if l == L
                   else eq.hidden_error_code(error))
            g.run_regularly(err, when="groups", order=sched.new_error, name=f"layer{l}_error")
            if reference:
                g.run_regularly(eq.LE_LATCH_ERROR, when="groups", order=sched.latch,
                                name=f"layer{l}_latch")
            if hand_down == "mismatch" and l >= 2:
                g.run_regularly(eq.LE_MISMATCH, when="groups", order=sched.mismatch,
                                name=f"layer{l}_mismatch")
            projection_class = DenseSynapses if self.synapses[l - 1] == "dense" else Synapses
            s = projection_class(groups[-1], g,
                                 model=eq.projection_equations(l >= 2, learn_from=error,
                                                               hand_down=hand_down),
                                 method="euler", clock=clock, name=f"proj{l}")
            s.connect()
            s.summed_updaters["I_ff_post"].order = sched.forward(l)
            if l >= 2:
                s.summed_updaters["I_fb_pre"].order = sched.feedback + L - l
            s.state_updater.order = sched.plasticity
            groups.append(g)
            projections.append(s)
            for var in ("u", "eps", "ub", "r", "rp", "b", "tau_m", "tau_r", "eta_b"):
                state[f"{l}.{var}"] = (g, var)
            state[f"{l}.w"] = (s, "w")
            state[f"{l}.eta"] = (s, "eta")
        state["beta"] = (groups[-1], "beta")

        monitors = {}
        for l, variables in record.items():
            monitors[f"layer{l}"] = StateMonitor(groups[l], list(variables), record=True,
                                                 when="end", dt=record_every_steps * dt,
                                                 name=f"monitor_layer{l}")
        net = Network(groups, projections, list(monitors.values()))
        return Built(net, state, {"le_input": inputs, "le_target": targets}, monitors,
                     namespace, checks=[self._check_layout])

    def _structure(self):
        """What a compiled program depends on besides the run's shape (all numeric
        parameters are set per run)."""
        return ("LENetwork", tuple(self.layer_sizes), self.activation, self.output_activation,
                self.target_type, self.dt, self.scheme, self.hand_down, tuple(self.synapses))

    def _check_layout(self, built):
        """The weight arrays assume connect()'s pre-major layout: verify it once."""
        for l in range(1, self.n_layers + 1):
            check_all_to_all(built.state[f"{l}.w"][0], f"projection {l}")

    # ------------------------------------------------------------------ running
    def _parse_record(self, record):
        L = self.n_layers
        rec = {L: ["r"]}
        if record is None:
            return rec
        if isinstance(record, (list, tuple, str)):
            record = {l: record for l in range(1, L + 1)}
        if not isinstance(record, dict):
            raise TypeError("record must be a list of variable names (all layers) or a dict "
                            "{layer: [names]}")
        for l, names in record.items():
            if not isinstance(l, (int, np.integer)) or not 1 <= l <= L:
                raise ValueError(f"record: layer must be an int in 1..{L}, got {l!r}")
            names = [names] if isinstance(names, str) else list(names)
            for n in names:
                if n not in RECORDABLE:
                    raise ValueError(f"record: unknown variable {n!r}; expected one of "
                                     f"{RECORDABLE}")
            rec[int(l)] = sorted(set(rec.get(int(l), [])) | set(names))
        return rec

    def _prepare(self, inputs, presentation_time, targets, learn, record, record_every):
        """Validate a run's arguments; return the program key, build function, duration,
        initial state and TimedArray values (and steps, record interval, record spec,
        number of samples)."""
        n_in, n_out = self.layer_sizes[0], self.layer_sizes[-1]
        x = as_matrix("inputs", inputs, (None, n_in), what="2D array (n_samples, n_in)")
        if x.shape[0] == 0:
            raise ValueError("inputs must contain at least one sample")
        steps = steps_of("presentation_time", presentation_time, self.dt)
        if targets is not None:
            y = as_matrix("targets", targets, (x.shape[0], n_out),
                          what="2D array (n_samples, n_out)")
        else:
            y = np.zeros((x.shape[0], n_out))
        every = 1 if record_every is None else steps_of("record_every", record_every, self.dt)
        rec = self._parse_record(record)

        state = {"beta": self.beta if targets is not None else 0.0}
        for l in range(1, self.n_layers + 1):
            eta = self._eta[l - 1] if learn else 0.0
            for var, value in self._dyn[l].items():
                state[f"{l}.{var}"] = value
            state[f"{l}.b"] = self._biases[l - 1]
            state[f"{l}.tau_m"] = self._tau_m[l - 1]
            state[f"{l}.tau_r"] = self._effective_tau_r()[l - 1]
            state[f"{l}.eta_b"] = eta
            state[f"{l}.eta"] = eta
            state[f"{l}.w"] = self._weights[l - 1].T.ravel()  # pre-major synapse order
        key = (self._structure(), x.shape[0], steps, every,
               tuple((l, tuple(v)) for l, v in sorted(rec.items())))
        duration = x.shape[0] * steps * self.dt * second

        def build(tables):
            return self._build(tables, steps, rec, every)

        return (key, build, duration, state, {"le_input": x, "le_target": y}, steps, every,
                rec, x.shape[0])

    def compile(self, inputs, presentation_time, targets=None, record=None,
                record_every=None):
        """Generate and compile, without running, the standalone program that `run`
        would use for these arguments' shapes (e.g. brian2cuda on a machine without a
        GPU, or to separate build time from run time). Only shapes matter: ``inputs``
        may be any array of shape (n_samples, n_in). Returns the build directory; a
        later `run` of the same shape does not compile."""
        key, build, duration, state, tables, *_ = self._prepare(
            inputs, presentation_time, targets, False, record, record_every)
        before = self._sim.n_builds
        directory = self._sim.compile(key, build, duration, tables)
        self.n_builds += self._sim.n_builds - before
        if directory not in self.build_directories:
            self.build_directories.append(directory)
        return directory

    def run(self, inputs, presentation_time, targets=None, learn=True, record=None,
            record_every=None, report=None):
        """Present ``inputs`` back to back, each for ``presentation_time``.

        Parameters
        ----------
        inputs : array, shape (n_samples, n_in)
            Input rates r_0. With ``presentation_time == dt`` each row is one time step.
        presentation_time : Quantity
            Positive integer multiple of ``dt``.
        targets : array (n_samples, n_out) or None
            Output targets (voltage or rate, see ``target_type``); None: no nudging.
        learn : bool
            Plasticity of weights and biases (learning rates set to zero if False).
        record : list of str or dict, optional
            Extra variables to record (`RECORDABLE`): a list for every layer or
            ``{layer: [names]}``. The output rates are always recorded.
        record_every : Quantity, optional
            Recording interval (a multiple of dt; default dt).
        report : {'text', 'stdout', None}
            Brian2 progress report.

        Returns
        -------
        RunResult
        """
        key, build, duration, state, tables, steps, every, rec, n = self._prepare(
            inputs, presentation_time, targets, learn, record, record_every)
        out = self._sim.run(key, build, duration, state, tables, report=report)
        if out.compiled:
            self.n_builds += 1
        if out.directory and out.directory not in self.build_directories:
            self.build_directories.append(out.directory)
        for l in range(1, self.n_layers + 1):
            for var in self._dyn[l]:
                self._dyn[l][var] = out.state[f"{l}.{var}"]
            n_pre, n_post = self.layer_sizes[l - 1], self.layer_sizes[l]
            self._weights[l - 1] = out.state[f"{l}.w"].reshape(n_pre, n_post).T.copy()
            self._biases[l - 1] = out.state[f"{l}.b"]
        self._check_finite()
        states = {l: {v: out.records[f"layer{l}"][v] for v in vs} for l, vs in rec.items()}
        t = (self.t + out.records[f"layer{self.n_layers}"]["t"]) * second
        self.t += float(duration)
        return RunResult(
            t=t, output=states[self.n_layers]["r"], states=states, steps_per_sample=steps,
            record_every_steps=every, n_samples=n, dt=self.dt * second,
            presentation_time=steps * self.dt * second, build_time=out.build_time,
            run_time=out.run_time, compiled=out.compiled,
            simulation_time=out.simulation_time,
        )

    def _check_finite(self):
        for l in range(1, self.n_layers + 1):
            bad = [v for v, a in self._dyn[l].items() if not np.all(np.isfinite(a))]
            if not np.all(np.isfinite(self._weights[l - 1])):
                bad.append("w")
            if bad:
                raise FloatingPointError(
                    f"layer {l}: {bad} became NaN/inf (learning rates or beta too large "
                    f"for dt = {self.dt * 1e3:g} ms?)")

    def __repr__(self):
        return (f"LENetwork(layer_sizes={self.layer_sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}, prospective={self.prospective},"
                f" device={self.device!r})")


def _projection_kinds(synapses, n_projections):
    """``synapses`` argument -> one of SYNAPSE_KINDS per projection."""
    kinds = [synapses] * n_projections if isinstance(synapses, str) else list(synapses)
    if len(kinds) != n_projections or any(k not in SYNAPSE_KINDS for k in kinds):
        raise ValueError(f"synapses must be one of {SYNAPSE_KINDS} or a list of "
                         f"{n_projections} of them (one per projection), got {synapses!r}")
    return kinds


def authors_learning_rates(learning_rate, lr_multiplier, factors, dt, n_updates):
    r"""Per-layer learning rates (Hz) from the settings of the authors' code.

    Their update per presentation is ``learning_rate * lr_multiplier * factor_l``
    spread over ``n_updates`` Euler steps of ``dt`` (DESIGN.md section 1):

    .. math:: \eta_l = \frac{\mathrm{learning\_rate}\cdot\mathrm{lr\_multiplier}
              \cdot \mathrm{factor}_l}{dt \cdot n_\mathrm{updates}}

    Parameters
    ----------
    learning_rate, lr_multiplier : float
    factors : sequence of float
        Per-layer factors (MNIST: [1, 0.2, 0.1]).
    dt : Quantity
        Their Euler step.
    n_updates : int
        Updates per presentation (presentation time / dt).

    Returns
    -------
    list of Quantity (Hz), one per layer.
    """
    step = float(as_time("dt", dt))
    if not isinstance(n_updates, (int, np.integer)) or n_updates < 1:
        raise ValueError(f"n_updates must be a positive int, got {n_updates!r}")
    return [learning_rate * lr_multiplier * f / (step * n_updates) * Hz for f in factors]
