r"""Cortical microcircuits (Sacramento et al. 2018) with Latent Equilibrium in Brian2.

`Microcircuit` assembles the strings of :mod:`le_brian.equations.microcircuit` into
Brian2 groups and runs them on a `le_brian.engine.devices.Simulator` (build once per
structure, rerun with new weights, inputs and flags) through the lifecycle of
`le_brian.engine.network.BaseNetwork`. docs/model.md §2 is the specification.

One time step k is *synchronous*: no cell sees another cell's step-k values. Every
operation has a named slot of the network's schedule (docs/model.md §4):

==================  ====================================================================
slot                operation
==================  ====================================================================
``start``           the per-pattern read-out monitor
``mc_input``        r_0 += dt/tau_0 (x_k - r_0)  (input TimedArray)
``mc_dendrites``    dendritic sums from the rates / visible potentials latched at the end
                    of step k-1 and the weights of step k-1: v_B = W_up r_{l-1},
                    v_A = W_down r_{l+1} + W_pi r_I, v_I = W_ip r_l, interneuron w_{l+1}
``mc_soma``         every soma: target filter and LE delay (output), u_ss, du/dt,
                    ub = u + (du/dt)/g, u += dt du/dt, w_new, post = phi(w_new),
                    postsynaptic plasticity factors
``mc_plasticity``   plasticity W += dt eta err_post r_pre (r_pre latched at k-1); clip W_up
``mc_latch``        latch w = w_new (ub in LE mode, u in the original mode), r = post;
                    output read-out accumulator
``end``             monitors
==================  ====================================================================

Every operation of one slot reads only values written in earlier slots or latched in
step k-1, so ties between objects of one slot cannot matter. Hidden layer l at step k
reflects the input of step k-l+1 and the output the input of step k-L (one dt of lag
per layer, in LE mode too).

References
----------
J. Sacramento, R. Ponte Costa, Y. Bengio, W. Senn (2018). Dendritic cortical
microcircuits approximate the backpropagation algorithm. NeurIPS 31.
P. Haider, B. Ellenberger, L. Kriener, J. Jordan, W. Senn, M. A. Petrovici (2021).
Latent Equilibrium: A unified learning theory for arbitrarily fast computation with
arbitrarily slow neurons. NeurIPS 34. arXiv:2110.14549.
"""


import numpy as np
from brian2 import (Clock, Equations, Hz, NeuronGroup, StateMonitor, Synapses, TimedArray,
                    second)

from ..activations import np_activation
from ..engine.dense import DenseSynapses
from ..engine.network import BaseNetwork, Prepared, monitor_clock
from ..engine.results import MicrocircuitResult
from ..engine.spiking import SPIKING_OPS, add_spiking, \
    document_spiking_parameters
from ..engine.spiking import initial_state as spiking_initial_state
from ..engine.validation import (as_conductance, as_flags, as_rate, as_time, check_choice,
                                 steps_of)
from ..params import INITS, MODES, MicrocircuitParameters, Substrate
from .microcircuit_weights import draw_weights, self_predicting_weights  # noqa: F401
from ..equations import microcircuit as mceq
from .. import substrate

#: Defaults of the keyword constructor: the fields of `le_brian.params.MicrocircuitParameters`.
_D = {name: f.default for name, f in MicrocircuitParameters.fields().items()}
_JITTER = Substrate.fields()["tau_jitter"]

__all__ = [
    "Microcircuit",
    "POPULATION_VARIABLES",
    "SLOTS",
    "self_predicting_weights",
    "draw_weights",
]

PROJECTION_KINDS = ("W_up", "W_down", "W_ip", "W_pi")

#: Recordable variables per population kind.
POPULATION_VARIABLES = {
    "pyramidal": ("u", "ub", "w", "r", "v_B", "v_A", "v_A_down", "v_A_pi", "err_up",
                  "err_pi"),
    "interneuron": ("u", "ub", "w", "r", "v_I", "w_next", "err_ip"),
    "output": ("u", "ub", "w", "r", "v_B", "tgt", "nudge", "err_up"),
}

#: le_brian's scheduling slots of one step, in order (docs/model.md §4).
SLOTS = ("mc_input", "mc_dendrites", "mc_soma", "mc_plasticity", "mc_latch")

