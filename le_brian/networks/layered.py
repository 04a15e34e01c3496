r"""Layered Latent Equilibrium networks in Brian2.

`LENetwork` assembles the equation strings of :mod:`le_brian.equations` into Brian2
groups and places every operation in a named scheduling slot of the network's
``Network.schedule`` (ordered by layer inside a slot; Brian2 would otherwise break ties
by object name), in one of two discrete-time schemes (docs/model.md §1.2, §1.3, §4).
le_brian's slots come before Brian2's own (``groups``, ``thresholds``, ``synapses``,
``resets``, ``end``), so objects a user adds (``run(objects=...)``) see the finished step.

``scheme="sweep"`` (default, "instantaneous sweep"), step k, layers l = 1..L:

====================  ====================================================================
slot (order)          operation
====================  ====================================================================
``le_input``          input rates r_0 of step k from a TimedArray
``le_forward`` 2l     summed updater of projection l: I_ff_l = W_l r_{l-1}
``le_forward`` 2l+1   layer l: ub_l = u_l + tau_r du_l/dt, r_l = phi(ub_l), rp_l = phi'(ub_l)
``le_mismatch``       (mismatch hand-down only) mismatch_l = u_l - I_ff_l - b_l
``le_feedback`` L-l   summed updater of projection l >= 2: I_fb_{l-1} = W_l^T e_l (held e_l)
``le_plasticity``     W_l += dt eta_l e_l r_{l-1}^T (held e_l, rates of step k)
``le_membrane``       membranes and biases: u_l += dt du_l/dt, b_l += dt eta_l e_l
``le_error``          new errors: e_L from the target of step k, e_l = rp_l I_fb_l
``end``               monitors
====================  ====================================================================

Inference is exactly instantaneous: the output of step k reflects the input of step k
at any depth; errors move down one layer per step.

``scheme="reference"`` is the authors' synchronous (Jacobi) step: every layer advances
from the rates of step k-1, so it reads values before any layer has overwritten them:

====================  ====================================================================
slot (order)          operation
====================  ====================================================================
``le_input``          input rates of step k
``le_forward`` l      I_ff_l = W_l r_{l-1}  (r_{l-1} of step k-1; r_0 of step k)
``le_mismatch``       (mismatch hand-down only) mismatch_l = u_l - I_ff_l - b_l
``le_feedback`` L-l   I_fb_{l-1} = W_l^T e_l (held e_l, weights of step k-1)
``le_error``          new errors eps_new: e_L from last step's ub_L (r_L, rp_L) and the
                      target of step k; hidden: rp_l (of step k-1) I_fb_l
``le_plasticity``     plasticity with the new errors: W_l += dt eta_l eps_new_l r_{l-1}^T
``le_prospective``    (order l) ub_l, r_l, rp_l from I_ff_l and the held error
``le_membrane``       u_l += dt du_l/dt, b_l += dt eta_l eps_new_l
``le_latch``          e_l = eps_new_l (enters the membranes in step k+1)
====================  ====================================================================

The output of step k then reflects the input of step k-L+1.

With dense projections on the standalone devices, the operations of a projection that
may run together (sweep: forward sum, feedback sum and plasticity; reference: forward
and feedback sums) run as one pass over its weights at the forward sum's place
(`le_brian.engine.dense.DenseSynapses.fuse`, docs/model.md §4.1); the results are
those of the tables above.
"""

from dataclasses import dataclass

import numpy as np
from brian2 import (Clock, Equations, Hz, Network, NeuronGroup, StateMonitor, Synapses,
                    TimedArray, ms, second)

from .. import equations as eq
from ..engine.dense import DenseSynapses
from ..activations import np_activation
from ..engine.devices import Built
from ..engine.spiking import (DEFAULT_R_MAX, DEFAULT_TAU_S, SPIKE_STRIDE, add_spiking,
                              document_spiking_parameters)
from ..engine.spiking import SPIKING_DYNAMIC
from ..engine.spiking import initial_state as spiking_initial_state
from ..equations import spiking as sq
from ..engine.network import (NETWORK_NAME, BaseNetwork, Prepared, monitor_clock,
                              weight_monitor, weight_monitor_indices)
from ..engine.results import RunResult
from ..engine.validation import (as_dimensionless, as_matrix, as_rate, as_time, check_choice,
                                 per_neuron, steps_of)
