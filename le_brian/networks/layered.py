r"""Layered Latent Equilibrium networks in Brian2.

`LENetwork` assembles the equation strings of :mod:`le_brian.equations` into Brian2
groups, one layer type at a time (`le_brian.networks.layers`), and places every operation
in a named scheduling slot of the network's ``Network.schedule`` in one of two
discrete-time schemes: the package's instantaneous sweep (default) and the authors'
synchronous step. `le_brian.networks.schedules` tabulates both schemes' step order
(docs/model.md §1.2, §1.3, §4). le_brian's slots come before Brian2's own (``groups``,
``thresholds``, ``synapses``, ``resets``, ``end``), so objects a user adds
(``run(objects=...)``) see the finished step.
"""

import numpy as np
from brian2 import Clock, Hz, NeuronGroup, TimedArray, second

from .. import equations as eq
from ..activations import np_activation
from ..engine.network import BaseNetwork, Prepared
from ..engine.results import RunResult
from ..engine.spiking import SPIKE_STRIDE, document_spiking_parameters
from ..engine.spiking import initial_state as spiking_initial_state
from ..engine.resources import estimate_network_bytes
from ..engine.validation import as_dimensionless, as_time, check_choice, per_neuron
from ..equations import spiking as sq
from ..params import HAND_DOWN, SCHEMES, SYNAPSE_KINDS, LENetworkParameters
from .architecture import architecture, plan
from .layered_parameters import ParametersMixin
from .layered_substrate import SubstrateMixin
from .schedules import SCHEDULES, BuildContext

#: Defaults of the keyword constructor: the fields of `le_brian.params.LENetworkParameters`.
_D = {name: f.default for name, f in LENetworkParameters.fields().items()}

__all__ = ["LENetwork", "RunResult", "RECORDABLE", "authors_learning_rates"]

#: Variables of a layer that can be recorded.
RECORDABLE = ("u", "ub", "r", "rp", "eps", "I_ff", "I_fb", "b")


#: Dynamic variables of a layer (state kept between runs).
DYNAMIC = ("u", "eps", "ub", "r", "rp")

#: Variables of a pooling layer that can be recorded.
POOL_RECORDABLE = ("r", "I_fb")

#: Options a network with convolution or pooling layers does not support.
_SPATIAL_UNSUPPORTED = "not supported with Conv2D/pooling layers"