#: Plasticity forms of a spiking microcircuit (docs/model.md §5.2): the dendritic error
#: phi(post) - phi(v_hat), or the Urbanczik-Senn form with the unit's spike train s of
#: the previous step in place of phi(post).
PLASTICITY_FORMS = ("rate", "urbanczik_senn")

#: Clip bounds of W_up: hidden layers, output layer (docs/model.md §2.2).
W_UP_BOUNDS = (4.0, 5.0)


# ---------------------------------------------------------------------- model
def _eta_list(name, value, L, output_entry):
    """eta lists of the authors' configs: W_up [hidden..., output] (L+1 entries); W_ip
    and W_pi [hidden...] with an optional unused last entry. A scalar applies to all."""
    n = L + 1 if output_entry else L
    if isinstance(value, (list, tuple)):
        allowed = (n,) if output_entry else (L, L + 1)
        if len(value) not in allowed:
            raise ValueError(f"{name} must be a rate in Hz or a list of {n} rates "
                             f"{'[hidden..., output]' if output_entry else '[hidden...] (an extra last entry is ignored)'}, "
                             f"got {len(value)} entries")
        vals = [float(as_rate(f"{name}[{k}]", v)) for k, v in enumerate(value)][:n]
    else:
        arr = as_rate(name, value)
        if arr.ndim != 0:
            raise ValueError(f"{name} must be a scalar rate or a list, got shape {arr.shape}")
        vals = [float(arr)] * n
    return vals