from ..engine.spiking import spike_seed
from .. import substrate

__all__ = ["LENetwork", "RunResult", "RECORDABLE", "SCHEMES", "SCHEDULES",
           "authors_learning_rates"]

#: Variables of a layer that can be recorded.
RECORDABLE = ("u", "ub", "r", "rp", "eps", "I_ff", "I_fb", "b")

#: The discrete-time schemes of ``LENetwork(scheme=...)`` (docs/model.md §1.2, §1.3).
SCHEMES = ("sweep", "reference")
HAND_DOWN = ("error", "mismatch")
SYNAPSE_KINDS = ("dense", "dense_unfused", "plain")

#: Dynamic variables of a layer (state kept between runs).
DYNAMIC = ("u", "eps", "ub", "r", "rp")


@dataclass(frozen=True)
class Schedule:
    """Where every operation of one step runs: a slot of `slots` and, for per-layer
    operations, an order inside it (``order(l, L)``)."""

    slots: tuple
    forward: tuple  # (slot, order(l, L)) of the I_ff summed updater of projection l
    prospective: tuple  # (slot, order(l, L)) of layer l's ub / r / rp
    new_error: str
    latch: object = None  # None: the new error is written into eps directly
    mismatch: str = "le_mismatch"
    feedback: tuple = ("le_feedback", lambda l, L: L - l)
    plasticity: str = "le_plasticity"
    membrane: str = "le_membrane"
    input: str = "le_input"
    #: the plasticity may run in the forward sum's pass (sweep: it learns from the
    #: held error and this step's rates, both known there; reference: from the new
    #: error, computed later in the step)
    fuse_plasticity: bool = True


#: Per scheme, the named scheduling slots of one step, in order (the tables above).
SCHEDULES = {
    "sweep": Schedule(
        slots=("le_input", "le_forward", "le_mismatch", "le_feedback", "le_plasticity",
               "le_membrane", "le_error"),
        forward=("le_forward", lambda l, L: 2 * l),
        prospective=("le_forward", lambda l, L: 2 * l + 1),
        new_error="le_error"),
    "reference": Schedule(
        slots=("le_input", "le_forward", "le_mismatch", "le_feedback", "le_error",
               "le_plasticity", "le_prospective", "le_membrane", "le_latch"),
        forward=("le_forward", lambda l, L: l),
        prospective=("le_prospective", lambda l, L: l),
        new_error="le_error", latch="le_latch", fuse_plasticity=False),
}