class LENetwork(ParametersMixin, SubstrateMixin, BaseNetwork):
    r"""A layered Latent Equilibrium network simulated by Brian2.

    Parameters
    ----------
    layer_sizes : sequence of int or of layer specifications
        ``[n_in, n_1, ..., n_L]``, or the architecture as layer types
        ``[Input(n_in), Dense(n_1), ..., Dense(n_L)]`` (`le_brian.networks.layers`; a
        `Dense` layer may name its own activation); at least one layer after the input.
        An image input ``Input((C, H, W))`` may be followed by ``Conv2D``, ``MaxPool2D``
        and ``AvgPool2D`` layers (`le_brian.networks.conv_layers`) before the dense ones;
        ``layer_sizes`` then reports every layer's flat size, pooling layers included.
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
        eta_l in Hz, one per learnable layer (Conv2D, Dense; or one for all); weights
        (kernels) and biases of layer l learn with eta_l. Default: 0 Hz (no plasticity).
    dt : Quantity
        Euler time step.
    seed : int
        Seed of the weight initialisation.
    weight_scale : float or None
        Initial weights and biases ~ N(0, weight_scale) (the paper's MNIST set-up uses
        0.05); None: weights ~ N(0, 1/n_pre), biases 0.
    {device_parameter}
    codegen_target : {'auto', 'numpy', 'cython'}
        Runtime code generation target.
    keep_builds : bool
        Keep standalone build directories (in `le_brian.engine.devices.cache_dir`).
    threads : int
        OpenMP threads (cpp_standalone).
    simulator : le_brian.engine.devices.Simulator, optional
        Where compiled programs are kept. Default: one per device configuration shared
        by the whole process, so networks of equal structure reuse each other's builds.
    scheme : {'sweep', 'reference'}
        Discrete-time scheme: the package's instantaneous sweep (default) or the
        authors' synchronous step (module docstring; docs/model.md §1.2, §1.3).
    hand_down : {'error', 'mismatch'}
        What a layer passes down to the layer below: its held error e_l (default), or
        the mismatch u_l - I_l taken before the Euler update (the authors' lagged run).
    dtype : {'float64', 'float32'}
        Floating-point type of every state variable (the authors' code computes in
        float32).
    synapses : {'dense', 'dense_unfused', 'plain'} or sequence of them
        How projections are simulated: 'dense' (default) uses
        `le_brian.engine.dense.DenseSynapses` (dense code templates on cpp_standalone
        and cuda_standalone, Brian2's own templates in runtime mode) and, where the
        schedule allows it (docs/model.md §4.1), one fused pass over the weights per
        projection and step (forward sum, feedback sum and plasticity together;
        `le_brian.engine.dense.FusedDenseUpdater`); 'dense_unfused' the dense
        templates with one code object per operation; 'plain' `brian2.Synapses` with
        its index arrays. One value for all projections or one per projection. All
        give the same results (to rounding).
    {spiking_parameters}
    tau_jitter : float or (float, float)
        Substrate mismatch (docs/model.md §1.8): every neuron's tau_m and tau_r become
        the given values times independent N(1, sigma^2) factors, clipped to
        ``tau_bounds``; one sigma for both or ``(sigma_m, sigma_r)``. Drawn with
        ``numpy.random.default_rng((seed, 1))``: tau_m of layers 1..L, then tau_r.
        Default 0 (no draw).
    tau_bounds : (Quantity, Quantity)
        Range of the jittered and of the learned time constants (default 1 ms ..
        1000 ms, the authors' range); the given nominal values must lie inside it.
    tau_learning : {None, 'tau_m', 'tau_r'}
        Local time-constant learning (docs/model.md §1.8): this time constant of every
        neuron follows ``d tau/dt = +-eta_tau (ub - I - e) du/dt`` (``+`` for tau_m,
        ``-`` for tau_r), which drives tau_m and tau_r together. It is on in runs with
        ``learn_tau=True`` (default: the value of ``learn``).
    eta_tau : Quantity
        Rate of the time-constant learning, in seconds (the relaxation rate of
        tau_r - tau_m is eta_tau <(du/dt)^2>). Default 0 s.
    rate_noise : Quantity or None
        White Gaussian noise on the rates of layers 1..L, as a density in sqrt(second):
        step k adds ``rate_noise / sqrt(dt) * xi_k`` to r = phi(ub) (rp stays
        phi'(ub)); `le_brian.substrate.noise_density` converts a per-step standard
        deviation. Seeded by ``seed`` and the run's index (counter-based, identical on
        every device). None: no noise code in the program; 0 s**0.5: the noise
        program with zero amplitude (one program for a sweep over noise levels).
    tau_syn : Quantity or None
        Synaptic low-pass filter of the rates entering every projection (input
        included): ``rs += dt/tau_syn (r - rs)`` right after r; the projections'
        sums and plasticity read rs. Must be >= dt (tau_syn = dt passes r through).
    filter_target : bool
        With ``tau_syn``: the output error reads the target through the same filter.

    Notes
    -----
    State (u, errors, weights, biases) persists across `run` calls; `reset_state`
    zeroes the dynamic variables (a learned time constant keeps its value; with
    ``tau_syn`` the filtered rates, ``state['layer0']['rs']`` included, start at 0). Parameters: `get_parameters` returns
    ``{'weights': [W_1, ..., W_L], 'biases': [b_1, ..., b_L]}``.

    With conv or pooling layers, parameters have one entry per learnable layer: a
    convolution's kernel (O, C, kh, kw) and bias (O,); its Brian2 objects are
    ``kernel{l}``, ``bias{l}``, ``proj{l}``, ``proj{l}_fb`` and ``proj{l}_bias``
    (docs/model.md §4.2).

    The Brian2 objects are named ``layer0`` (input), ``layer1`` ... ``layerL`` and
    ``proj1`` ... ``projL`` (projection l: layer l-1 -> layer l); `run` accepts
    ``objects=`` to add your own monitors and groups to the program.

    References
    ----------
    P. Haider, B. Ellenberger, L. Kriener, J. Jordan, W. Senn, M. A. Petrovici (2021).
    Latent Equilibrium: A unified learning theory for arbitrarily fast computation
    with arbitrarily slow neurons. NeurIPS 34. arXiv:2110.14549.
    """

    kind = "LENetwork"

    def __init__(
        self,
        layer_sizes,
        activation=_D["activation"],
        output_activation=_D["output_activation"],
        tau_m=_D["tau_m"],
        tau_r=None,
        prospective=_D["prospective"],
        beta=_D["beta"],
        target_type=_D["target_type"],
        learning_rates=_D["learning_rates"],
        dt=_D["dt"],
        seed=_D["seed"],
        weight_scale=_D["weight_scale"],
        device=_D["device"],
        codegen_target=_D["codegen_target"],
        keep_builds=False,
        threads=_D["threads"],
        simulator=None,
        scheme=_D["scheme"],
        hand_down=_D["hand_down"],
        dtype=_D["dtype"],
        synapses=_D["synapses"],
        spiking=_D["spiking"],
        n_per_unit=_D["n_per_unit"],
        r_max=_D["r_max"],
        tau_s=_D["tau_s"],
        spiking_output=_D["spiking_output"],
        t_ref=_D["t_ref"], spike_draw=_D["spike_draw"],
        prospective_trace=_D["prospective_trace"],
        max_rate=_D["max_rate"],
        tau_jitter=_D["tau_jitter"],
        tau_bounds=_D["tau_bounds"],
        tau_learning=_D["tau_learning"],
        eta_tau=_D["eta_tau"],
        rate_noise=_D["rate_noise"],
        tau_syn=_D["tau_syn"],
        filter_target=_D["filter_target"],
    ):
        # every keyword that is a parameter field: checked by its field (le_brian.params)
        LENetworkParameters.check_arguments(locals(), none_is_default=("learning_rates",))
        self.activation = eq.get_activation(activation).name
        self.output_activation = eq.get_activation(output_activation).name
        eq.output_error_code(target_type, "x")  # validates target_type
        self.target_type = target_type
        self.scheme = check_choice("scheme", scheme, SCHEMES)
        self.hand_down = check_choice("hand_down", hand_down, HAND_DOWN)
        self.layers = architecture(layer_sizes)
        self._plan = plan(self.layers)
        self._geometry = self._plan.geometry
        super().__init__(self._plan.sizes, min_layers=2,
                         sizes_form="[n_in, ..., n_out]", dt=dt,
                         seed=seed, device=device, codegen_target=codegen_target,
                         keep_builds=keep_builds, threads=threads, simulator=simulator,
                         dtype=dtype)
        self.n_layers = len(self.layer_sizes) - 1
        hidden = [self.layer_sizes[l] for l in self._plan.learnable]
        self._tau_m = per_neuron("tau_m", tau_m, hidden, as_time)
        if tau_r is None:
            self._tau_r = [t.copy() for t in self._tau_m]
        else:
            self._tau_r = per_neuron(
                "tau_r", tau_r, hidden, lambda n, v: as_time(n, v, allow_zero=True))
        self.prospective = bool(prospective)
        if self._plan.spatial:
            _check_spatial(hand_down=hand_down, spiking=spiking, tau_learning=tau_learning,
                           rate_noise=rate_noise, tau_syn=tau_syn)
        self._init_substrate(tau_jitter, tau_bounds, tau_learning, eta_tau, rate_noise,
                             tau_syn, filter_target, spiking)
        self.beta = float(as_dimensionless("beta", beta, nonnegative=True))
        self.set_learning_rates(0 * Hz if learning_rates is None else learning_rates)
        self.synapses = _projection_kinds(synapses, self.n_layers)
        self.weight_scale = LENetworkParameters.fields()["weight_scale"].check(weight_scale)
        if not isinstance(spiking_output, (bool, np.bool_)):
            raise TypeError(f"spiking_output must be True or False, got {spiking_output!r}")
        n_spiking = self.n_layers if spiking_output else self.n_layers - 1
        self._init_spiking(spiking, n_per_unit, r_max, tau_s,
                           {f"layer{l}": self._layer_activation(l)
                            for l in range(1, n_spiking + 1)}, t_ref, spike_draw,
                           prospective_trace, max_rate)
        self._init_parameters()
        self.reset_state()

    def _dynamic(self, l):
        """Dynamic variables of layer l (0: the input's filter state)."""
        extra = ("rs",) if self._tau_syn is not None else ()
        if l == 0:
            return extra
        if l not in self._plan.learnable:  # a pooling layer: no state
            return ()
        if l == self.n_layers and self.filter_target:
            extra += ("tgt_s",)
        if self.tau_learning is not None:
            extra += (self.tau_learning,)
        return DYNAMIC + extra

    def _layer_activation(self, l):
        own = getattr(self.layers[l], "activation", None)
        if own is not None:
            return own
        return self.output_activation if l == self.n_layers else self.activation

    # ------------------------------------------------------------------ populations
    def populations(self):
        """``{'layer1': n_1, ..., 'layerL': n_L}``: the dynamic layers."""
        return {f"layer{l}": n for l, n in enumerate(self.layer_sizes[1:], start=1)}

    def recordable(self):
        """``{layer name: variables}`` (`RECORDABLE` for every layer; spiking layers add
        their trace ``x``, and ``xp`` with a prospective trace)."""
        spiking = self.spiking_populations()
        return {name: (POOL_RECORDABLE if l not in self._plan.learnable else
                       RECORDABLE + (self.spiking.recordable if name in spiking else ()))
                + tuple(v for v in self._dynamic(l) if v not in DYNAMIC)
                for l, name in enumerate(self.populations(), start=1)}

    def projections_shapes(self):
        """``{'proj1': (n_1, n_0), ...}``: the dense projections and their (n_post,
        n_pre) (convolutions and pooling layers have no weight matrix)."""
        s = self.layer_sizes
        return {f"proj{l}": (s[l], s[l - 1]) for l in range(1, self.n_layers + 1)
                if self._geometry[l] is None}

    def slots(self):
        """le_brian's scheduling slots of this network's scheme, in step order."""
        return SCHEDULES[self.scheme].slots

    def _population_key(self, key):
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return f"layer{key}"
        return key

    def _estimate_bytes(self):
        if not self._plan.spatial:
            return super()._estimate_bytes()
        # weights-equivalent entries: dense weights, convolution and pooling pairs
        count = 0
        for l in range(1, len(self.layer_sizes)):
            geo, n, n_pre = self._geometry[l], self.layer_sizes[l], self.layer_sizes[l - 1]
            count += n * n_pre if geo is None else n * int(np.prod(
                geo.kernel_shape[1:] if hasattr(geo, "kernel_shape") else geo.size))
        return estimate_network_bytes(self.layer_sizes, weights=count)

    @property
    def tau_m(self):
        """Membrane time constants, one array per layer (Quantity; learned values after
        runs with time-constant learning)."""
        return [t * second for t in self._time_constants()[0]]

    @property
    def tau_r(self):
        """Prospective time constants actually used (0 ms in the lagged baseline)."""
        return [t * second for t in self._time_constants()[1]]

    def _time_constants(self):
        """(tau_m, tau_r) in seconds, one array per layer, as the next run uses them."""
        tau_m, tau_r = list(self._tau_m), list(self._tau_r)
        if self.tau_learning is not None and hasattr(self, "_state"):
            learned = [self._state[f"layer{l}"][self.tau_learning]
                       for l in self._plan.learnable]
            tau_m, tau_r = (learned, tau_r) if self.tau_learning == "tau_m" else (tau_m,
                                                                                   learned)
        if not self.prospective:
            tau_r = [np.zeros_like(t) for t in tau_r]
        return tau_m, tau_r

    # ------------------------------------------------------------------ state
    def _initial_state(self):
        """Every dynamic variable (u, ub, r, phi'(ub), held errors) zero; the spike trace
        x and spike train s of a spiking layer phi(0), their mean at rest."""
        state = {name: {v: np.zeros(n) for v in self._dynamic(l)}
                 for l, (name, n) in enumerate(self.populations().items(), start=1)}
        if self._dynamic(0):
            state["layer0"] = {v: np.zeros(self.layer_sizes[0]) for v in self._dynamic(0)}
        if self.tau_learning is not None:  # a learned time constant is kept (a reset
            kept = self._time_constants()[self.tau_learning == "tau_r"]  # zeroes u, e)
            for l, tau in zip(self._plan.learnable, kept):
                state[f"layer{l}"][self.tau_learning] = np.array(tau, copy=True)
        for l, name in enumerate(self.populations(), start=1):
            if name in self.spiking_populations():
                rest = np_activation(self._layer_activation(l)).at_zero
                state[name].update(spiking_initial_state(len(state[name]["u"]), rest))
        return state

    def _state_size(self, population, variable):
        return self.layer_sizes[0] if population == "layer0" else super()._state_size(
            population, variable)

    def set_state(self, state):
        super().set_state(state)
        if self.tau_learning is not None:
            low, high = self._tau_bounds
            for l in self._plan.learnable:
                tau = self._state[f"layer{l}"][self.tau_learning]
                if np.any(tau < low) or np.any(tau > high):
                    raise ValueError(f"state['layer{l}'][{self.tau_learning!r}] (seconds) must "
                                     f"lie in tau_bounds [{low:g}, {high:g}] s")
    set_state.__doc__ = BaseNetwork.set_state.__doc__

    # ------------------------------------------------------------------ building
    def _build_model(self, tables, steps_per_sample, record, wrecord, record_every_steps,
                     record_spikes, neurons):
        L, dt = self.n_layers, self.dt
        sched = SCHEDULES[self.scheme]
        spiking = self.spiking_populations()
        # spiking: per-layer orders x SPIKE_STRIDE, a layer's five spiking operations at
        # its prospective order + 1 .. + 5 (docs/model.md §5.3)
        stride = SPIKE_STRIDE if spiking else 1
        if self._plan.spatial:  # room for a pooling layer's operations (order 2l + j)
            stride = 2
        reference = self.scheme == "reference"
        error = "eps_new" if reference else "eps"
        hand_down = "mismatch" if self.hand_down == "mismatch" else "eps"
        clock = Clock(dt, name="le_clock")
        presentation = steps_per_sample * dt
        inputs = TimedArray(tables["le_input"], dt=presentation, name="le_input")
        targets = TimedArray(tables["le_target"], dt=presentation, name="le_target")
        namespace = {"le_input": inputs, "le_target": targets}

        filtered, noise = self._tau_syn is not None, self._rate_noise is not None
        if noise:
            namespace["le_uniform"] = sq.le_uniform
        layer0 = NeuronGroup(self.layer_sizes[0], eq.input_equations(filtered), clock=clock,
                             name="layer0")
        layer0.run_regularly(eq.input_code("le_input", filtered), when=sched.input,
                             name="layer0_input")
        layer0.state_updater.when = sched.input  # no equations to integrate
        ctx = BuildContext(n_layers=L, schedule=sched, stride=stride, spiking=spiking,
                            reference=reference, error=error, hand_down=hand_down,
                            clock=clock, filtered=filtered, noise=noise,
                            record_spikes=record_spikes, state={}, spike_objects=[],
                            spike_monitors=[], feedback=self._plan.feedback)
        groups, projections, state = {"layer0": layer0}, {}, ctx.state
        spike_objects, spike_monitors = ctx.spike_objects, ctx.spike_monitors
        below = layer0
        for l, layer in enumerate(self.layers[1:], start=1):
            ctx.below = below
            g = layer.population(self, ctx, l)
            s = layer.projection(self, ctx, l, below, g)
            groups[f"layer{l}"] = g
            groups.update(ctx.groups)
            if s is not None:
                projections[f"proj{l}"] = s
            projections.update(ctx.synapses)
            ctx.groups.clear()
            ctx.synapses.clear()
            below = g
            if l not in self._plan.learnable:  # pooling: no state of its own
                continue
            extra = (("eta_tau", "tau_min", "tau_max") if self.tau_learning else ())
            extra += ("noise_std", "noise_seed") if noise else ()
            extra += ("tau_syn",) if filtered else ()
            # an ordered set (a plain set's order varies between processes, and the order
            # of the state entries is part of the program)
            conv = self._geometry[l] is not None
            for var in dict.fromkeys((*self._dynamic(l), *(() if conv else ("b",)), "tau_m",
                                      "tau_r", *(() if conv else ("eta_b",)), *extra)):
                state[f"layer{l}.{var}"] = (g, var)
            if conv:
                bias, kernel = groups[f"bias{l}"], groups[f"kernel{l}"]
                state.update({f"bias{l}.b": (bias, "b"), f"bias{l}.eta_b": (bias, "eta_b"),
                              f"kernel{l}.w": (kernel, "w"),
                              f"kernel{l}.eta": (kernel, "eta")})
            else:
                state[f"proj{l}.w"] = (s, "w")
                state[f"proj{l}.eta"] = (s, "eta")
        state["beta"] = (groups[f"layer{L}"], "beta")
        if filtered:
            state["layer0.rs"] = (layer0, "rs")
            state["layer0.tau_syn"] = (layer0, "tau_syn")

        return self._assemble(groups, projections, record, record_every_steps * dt, wrecord,
                              record_every_steps * dt, neurons, spike_objects, spike_monitors,
                              state, {"le_input": inputs, "le_target": targets}, namespace,
                              clock)

    # ------------------------------------------------------------------ running
    def _normalise_record(self, record):
        if record is None:
            return {}
        if isinstance(record, (list, tuple, str)):
            names = [record] if isinstance(record, str) else record
            return {p: (record if k in self._plan.learnable  # pools: what they have
                        else [v for v in names if v in POOL_RECORDABLE])
                    for k, p in enumerate(self.populations(), start=1)}
        if not isinstance(record, dict):
            raise TypeError("record must be a list of variable names (all layers) or a dict "
                            "{layer: [names]} (layer: 1..L or 'layer1'..)")
        for key in record:
            if isinstance(key, (int, np.integer)) and not 1 <= key <= self.n_layers:
                raise ValueError(f"record: layer must be an int in 1..{self.n_layers} (or a "
                                 f"name 'layer1'..), got {key!r}")
        return record

    def _readout_variable(self):
        """The output read-out: the trace x when the output layer spikes, else r."""
        return "x" if f"layer{self.n_layers}" in self.spiking_populations() else "r"

    @property
    def output_population(self):
        """The output layer's population name (``'layerL'``)."""
        return f"layer{self.n_layers}"

    def _always_recorded(self):
        return {self.output_population: [self._readout_variable()]}

    def _prepare(self, inputs, presentation_time, targets, learn, record, record_every,
                 objects, record_spikes=False, record_neurons=None, learn_tau=None):
        run = self._prepare_run(inputs, presentation_time, targets, record, record_every,
                                record_neurons, record_spikes)
        x, y, steps, every = run["x"], run["y"], run["steps"], run["every"]
        rec, wrec, neurons = run["rec"], run["wrec"], run["neurons"]
        record_spikes = run["record_spikes"]

        learn_tau = self._check_learn_tau(learn, learn_tau)
        state = {"beta": self.beta if targets is not None else 0.0}
        tau_m, tau_r = self._time_constants()
        for m, l in enumerate(self._plan.learnable):
            name = f"layer{l}"
            for var, value in self._state[name].items():
                state[f"{name}.{var}"] = value
            state[f"{name}.tau_m"] = tau_m[m]
            state[f"{name}.tau_r"] = tau_r[m]
            state.update(self._substrate_state(l, learn_tau))
            state.update(self._parameter_state(l, learn))
        state.update(self._spiking_state())
        for var, value in self._state.get("layer0", {}).items():
            state[f"layer0.{var}"] = value
        if self._tau_syn is not None:
            state["layer0.tau_syn"] = self._tau_syn
        build = self._builder(
            lambda tables: self._build_model(tables, steps, rec, wrec, every, record_spikes,
                                             neurons),
            objects)
        return Prepared(build, x.shape[0] * steps * self.dt, state,
                        {"le_input": x, "le_target": y},
                        info=dict(steps=steps, every=every, rec=rec, wrec=wrec,
                                  neurons=neurons, n_samples=x.shape[0]))

    def _collect(self, prepared, out):
        state = {name: {v: out.state[f"{name}.{v}"] for v in self._dynamic(l)}
                 for l, name in enumerate(self.populations(), start=1)}
        if self._dynamic(0):
            state["layer0"] = {v: out.state[f"layer0.{v}"] for v in self._dynamic(0)}
        return state, self._collect_parameters(out)

    def _result(self, prepared, out, common):
        out = common["states"][f"layer{self.n_layers}"][self._readout_variable()]
        return RunResult(output=out, **common)

    def compile(self, inputs, presentation_time, targets=None, record=None,
                record_every=None, objects=None, record_spikes=False, record_neurons=None):
        """Generate and compile, without running, the standalone program that `run`
        would use for these arguments (e.g. brian2cuda on a machine without a GPU, or
        to separate build time from run time). Only shapes matter: ``inputs`` may be
        any array of shape (n_samples, n_in). Returns the build directory; a later
        `run` of the same structure does not compile."""
        return self._compile(self._prepare(inputs, presentation_time, targets, False,
                                           record, record_every, objects, record_spikes,
                                           record_neurons))

    def run(self, inputs, presentation_time, targets=None, learn=True, record=None,
            record_every=None, objects=None, report=None, record_spikes=False,
            record_neurons=None, learn_tau=None):
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
            Extra variables to record (`RECORDABLE`): a list for every layer, or a dict
            ``{layer: [names]}`` (layer 1..L or ``'layer1'``...) and
            ``{'proj1': True or [(post, pre), ...]}`` for weights; for a convolution
            ``{'proj1': True or [(o, c, i, j), ...]}`` records its kernel entries and
            every bias of its channels (``result.weights['proj1']``). The output rates
            are always recorded.
        record_every : Quantity, optional
            Recording interval (a multiple of dt; default dt).
        objects : callable, optional
            ``objects(NetworkObjects) -> list`` of your own Brian2 objects (monitors,
            groups driven by a layer, each with an explicit ``name=``), added to this
            run's program; what their monitors recorded is in ``result.recordings``.
        report : {'text', 'stdout', None}
            Brian2 progress report.
        record_spikes : bool or list of str
            Spiking networks: record the spikes of every spiking layer (True) or of the
            layers named (``['layer1', ...]``) into ``result.spikes``.
        record_neurons : dict, optional
            ``{layer: neuron indices}``: record the states of these neurons only
            (Brian2's ``StateMonitor(record=indices)``; a recording of every variable
            of every neuron at every step can be GBs). Columns of ``result.states``
            follow ``result.recorded_neurons``. The output layer is always recorded
            whole.
        learn_tau : bool or None
            Time-constant learning in this run (networks with ``tau_learning``);
            default: the value of ``learn``. ``learn=False, learn_tau=True`` is a
            time-constant phase without weight learning (docs/model.md §1.8).

        Returns
        -------
        RunResult
            ``output`` is r_L (the spike trace x_L when the output layer spikes).
        """
        return self._execute(self._prepare(inputs, presentation_time, targets, learn,
                                           record, record_every, objects, record_spikes,
                                           record_neurons, learn_tau),
                             report)

    def __repr__(self):
        return (f"LENetwork(layer_sizes={self.layer_sizes}, activation={self.activation!r}, "
                f"output_activation={self.output_activation!r}, prospective={self.prospective},"
                f" device={self.device!r})")


document_spiking_parameters(
    LENetwork, r_max="10 kHz, the most one neuron emits at dt = 0.1 ms",
    output="The output layer spikes too (default; its trace x_L is the read-out); False "
    "keeps\n    it a rate read-out (needed for a linear or tanh output).")


def _check_spatial(**options):
    """ValueError for the options a network with convolution or pooling layers does not
    support (before anything is built)."""
    bad = {"hand_down": options["hand_down"] == "mismatch", "spiking": options["spiking"],
           "tau_learning": options["tau_learning"] is not None,
           "rate_noise": options["rate_noise"] is not None,
           "tau_syn": options["tau_syn"] is not None}
    for name, on in bad.items():
        if on:
            raise ValueError(f"{name}={options[name]!r} is {_SPATIAL_UNSUPPORTED}")


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
    spread over ``n_updates`` Euler steps of ``dt`` (docs/model.md §1.6):

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