class Microcircuit(BaseNetwork):
    r"""A cortical microcircuit of pyramidal cells and interneurons (Sacramento et al.
    2018), with Latent Equilibrium's prospective visible potential (Haider et al. 2021).

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_in, n_h1, ..., n_hL, n_out]``, at least one hidden layer. Hidden layer l
        has n_hl pyramidal cells and n_{l+1} interneurons.
    mode : {'le', 'original'}
        Visible potential w = ub (LE) or the soma u (original); LE also delays the
        target and nudging flag by one step (docs/model.md §2.4).
    g_l, g_b, g_a, g_d, g_som : Quantity
        Leak, basal, apical, dendritic (self-predicting initialisation only) and somatic
        nudging conductances, in 1/ms (Hz-dimensioned), e.g. ``0.1/ms``.
    eta_up : Quantity or list of Quantity
        Learning rates (Hz) of W_up: ``[hidden..., output]`` (L+1 entries) or a scalar.
    eta_ip, eta_pi : Quantity or list of Quantity
        Learning rates of W_ip and W_pi: ``[hidden...]`` (an extra last entry, as in
        the authors' configs, is ignored) or a scalar. 0 Hz switches a projection off.
    dt : Quantity
        Euler step.
    tau_0 : Quantity
        Time constant of the input and target low-pass filter (default ``dt``: the
        value passes through).
    seed : int
        Weight draw (`draw_weights`).
    init : {'self_predicting', 'random'}
        'self_predicting' sets W_pi = -W_down and W_ip from W_up of the next layer
        (`self_predicting_weights`); 'random' keeps the drawn W_pi and W_ip.
    activation : str
        Rate function (default the authors' thresholded softplus ``'soft_relu'``).
    {device_parameter}
    codegen_target : {'auto', 'numpy', 'cython'}
    simulator : le_brian.engine.devices.Simulator, optional
        Default: one shared per device configuration, so microcircuits of equal sizes
        (either mode: the mode is a run-time flag) reuse compiled programs.
    dtype : {'float64', 'float32'}
    keep_builds : bool
    out_lag : Quantity
        Default read-out lag of `run`.
    synapses : {'dense', 'plain'}
        Projections as `le_brian.engine.dense.DenseSynapses` (dense code templates on the
        standalone devices; default) or plain `brian2.Synapses`. Same results.
    {spiking_parameters}
    tau_jitter : float or (float, float)
        Time-constant mismatch (docs/model.md §1.8, §2.1): every soma's tau_m = c_m / g
        and tau_r = c_r / g (g its total conductance g_P, g_I or g_O) with c_m, c_r
        independent N(1, sigma^2) draws, so that tau = (1/g) N(1, sigma^2) clipped to
        ``tau_bounds``. The jitter is a capacitance mismatch: the conductances, and so
        every steady state u_ss, stay as given. One sigma or ``(sigma_m, sigma_r)``;
        drawn with ``numpy.random.default_rng((seed, 1))`` over the populations in
        order (pyr1.., int1.., out), c_m first. Default 0.
    tau_bounds : (Quantity, Quantity)
        Clipping range of the jittered time constants (default 1 ms .. 1000 ms).

    Notes
    -----
    State (u, ub, latched w and r, filters, the LE target delay) persists across `run`
    calls; `reset_state` returns to the initial state (all u = ub = 0, every rate
    phi(0), r_0 and the filtered target set from the next run's first pattern).
    Parameters: `get_parameters` returns ``{'W_up': [W_up_1, ..., W_up_L, W_up_out],
    'W_down': [...], 'W_pi': [...], 'W_ip': [...]}`` ((n_post, n_pre) arrays).

    The Brian2 objects are named ``inp``, ``pyr1``..``pyrL``, ``int1``..``intL``,
    ``out`` (groups) and ``W_up1``..``W_up{L+1}``, ``W_down1``.., ``W_pi1``..,
    ``W_ip1``.., ``mirror1``.. (projections); `run` accepts ``objects=`` to add your own
    monitors and groups to the program.
    """

    kind = "Microcircuit"
    weight_variable = "W"
    output_population = "out"
    default_record = {"out": ["w"]}

    def __init__(self, layer_sizes, mode=_D["mode"], g_l=_D["g_l"], g_b=_D["g_b"],
                 g_a=_D["g_a"], g_d=_D["g_d"], g_som=_D["g_som"], eta_up=0 * Hz,
                 eta_ip=0 * Hz, eta_pi=0 * Hz, dt=_D["dt"], tau_0=None, seed=_D["seed"],
                 init=_D["init"], activation=_D["activation"], device=_D["device"],
                 codegen_target=_D["codegen_target"], simulator=None, dtype=_D["dtype"],
                 keep_builds=False, out_lag=_D["out_lag"], synapses=_D["synapses"],
                 threads=_D["threads"], spiking=_D["spiking"], n_per_unit=_D["n_per_unit"],
                 r_max=_D["r_max"], tau_s=_D["tau_s"], spiking_output=_D["spiking_output"],
                 t_ref=_D["t_ref"], spike_draw=_D["spike_draw"],
                 prospective_trace=_D["prospective_trace"], max_rate=_D["max_rate"],
                 plasticity="rate", tau_jitter=_JITTER.default,
                 tau_bounds=substrate.DEFAULT_TAU_BOUNDS):
        # every keyword that is a parameter field: checked by its field (le_brian.params)
        MicrocircuitParameters.check_arguments(locals())
        super().__init__(layer_sizes, min_layers=3, sizes_form="[n_in, n_hidden..., n_out]",
                         dt=dt, seed=seed, device=device, codegen_target=codegen_target,
                         keep_builds=keep_builds, threads=threads, simulator=simulator,
                         dtype=dtype)
        self.n_hidden = len(self.layer_sizes) - 2
        self.mode = check_choice("mode", mode, MODES)
        self.init = check_choice("init", init, INITS)
        self.activation = mceq.get_activation(activation).name
        g = {name: float(as_conductance(name, value)) for name, value in
             dict(g_l=g_l, g_b=g_b, g_a=g_a, g_d=g_d, g_som=g_som).items()}
        self._g = g
        g_max = g["g_l"] + g["g_b"] + max(g["g_a"], g["g_som"])
        if self._dt * g_max >= 2:
            raise ValueError(
                f"dt * (g_l + g_b + max(g_a, g_som)) must be < 2 for a stable Euler step, got "
                f"{self._dt * g_max:g} (dt = {self._dt * 1e3:g} ms, conductances in 1/ms: "
                + ", ".join(f"{k} = {v * 1e-3:g}" for k, v in g.items()) + ")")
        self._tau_0 = self._dt if tau_0 is None else float(as_time("tau_0", tau_0))
        self._init_jitter(tau_jitter, tau_bounds)
        self.set_learning_rates(eta_up=eta_up, eta_ip=eta_ip, eta_pi=eta_pi)
        self._out_lag = float(as_time("out_lag", out_lag, allow_zero=True))
        self.synapses = check_choice("synapses", synapses, ("dense", "plain"))
        weights, self.rng = draw_weights(self.layer_sizes, self.seed)
        if init == "self_predicting":
            weights = self_predicting_weights(weights, g["g_l"], g["g_b"], g["g_a"], g["g_d"])
        self._params = weights
        if not isinstance(spiking_output, (bool, np.bool_)):
            raise TypeError(f"spiking_output must be True or False, got {spiking_output!r}")
        self._init_spiking(spiking, n_per_unit, r_max, tau_s,
                           {p: self.activation for p in self.populations()
                            if spiking_output or p != "out"}, t_ref, spike_draw,
                           prospective_trace, max_rate)
        self.plasticity = check_choice("plasticity", plasticity, PLASTICITY_FORMS)
        if plasticity == "urbanczik_senn" and not (spiking and spiking_output):
            raise ValueError("plasticity='urbanczik_senn' uses the postsynaptic spike train: "
                             "it needs spiking=True (with spiking_output=True)")
        self.reset_state()

    def _init_jitter(self, tau_jitter, tau_bounds):
        """Per-neuron c_m, c_r: tau = (1/g) N(1, sigma^2) clipped (docs/model.md §1.8)."""
        self.tau_jitter = substrate.check_jitter(tau_jitter)
        self._tau_bounds = substrate.check_tau_bounds(tau_bounds)
        pops = self.populations()
        g = {p: self._totalas_conductance(p) for p in pops}
        nominal = [np.full(n, 1 / g[p]) for p, n in pops.items()]
        rng = np.random.default_rng((self.seed, substrate.JITTER_STREAM))
        self._c = {}
        for var, sigma in zip(("c_m", "c_r"), self.tau_jitter):
            taus = substrate.draw_time_constants(nominal, sigma, rng, tau_bounds,
                                                 var.replace("c_", "tau_"))
            self._c[var] = {p: t * g[p] for p, t in zip(pops, taus)}

    def _totalas_conductance(self, population):
        """g_P, g_I or g_O of a population, in Hz."""
        g = self._g
        extra = g["g_a"] if self._kind_of(population) == "pyramidal" else g["g_som"]
        return g["g_l"] + g["g_b"] + extra

    @property
    def tau_m(self):
        """Membrane time constants c_m / g per population (Quantity arrays)."""
        return {p: c / self._totalas_conductance(p) * second for p, c in self._c["c_m"].items()}

    @property
    def tau_r(self):
        """Prospective time constants c_r / g per population (Quantity arrays)."""
        return {p: c / self._totalas_conductance(p) * second for p, c in self._c["c_r"].items()}

    # ------------------------------------------------------------ populations
    def populations(self):
        """``{'pyr1': n_1, ..., 'int1': n_2, ..., 'out': n_out}``: the dynamic groups."""
        s, L = self.layer_sizes, self.n_hidden
        pops = {f"pyr{l}": s[l] for l in range(1, L + 1)}
        pops.update({f"int{l}": s[l + 1] for l in range(1, L + 1)})
        pops["out"] = s[-1]
        return pops

    def _kind_of(self, population):
        return ("output" if population == "out" else
                "pyramidal" if population.startswith("pyr") else "interneuron")

    def recordable(self):
        """``{population: variables}`` (`POPULATION_VARIABLES` by kind; spiking
        populations add their trace ``x``, and ``xp`` with a prospective trace)."""
        spiking = self.spiking_populations()
        return {p: POPULATION_VARIABLES[self._kind_of(p)]
                + (self.spiking.recordable if p in spiking else ())
                for p in self.populations()}

    def projections_shapes(self):
        """``{'W_up1': (n_1, n_0), ..., 'W_down1': ..., 'W_pi1': ..., 'W_ip1': ...}``:
        the plastic and top-down projections and their (n_post, n_pre)."""
        return {f"{kind}{k + 1}": shape for kind, shapes in self._parameter_shapes().items()
                for k, shape in enumerate(shapes)}

    def slots(self):
        """le_brian's scheduling slots of one step, in order (`SLOTS`; spiking mode adds
        ``mc_spikes`` after ``mc_latch``)."""
        return SLOTS + (("mc_spikes",) if self.spiking is not None else ())

    # ------------------------------------------------------------ parameters
    @property
    def tau_0(self):
        """Time constant of the input and target filter (Quantity)."""
        return self._tau_0 * second

    @property
    def out_lag(self):
        """Default read-out lag of `run` (Quantity)."""
        return self._out_lag * second

    @property
    def conductances(self):
        """``{'g_l': Quantity, ...}``."""
        return {k: v * Hz for k, v in self._g.items()}

    @property
    def learning_rates(self):
        """``{'eta_up': [L+1 Quantities], 'eta_ip': [L], 'eta_pi': [L]}``."""
        return {k: [e * Hz for e in v] for k, v in self._eta.items()}

    def set_learning_rates(self, eta_up=None, eta_ip=None, eta_pi=None):
        """Set learning rates (Hz); None keeps the current value (see the class doc)."""
        L = len(self.layer_sizes) - 2
        eta = dict(getattr(self, "_eta", {}))
        if eta_up is not None:
            eta["eta_up"] = _eta_list("eta_up", eta_up, L, True)
        if eta_ip is not None:
            eta["eta_ip"] = _eta_list("eta_ip", eta_ip, L, False)
        if eta_pi is not None:
            eta["eta_pi"] = _eta_list("eta_pi", eta_pi, L, False)
        self._eta = eta

    def _parameter_shapes(self):
        s, L = self.layer_sizes, self.n_hidden
        return {"W_up": [(s[l], s[l - 1]) for l in range(1, L + 2)],
                "W_down": [(s[l], s[l + 1]) for l in range(1, L + 1)],
                "W_pi": [(s[l], s[l + 1]) for l in range(1, L + 1)],
                "W_ip": [(s[l + 1], s[l]) for l in range(1, L + 1)]}

    def set_parameters(self, W_up=None, W_down=None, W_ip=None, W_pi=None):
        """Set weights from lists of (n_post, n_pre) arrays (as `get_parameters`
        returns); None keeps a projection's weights. Everything is checked before
        anything is changed."""
        super().set_parameters(W_up=W_up, W_down=W_down, W_ip=W_ip, W_pi=W_pi)

    def _check_parameters(self, new):
        """W_up is clipped to +-W_UP_BOUNDS after every learning step (docs/model.md
        §2.2): a value beyond its bound would be changed silently by the first learning
        step, so it is refused."""
        for k, w in enumerate(new.get("W_up", [])):
            bound = W_UP_BOUNDS[1 if k == self.n_hidden else 0]
            if np.abs(w).max(initial=0) > bound:
                raise ValueError(f"W_up[{k}] must lie within its clip bound +-{bound:g} "
                                 f"(docs/model.md §2.2), found {w.flat[np.abs(w).argmax()]:g}")

    def _parameter_metadata(self):
        return {"eta_up_hz": self._eta["eta_up"], "eta_ip_hz": self._eta["eta_ip"],
                "eta_pi_hz": self._eta["eta_pi"],
                "conductances_hz": np.array([self._g[k] for k in
                                             ("g_l", "g_b", "g_a", "g_d", "g_som")])}

    # ------------------------------------------------------------ state
    def _initial_state(self):
        """All u, ub and latched w = 0 (every rate phi(0)); filters restart from the next
        run's first pattern (None); the LE target delay holds target 0."""
        r0 = np_activation(self.activation).at_zero
        state = {name: {"u": np.zeros(n), "ub": np.zeros(n), "w": np.zeros(n),
                        "r": np.full(n, r0)} for name, n in self.populations().items()}
        n_out = self.layer_sizes[-1]
        state["out"].update(tgt_f=np.zeros(n_out), tgt_prev=np.zeros(n_out), nudge_prev=None)
        state["inp"] = {"r": None}
        for name in self.spiking_populations():  # x and s at their mean at rest
            state[name].update(spiking_initial_state(self.populations()[name], r0))
        return state

    def _state_size(self, population, variable):
        return self.layer_sizes[0] if population == "inp" else self.populations()[population]

    # ------------------------------------------------------------ building
    def _build_model(self, tables, steps, record, record_every, wrecord, wrecord_every, neurons,
                     record_spikes):
        L, dt = self.n_hidden, self.dt
        spiking = self.spiking_populations()
        spike_objects, spike_monitors = [], []
        clock = Clock(dt, name="mc_clock")
        T = steps * dt
        ta = {name: TimedArray(tables[name], dt=T, name=name)
              for name in ("mc_input", "mc_target", "mc_nudge", "mc_learn")}
        inp = NeuronGroup(self.layer_sizes[0], mceq.MC_INPUT, clock=clock, name="inp")
        inp.run_regularly(mceq.MC_INPUT_UPDATE.format(input="mc_input"), when="mc_input",
                          name="inp_filter")
        inp.state_updater.when = "mc_input"  # no equations to integrate
        groups = {"inp": inp}
        state = {"inp.r": (inp, "r"), "inp.tau_0": (inp, "tau_0")}
        for name in self.populations():
            kind = self._kind_of(name)
            eqs = mceq.population_equations(kind)
            if name in spiking:
                eqs += Equations(self.spiking.unit_equations())
            g = NeuronGroup(self.populations()[name], eqs, clock=clock, name=name)
            g.state_updater.when = "mc_soma"  # no equations to integrate (run_regularly)
            post = "s" if self.plasticity == "urbanczik_senn" else "post"
            g.run_regularly(mceq.soma_code(kind, self.activation, post=post), when="mc_soma",
                            name=f"{name}_soma")
            g.run_regularly(mceq.latch_code(kind == "output"), when="mc_latch",
                            name=f"{name}_latch")
            groups[name] = g
            if name in spiking:  # after every latch: spikes from the latched rates
                objs, spike_state, mon = add_spiking(
                    g, name, self.spiking, "r", "mc_spikes", SPIKING_OPS * spiking.index(name),
                    clock,
                    name in record_spikes)
                spike_objects += objs
                state.update(spike_state)
                spike_monitors += [mon] if mon is not None else []
            variables = ["u", "ub", "w", "r", "g_l", "g_b", "le_mode", "c_m", "c_r"]
            variables += {"pyramidal": ["g_a"], "interneuron": ["g_som"],
                          "output": ["g_som", "tau_0", "tgt_f", "tgt_prev", "nudge_prev",
                                     "acc", "phase", "lag_steps", "pattern_steps"]}[kind]
            for v in variables:
                state[f"{name}.{v}"] = (g, v)
        projections = {}

        def project(kind, index, source, target):
            pname = f"{kind}{index}"
            cls = DenseSynapses if self.synapses == "dense" else Synapses
            rate = self.spiking.read_variable if source in spiking else "r"
            S = cls(groups[source], groups[target],
                    model=mceq.projection_equations(kind[2:], rate), clock=clock, name=pname)
            S.connect()
            S.summed_updaters[f"{mceq.PROJECTIONS[kind[2:]][0]}_post"].when = "mc_dendrites"
            code = mceq.plasticity_code(kind[2:], rate)
            if code is not None:
                S.run_regularly(code, when="mc_plasticity", name=f"{pname}_plasticity")
                state[f"{pname}.eta"] = (S, "eta")
            if kind == "W_up":
                state[f"{pname}.W_max"] = (S, "W_max")
            state[f"{pname}.W"] = (S, "W")
            projections[pname] = S

        for l in range(1, L + 1):
            below = "inp" if l == 1 else f"pyr{l - 1}"
            above = "out" if l == L else f"pyr{l + 1}"
            project("W_up", l, below, f"pyr{l}")
            project("W_down", l, above, f"pyr{l}")
            project("W_pi", l, f"int{l}", f"pyr{l}")
            project("W_ip", l, f"pyr{l}", f"int{l}")
            mirror = Synapses(groups[above], groups[f"int{l}"], model=mceq.MC_MIRROR,
                              clock=clock, name=f"mirror{l}")
            mirror.connect(j="i")
            mirror.summed_updaters["w_next_post"].when = "mc_dendrites"
            projections[f"mirror{l}"] = mirror
        project("W_up", L + 1, f"pyr{L}", "out")

        monitors = {"readout": StateMonitor(groups["out"], "acc", record=True, when="start",
                                            clock=monitor_clock(T, "monitor_readout"),
                                            name="monitor_readout")}
        return self._assemble(groups, projections, record, record_every * dt, wrecord,
                              wrecord_every * dt, neurons, spike_objects, spike_monitors,
                              state, ta, dict(ta), clock, monitors=monitors)

    # ------------------------------------------------------------ running
    def _prepare(self, inputs, presentation_time, targets, nudge, learn, record, record_every,
                 record_weights_every, out_lag, objects, record_spikes=False,
                 record_neurons=None):
        s = self.layer_sizes
        run = self._prepare_run(inputs, presentation_time, targets, record, record_every,
                                record_neurons, record_spikes, unit="n_patterns")
        x, y, steps, every = run["x"], run["y"], run["steps"], run["every"]
        rec, wrec, neurons = run["rec"], run["wrec"], run["neurons"]
        record_spikes = run["record_spikes"]
        P = x.shape[0]
        nudge_flags = as_flags("nudge", targets is not None if nudge is None else nudge, P)
        if targets is None and nudge_flags.any():
            raise ValueError("nudge: patterns cannot be nudged without targets")
        learn_flags = as_flags("learn", learn, P)
        lag = self._out_lag if out_lag is None else float(as_time("out_lag", out_lag,
                                                                  allow_zero=True))
        lag_steps = int(round(lag / self._dt))
        if abs(lag_steps * self._dt - lag) > 1e-9 * max(lag, self._dt) or lag_steps >= steps:
            raise ValueError(f"out_lag must be a multiple of dt = {self._dt * 1e3:g} ms shorter "
                             f"than presentation_time, got {lag * 1e3:g} ms")
        wevery = (every if record_weights_every is None
                  else steps_of("record_weights_every", record_weights_every, self._dt))

        st, state = self._state, {}
        le = 1.0 if self.mode == "le" else 0.0
        for name in self.populations():
            for v in ("u", "ub", "w", "r"):
                state[f"{name}.{v}"] = st[name][v]
            state[f"{name}.g_l"] = self._g["g_l"]
            state[f"{name}.g_b"] = self._g["g_b"]
            state[f"{name}.le_mode"] = le
            state[f"{name}.c_m"] = self._c["c_m"][name]
            state[f"{name}.c_r"] = self._c["c_r"][name]
            if name.startswith("pyr"):
                state[f"{name}.g_a"] = self._g["g_a"]
            else:
                state[f"{name}.g_som"] = self._g["g_som"]
        state["inp.r"] = x[0] if st["inp"]["r"] is None else st["inp"]["r"]
        state["inp.tau_0"] = self._tau_0
        out = st["out"]
        fresh = out["nudge_prev"] is None
        state.update({"out.tau_0": self._tau_0,
                      "out.tgt_f": y[0] if fresh else out["tgt_f"],
                      "out.tgt_prev": out["tgt_prev"],
                      "out.nudge_prev": np.full(s[-1], float(nudge_flags[0])) if fresh
                      else out["nudge_prev"],
                      "out.acc": np.zeros(s[-1]), "out.phase": np.zeros(s[-1]),
                      "out.lag_steps": float(lag_steps), "out.pattern_steps": float(steps)})
        for kind in PROJECTION_KINDS:
            for k, W in enumerate(self._params[kind]):
                pname = f"{kind}{k + 1}"
                state[f"{pname}.W"] = W.T.ravel()  # pre-major synapse order
                if kind == "W_up":
                    state[f"{pname}.W_max"] = W_UP_BOUNDS[1 if k == self.n_hidden else 0]
                    state[f"{pname}.eta"] = self._eta["eta_up"][k]
                elif kind != "W_down":
                    state[f"{pname}.eta"] = self._eta["eta_" + kind[2:]][k]
        tables = {"mc_input": x, "mc_target": y, "mc_nudge": nudge_flags.astype(float),
                  "mc_learn": learn_flags.astype(float)}
        state.update(self._spiking_state())
        build = self._builder(
            lambda t: self._build_model(t, steps, rec, every, wrec, wevery, neurons,
                                        record_spikes),
            objects)
        return Prepared(build, P * steps * self.dt, state, tables,
                        info=dict(steps=steps, every=every, rec=rec, wrec=wrec, n_samples=P,
                                  neurons=neurons,
                                  lag_steps=lag_steps, targets=None if targets is None else y))

    def _collect(self, prepared, out):
        state = self.get_state()
        for name in self.populations():
            for v in ("u", "ub", "w", "r"):
                state[name][v] = out.state[f"{name}.{v}"]
        state["inp"]["r"] = out.state["inp.r"]
        for v in ("tgt_f", "tgt_prev", "nudge_prev"):
            state["out"][v] = out.state[f"out.{v}"]
        params = {}
        for kind in PROJECTION_KINDS:
            params[kind] = []
            for k, W in enumerate(self._params[kind]):
                n_post, n_pre = W.shape
                params[kind].append(out.state[f"{kind}{k + 1}.W"].reshape(n_pre, n_post).T.copy())
        return state, params

    def _result(self, prepared, out, common):
        info = prepared.info
        acc = out.records["readout"]["acc"]  # (P, n_out): start of each pattern
        sums = np.vstack([acc[1:], out.state["out.acc"][None, :]])
        return MicrocircuitResult(
            output=common["states"].get("out", {}).get("w"),
            pattern_outputs=sums / (info["steps"] - info["lag_steps"]),
            targets=info["targets"], lag_steps=info["lag_steps"], **common)

    def compile(self, inputs, presentation_time, targets=None, record=None,
                record_every=None, record_weights_every=None, out_lag=None, objects=None,
                record_spikes=False, record_neurons=None):
        """Generate and compile, without running, the standalone program that `run`
        would use for these arguments (e.g. brian2cuda on a machine without a GPU).
        A later `run` of the same structure does not compile. Returns the build
        directory."""
        return self._compile(self._prepare(inputs, presentation_time, targets, None, True,
                                           record, record_every, record_weights_every,
                                           out_lag, objects, record_spikes, record_neurons))

    def run(self, inputs, presentation_time, targets=None, nudge=None, learn=True,
            record=None, record_every=None, record_weights_every=None, out_lag=None,
            objects=None, report=None, record_spikes=False, record_neurons=None):
        """Present ``inputs`` back to back, each for ``presentation_time``.

        Parameters
        ----------
        inputs : array (n_patterns, n_in)
            Input rates x (low-pass filtered with tau_0 into r_0).
        presentation_time : Quantity
            Positive integer multiple of dt.
        targets : array (n_patterns, n_out) or None
            Output targets (potentials) u_tgt. None: zeros and no nudging.
        nudge : bool or array of bool (n_patterns,), optional
            Which patterns nudge the output towards their target. Default: all when
            targets are given, none otherwise.
        learn : bool or array of bool (n_patterns,)
            Which patterns learn (plasticity of W_up, W_ip, W_pi).
        record : dict, optional
            ``{population: [variables]}`` (populations ``'pyr1'``.., ``'int1'``..,
            ``'out'``; variables in `POPULATION_VARIABLES`) and
            ``{projection: True or [(post, pre), ...]}`` (``'W_up1'``, ...,
            ``'W_up{L+1}'`` (output), ``'W_down1'``, ``'W_ip1'``, ``'W_pi1'``, ...).
            Default ``{'out': ['w']}``; ``{}`` records nothing per step (the per-pattern
            read-out is always computed).
        record_every, record_weights_every : Quantity, optional
            Recording intervals (multiples of dt; default dt, weights: ``record_every``).
        out_lag : Quantity, optional
            Read-out: mean of the output w over the steps i >= out_lag/dt of every
            pattern (default the network's ``out_lag``).
        objects : callable, optional
            ``objects(NetworkObjects) -> list`` of your own Brian2 objects (each with an
            explicit ``name=``), added to this run's program; what their monitors
            recorded is in ``result.recordings``.
        report : {'text', 'stdout', None}
        record_spikes : bool or list of str
            Spiking microcircuits: record the spikes of every spiking population (True)
            or of those named (``['pyr1', 'int1', 'out']``) into ``result.spikes``.
        record_neurons : dict, optional
            ``{population: neuron indices}``: record the states of these neurons only
            (Brian2's ``StateMonitor(record=indices)``); columns of ``result.states``
            follow ``result.recorded_neurons``. ``'out'`` is always recorded whole.

        Returns
        -------
        le_brian.engine.results.MicrocircuitResult
        """
        return self._execute(self._prepare(inputs, presentation_time, targets, nudge, learn,
                                           record, record_every, record_weights_every,
                                           out_lag, objects, record_spikes, record_neurons),
                             report)

    def _divergence_hint(self):
        return (f"learning rates too large for dt = {self._dt * 1e3:g} ms, or "
                "dt*g >= 2?")

    def __repr__(self):
        return (f"Microcircuit(layer_sizes={self.layer_sizes}, mode={self.mode!r}, "
                f"init={self.init!r}, device={self.device!r})")


document_spiking_parameters(
    Microcircuit, r_max="2 kHz: soft_relu rates reach ~5, and r_max phi dt stays <= 1",
    output="The output pyramidal cells spike too (default; what W_down reads); the "
    "read-out\n    is their visible potential either way.")


# ---------------------------------------------------------------------- helpers