class LENetwork(BaseNetwork):
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
        device="cpp_standalone",
        codegen_target="auto",
        keep_builds=False,
        threads=0,
        simulator=None,
        scheme="sweep",
        hand_down="error",
        dtype="float64",
        synapses="dense",
        spiking=False,
        n_per_unit=1,
        r_max=DEFAULT_R_MAX,
        tau_s=DEFAULT_TAU_S,
        spiking_output=True,
        tau_jitter=0.0,
        tau_bounds=substrate.DEFAULT_TAU_BOUNDS,
        tau_learning=None,
        eta_tau=0 * second,
        rate_noise=None,
        tau_syn=None,
        filter_target=True,
    ):
        self.activation = eq.get_activation(activation).name
        self.output_activation = eq.get_activation(output_activation).name
        eq.output_error_code(target_type, "x")  # validates target_type
        self.target_type = target_type
        self.scheme = check_choice("scheme", scheme, SCHEMES)
        self.hand_down = check_choice("hand_down", hand_down, HAND_DOWN)
        super().__init__(layer_sizes, min_layers=2, sizes_form="[n_in, ..., n_out]", dt=dt,
                         seed=seed, device=device, codegen_target=codegen_target,
                         keep_builds=keep_builds, threads=threads, simulator=simulator,
                         dtype=dtype)
        self.n_layers = len(self.layer_sizes) - 1
        hidden = self.layer_sizes[1:]
        self._tau_m = per_neuron("tau_m", tau_m, hidden, as_time)
        if tau_r is None:
            self._tau_r = [t.copy() for t in self._tau_m]
        else:
            self._tau_r = per_neuron(
                "tau_r", tau_r, hidden, lambda n, v: as_time(n, v, allow_zero=True))
        self.prospective = bool(prospective)
        self._init_substrate(tau_jitter, tau_bounds, tau_learning, eta_tau, rate_noise,
                             tau_syn, filter_target, spiking)
        self.beta = float(as_dimensionless("beta", beta, nonnegative=True))
        self.set_learning_rates(0 * Hz if learning_rates is None else learning_rates)
        self.synapses = _projection_kinds(synapses, self.n_layers)
        self.weight_scale = None if weight_scale is None else float(weight_scale)
        if not isinstance(spiking_output, (bool, np.bool_)):
            raise TypeError(f"spiking_output must be True or False, got {spiking_output!r}")
        n_spiking = self.n_layers if spiking_output else self.n_layers - 1
        self._init_spiking(spiking, n_per_unit, r_max, tau_s,
                           {f"layer{l}": self._layer_activation(l)
                            for l in range(1, n_spiking + 1)})
        self._init_parameters()
        self.reset_state()

    def _init_substrate(self, tau_jitter, tau_bounds, tau_learning, eta_tau, rate_noise,
                        tau_syn, filter_target, spiking):
        """Check and apply the substrate parameters (docs/model.md §1.8)."""
        self.tau_jitter = substrate.check_jitter(tau_jitter)
        self._tau_bounds = substrate.check_tau_bounds(tau_bounds)
        rng = np.random.default_rng((self.seed, substrate.JITTER_STREAM))
        self._tau_m = substrate.draw_time_constants(self._tau_m, self.tau_jitter[0], rng,
                                                    tau_bounds, "tau_m")
        self._tau_r = substrate.draw_time_constants(self._tau_r, self.tau_jitter[1], rng,
                                                    tau_bounds, "tau_r")
        if tau_learning is not None:
            check_choice("tau_learning", tau_learning, substrate.TAU_LEARNING)
            if not self.prospective:
                raise ValueError("tau_learning needs prospective=True (the lagged baseline "
                                 "has tau_r = 0)")
            low, high = self._tau_bounds
            for name, taus in (("tau_m", self._tau_m), ("tau_r", self._tau_r)):
                for k, t in enumerate(taus):
                    if np.any(t < low) or np.any(t > high):
                        raise ValueError(f"tau_learning: {name}[{k}] ({t.min() * 1e3:g} .. "
                                         f"{t.max() * 1e3:g} ms) lies outside tau_bounds "
                                         f"[{low * 1e3:g}, {high * 1e3:g}] ms, the range the "
                                         f"learned time constant is kept in")
        self.tau_learning = tau_learning
        self._eta_tau = float(as_time("eta_tau", eta_tau, allow_zero=True))
        self._rate_noise = (None if rate_noise is None
                            else substrate.as_noise_density("rate_noise", rate_noise))
        self._tau_syn = None if tau_syn is None else float(as_time("tau_syn", tau_syn))
        if self._tau_syn is not None and self._tau_syn < self._dt * (1 - 1e-9):
            raise ValueError(f"tau_syn must be >= dt ({self._dt * 1e3:g} ms) for a stable "
                             f"filter step, got {tau_syn!r}")
        if not isinstance(filter_target, (bool, np.bool_)):
            raise TypeError(f"filter_target must be True or False, got {filter_target!r}")
        self.filter_target = bool(filter_target) and self._tau_syn is not None
        if spiking and (self._rate_noise is not None or self._tau_syn is not None):
            raise ValueError("rate_noise and tau_syn apply to the rate model: a spiking "
                             "layer is already noisy and read through its spike trace "
                             "(tau_s)")

    @property
    def rate_noise(self):
        """Rate-noise density (Quantity in sqrt(second)) or None."""
        return None if self._rate_noise is None else self._rate_noise * second ** 0.5

    @property
    def tau_syn(self):
        """Synaptic filter time constant (Quantity) or None."""
        return None if self._tau_syn is None else self._tau_syn * second

    @property
    def tau_bounds(self):
        """Range of jittered and learned time constants (Quantities)."""
        return tuple(b * second for b in self._tau_bounds)

    @property
    def eta_tau(self):
        """Time-constant learning rate (Quantity in seconds)."""
        return self._eta_tau * second

    def _dynamic(self, l):
        """Dynamic variables of layer l (0: the input's filter state)."""
        extra = ("rs",) if self._tau_syn is not None else ()
        if l == 0:
            return extra
        if l == self.n_layers and self.filter_target:
            extra += ("tgt_s",)
        if self.tau_learning is not None:
            extra += (self.tau_learning,)
        return DYNAMIC + extra

    def _layer_activation(self, l):
        return self.output_activation if l == self.n_layers else self.activation

    # ------------------------------------------------------------------ populations
    def populations(self):
        """``{'layer1': n_1, ..., 'layerL': n_L}``: the dynamic layers."""
        return {f"layer{l}": n for l, n in enumerate(self.layer_sizes[1:], start=1)}

    def recordable(self):
        """``{layer name: variables}`` (`RECORDABLE` for every layer; spiking layers add
        their trace ``x``)."""
        spiking = self.spiking_populations()
        return {name: RECORDABLE + (SPIKING_DYNAMIC if name in spiking else ())
                + tuple(v for v in self._dynamic(l) if v not in DYNAMIC)
                for l, name in enumerate(self.populations(), start=1)}

    def projections_shapes(self):
        """``{'proj1': (n_1, n_0), ...}``: the projections and their (n_post, n_pre)."""
        s = self.layer_sizes
        return {f"proj{l}": (s[l], s[l - 1]) for l in range(1, self.n_layers + 1)}

    def slots(self):
        """le_brian's scheduling slots of this network's scheme, in step order."""
        return SCHEDULES[self.scheme].slots

    def _population_key(self, key):
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return f"layer{key}"
        return key

    # ------------------------------------------------------------------ parameters
    def _init_parameters(self):
        rng = np.random.default_rng(self.seed)
        weights, biases = [], []
        for n_pre, n_post in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            if self.weight_scale is None:
                weights.append(rng.normal(0, 1 / np.sqrt(n_pre), (n_post, n_pre)))
                biases.append(np.zeros(n_post))
            else:
                weights.append(rng.normal(0, self.weight_scale, (n_post, n_pre)))
                biases.append(rng.normal(0, self.weight_scale, n_post))
        self._params = {"weights": weights, "biases": biases}

    def _parameter_shapes(self):
        s = self.layer_sizes
        return {"weights": [(s[l], s[l - 1]) for l in range(1, self.n_layers + 1)],
                "biases": [(s[l],) for l in range(1, self.n_layers + 1)]}

    def set_parameters(self, weights=None, biases=None):
        """Set weights (list of (n_l, n_{l-1}) arrays) and/or biases (list of (n_l,))."""
        super().set_parameters(weights=weights, biases=biases)

    def _parameter_metadata(self):
        return {"learning_rates_hz": np.array(self._eta)}

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
            rate = as_rate("learning_rates", learning_rates)
            if rate.ndim != 0:
                raise ValueError("learning_rates must be one rate or a list with one per "
                                 f"layer, got shape {rate.shape}")
            self._eta = [float(rate)] * self.n_layers

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
                       for l in range(1, self.n_layers + 1)]
            tau_m, tau_r = (learned, tau_r) if self.tau_learning == "tau_m" else (tau_m,
                                                                                   learned)
        if not self.prospective:
            tau_r = [np.zeros_like(t) for t in tau_r]
        return tau_m, tau_r

    @property
    def learning_rates(self):
        """eta_l, one Quantity (Hz) per layer."""
        return [e * Hz for e in self._eta]

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
            for l, tau in enumerate(kept, start=1):
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
            for l in range(1, self.n_layers + 1):
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
        groups, projections, state = {"layer0": layer0}, {}, {}
        below = layer0
        spike_objects, spike_monitors = [], []
        for l in range(1, L + 1):
            act = self._layer_activation(l)
            name = f"layer{l}"
            eqs = eq.layer_equations(l == L, self.scheme, hand_down == "mismatch",
                                     self.tau_learning, noise, filtered,
                                     l == L and self.filter_target)
            if name in spiking:
                eqs += Equations(sq.UNIT_TRACE)
            g = NeuronGroup(self.layer_sizes[l], eqs, method="euler", clock=clock, name=name)
            g.state_updater.when = sched.membrane
            slot, order = sched.prospective
            g.run_regularly(eq.prospective_code(act, noise, filtered), when=slot,
                            order=stride * order(l, L), name=f"layer{l}_prospective")
            if self.tau_learning is not None:
                g.run_regularly(eq.LE_TAU_CLIP.format(tau=self.tau_learning),
                                when=sched.membrane, order=1, name=f"layer{l}_tau_clip")
            if name in spiking:
                objs, spike_state, mon = add_spiking(
                    g, name, self.spiking, "r", slot, stride * order(l, L) + 1, clock,
                    name in record_spikes)
                spike_objects += objs
                state.update(spike_state)
                spike_monitors += [mon] if mon is not None else []
            err = (eq.output_error_code(self.target_type, "le_target", error,
                                        self.filter_target) if l == L
                   else eq.hidden_error_code(error))
            g.run_regularly(err, when=sched.new_error, name=f"layer{l}_error")
            if reference:
                g.run_regularly(eq.LE_LATCH_ERROR, when=sched.latch, name=f"layer{l}_latch")
            if hand_down == "mismatch" and l >= 2:
                g.run_regularly(eq.LE_MISMATCH, when=sched.mismatch, name=f"layer{l}_mismatch")
            kind = self.synapses[l - 1]
            projection_class = Synapses if kind == "plain" else DenseSynapses
            rate_pre = ("x" if f"layer{l - 1}" in spiking else "rs" if filtered else "r")
            s = projection_class(below, g,
                                 model=eq.projection_equations(l >= 2, learn_from=error,
                                                               hand_down=hand_down,
                                                               rate=rate_pre),
                                 method="euler", clock=clock, name=f"proj{l}")
            s.connect()
            slot, order = sched.forward
            s.summed_updaters["I_ff_post"].when = slot
            s.summed_updaters["I_ff_post"].order = stride * order(l, L)
            if l >= 2:
                slot, order = sched.feedback
                s.summed_updaters["I_fb_pre"].when = slot
                s.summed_updaters["I_fb_pre"].order = stride * order(l, L)
            s.state_updater.when = sched.plasticity
            if kind == "dense" and hand_down == "eps":  # docs/model.md §4.1
                s.fuse("I_ff_post", "I_fb_pre" if l >= 2 else None,
                       plasticity=sched.fuse_plasticity)
            groups[f"layer{l}"] = g
            projections[f"proj{l}"] = s
            below = g
            extra = (("eta_tau", "tau_min", "tau_max") if self.tau_learning else ())
            extra += ("noise_std", "noise_seed") if noise else ()
            extra += ("tau_syn",) if filtered else ()
            # an ordered set (a plain set's order varies between processes, and the order
            # of the state entries is part of the program)
            for var in dict.fromkeys((*self._dynamic(l), "b", "tau_m", "tau_r", "eta_b",
                                      *extra)):
                state[f"layer{l}.{var}"] = (g, var)
            state[f"proj{l}.w"] = (s, "w")
            state[f"proj{l}.eta"] = (s, "eta")
        state["beta"] = (groups[f"layer{L}"], "beta")
        if filtered:
            state["layer0.rs"] = (layer0, "rs")
            state["layer0.tau_syn"] = (layer0, "tau_syn")

        monitors = {}
        for pop, variables in record.items():
            monitors[f"pop:{pop}"] = StateMonitor(
                groups[pop], list(variables), record=neurons.get(pop, True), when="end",
                clock=monitor_clock(record_every_steps * dt, f"monitor_{pop}"),
                name=f"monitor_{pop}")
        for proj, pairs in wrecord.items():
            n_post = self.projections_shapes()[proj][0]
            monitors[f"proj:{proj}"] = weight_monitor(
                projections[proj], "w", weight_monitor_indices(pairs, n_post),
                record_every_steps * dt, f"monitor_{proj}")
        net = Network(list(groups.values()), list(projections.values()),
                      list(monitors.values()), spike_objects, name=NETWORK_NAME)
        groups.update({o.name: o for o in spike_objects if isinstance(o, NeuronGroup)})
        return Built(net, state, {"le_input": inputs, "le_target": targets}, monitors,
                     namespace, groups=groups, projections=projections, clock=clock,
                     user_monitors=spike_monitors)

    # ------------------------------------------------------------------ running
    def _normalise_record(self, record):
        if record is None:
            return {}
        if isinstance(record, (list, tuple, str)):
            return {l: record for l in self.populations()}
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

    def _prepare(self, inputs, presentation_time, targets, learn, record, record_every,
                 objects, record_spikes=False, record_neurons=None, learn_tau=None):
        n_in, n_out = self.layer_sizes[0], self.layer_sizes[-1]
        x = as_matrix("inputs", inputs, (None, n_in), what="2D array (n_samples, n_in)")
        if x.shape[0] == 0:
            raise ValueError("inputs must contain at least one sample")
        steps = steps_of("presentation_time", presentation_time, self._dt)
        if targets is not None:
            y = as_matrix("targets", targets, (x.shape[0], n_out),
                          what="2D array (n_samples, n_out)")
        else:
            y = np.zeros((x.shape[0], n_out))
        every = 1 if record_every is None else steps_of("record_every", record_every, self._dt)
        rec, wrec = self._parse_record(self._normalise_record(record), {})
        out_name = f"layer{self.n_layers}"
        rec[out_name] = sorted(set(rec.get(out_name, [])) | {self._readout_variable()})
        neurons = self._parse_record_neurons(record_neurons, rec, whole=out_name)
        record_spikes = self._check_record_spikes(record_spikes)

        learn_tau = self._check_learn_tau(learn, learn_tau)
        state = {"beta": self.beta if targets is not None else 0.0}
        tau_m, tau_r = self._time_constants()
        for l in range(1, self.n_layers + 1):
            name = f"layer{l}"
            eta = self._eta[l - 1] if learn else 0.0
            for var, value in self._state[name].items():
                state[f"{name}.{var}"] = value
            state[f"{name}.b"] = self._params["biases"][l - 1]
            state[f"{name}.tau_m"] = tau_m[l - 1]
            state[f"{name}.tau_r"] = tau_r[l - 1]
            state.update(self._substrate_state(l, learn_tau))
            state[f"{name}.eta_b"] = eta
            state[f"proj{l}.eta"] = eta
            state[f"proj{l}.w"] = self._params["weights"][l - 1].T.ravel()  # pre-major order
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

    def _check_learn_tau(self, learn, learn_tau):
        """``learn_tau`` of a run (None: ``learn``) as a bool, checked."""
        if learn_tau is None:
            return bool(learn) and self.tau_learning is not None
        if not isinstance(learn_tau, (bool, np.bool_)):
            raise TypeError(f"learn_tau must be True, False or None, got {learn_tau!r}")
        if learn_tau and self.tau_learning is None:
            raise ValueError("learn_tau=True: this network learns no time constant (pass "
                             "tau_learning='tau_m' or 'tau_r' to LENetwork)")
        return bool(learn_tau)

    def _substrate_state(self, l, learn_tau):
        """Per-run values of layer l's substrate variables (docs/model.md §1.8)."""
        name, state = f"layer{l}", {}
        if self.tau_learning is not None:
            state.update({f"{name}.eta_tau": self._eta_tau if learn_tau else 0.0,
                          f"{name}.tau_min": self._tau_bounds[0],
                          f"{name}.tau_max": self._tau_bounds[1]})
        if self._rate_noise is not None:
            state[f"{name}.noise_std"] = substrate.noise_std(self._rate_noise, self._dt)
            state[f"{name}.noise_seed"] = spike_seed(self.seed, self._n_runs, f"{name}/noise")
        if self._tau_syn is not None:
            state[f"{name}.tau_syn"] = self._tau_syn
        return state

    def _collect(self, prepared, out):
        state = {name: {v: out.state[f"{name}.{v}"] for v in self._dynamic(l)}
                 for l, name in enumerate(self.populations(), start=1)}
        if self._dynamic(0):
            state["layer0"] = {v: out.state[f"layer0.{v}"] for v in self._dynamic(0)}
        weights, biases = [], []
        for l in range(1, self.n_layers + 1):
            n_pre, n_post = self.layer_sizes[l - 1], self.layer_sizes[l]
            weights.append(out.state[f"proj{l}.w"].reshape(n_pre, n_post).T.copy())
            biases.append(out.state[f"layer{l}.b"])
        return state, {"weights": weights, "biases": biases}

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
            ``{'proj1': True or [(post, pre), ...]}`` for weights. The output rates are
            always recorded.
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
