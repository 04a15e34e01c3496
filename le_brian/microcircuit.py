r"""Cortical microcircuits (Sacramento et al. 2018) with Latent Equilibrium in Brian2.

`Microcircuit` assembles the strings of :mod:`le_brian.equations.microcircuit` into
Brian2 groups and runs them on a `le_brian.devices.Simulator` (build once per shape,
rerun with new weights, inputs and flags). DESIGN.md section 3 is the specification.

One time step k is *synchronous*: no cell sees another cell's step-k values. Every
operation has an explicit slot and order (Brian2 would otherwise break ties by name):

==================  ====================================================================
slot / order        operation
==================  ====================================================================
``before_groups``   r_0 += dt/tau_0 (x_k - r_0)  (input TimedArray)
``groups`` 10       dendritic sums from the rates / visible potentials latched at the end
                    of step k-1 and the weights of step k-1: v_B = W_up r_{l-1},
                    v_A = W_down r_{l+1} + W_pi r_I, v_I = W_ip r_l, interneuron w_{l+1}
``groups`` 20       every soma: target filter and LE delay (output), u_ss, du/dt,
                    ub = u + (du/dt)/g, u += dt du/dt, w_new, post = phi(w_new),
                    postsynaptic plasticity factors
``groups`` 30       plasticity W += dt eta err_post r_pre (r_pre latched at k-1); clip W_up
``groups`` 40       latch w = w_new (ub in LE mode, u in the original mode), r = post;
                    output read-out accumulator
``end``             monitors (``start``: the per-pattern read-out monitor)
==================  ====================================================================

Every operation of one order reads only values written by lower orders or latched in
step k-1, so ties between objects of one order cannot matter. Hidden layer l at step k
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

import time
from dataclasses import dataclass, field

import numpy as np
from brian2 import Clock, Hz, Network, NeuronGroup, StateMonitor, Synapses, TimedArray, ms, second

from .equations import microcircuit as mceq
from .dense import DenseSynapses, check_all_to_all
from .devices import Built, Simulator
from .validation import as_rate, as_time, as_matrix, steps_of

__all__ = [
    "Microcircuit",
    "MicrocircuitResult",
    "MODES",
    "POPULATION_VARIABLES",
    "self_predicting_weights",
    "draw_weights",
    "bars_learning_rates",
    "bars_out_lag",
    "BARS_OUT_LAG_MS",
    "run_bars",
    "run_mimic",
    "benchmark_microcircuit",
]

MODES = ("le", "original")
INITS = ("self_predicting", "random")
PROJECTION_KINDS = ("W_up", "W_down", "W_ip", "W_pi")

#: Recordable variables per population kind.
POPULATION_VARIABLES = {
    "pyramidal": ("u", "ub", "w", "r", "v_B", "v_A", "v_A_down", "v_A_pi"),
    "interneuron": ("u", "ub", "w", "r", "v_I", "w_next"),
    "output": ("u", "ub", "w", "r", "v_B", "tgt", "nudge"),
}

#: Orders in slot ``groups``.
ORDER_DENDRITES, ORDER_SOMA, ORDER_PLASTICITY, ORDER_LATCH = 10, 20, 30, 40

#: DESIGN.md section 3 (run_bars.py): read-out lag of the original mode per
#: presentation time, both in ms. LE mode uses 0.
BARS_OUT_LAG_MS = {0.3: 0.0, 0.5: 0.2, 1.0: 0.5, 2.0: 1.0, 5.0: 2.0, 10.0: 5.0, 20.0: 15.0,
                   50.0: 40.0, 100.0: 80.0, 200.0: 80.0, 500.0: 80.0}


# ---------------------------------------------------------------------- weights
def draw_weights(layer_sizes, seed):
    r"""The authors' weight draw (DESIGN.md section 3): ``np.random.seed(seed)``, then per
    hidden layer W_up, W_down, W_pi, W_ip and finally the output W_up, every value
    :math:`(\mathrm{float32}(U[0, 1)) - 0.5) \cdot 2`.

    Uses a private ``np.random.RandomState(seed)`` (the same stream as the global
    generator after ``np.random.seed(seed)``) and returns it, so that later draws of a
    protocol (pattern orders) continue the same stream.

    Returns
    -------
    weights : dict
        ``{'W_up': [L+1 arrays], 'W_down': [L], 'W_pi': [L], 'W_ip': [L]}``, float64
        (n_post, n_pre) arrays holding float32 values.
    rng : numpy.random.RandomState
    """
    rng = np.random.RandomState(seed)
    sizes = list(layer_sizes)
    L = len(sizes) - 2

    def draw(shape):
        return ((rng.random_sample(shape).astype(np.float32) - np.float32(0.5))
                * np.float32(2)).astype(np.float64)

    out = {"W_up": [], "W_down": [], "W_pi": [], "W_ip": []}
    for l in range(1, L + 1):
        n_pre, n, n_next = sizes[l - 1], sizes[l], sizes[l + 1]
        out["W_up"].append(draw((n, n_pre)))
        out["W_down"].append(draw((n, n_next)))
        out["W_pi"].append(draw((n, n_next)))
        out["W_ip"].append(draw((n_next, n)))
    out["W_up"].append(draw((sizes[-1], sizes[-2])))
    return out, rng


def self_predicting_weights(weights, g_l, g_b, g_a, g_d):
    r"""Lateral weights of the self-predicting state (DESIGN.md section 3):

    .. math::

        W^{pi}_l = -W^{down}_l, \qquad
        W^{ip}_l = W^{up}_{l+1}\,\frac{g_b}{g_l + g_a' + g_b}\,\frac{g_l + g_d}{g_d}

    with :math:`g_a'` the apical conductance of layer l+1 (g_a for a hidden layer, 0
    for the output). Conductances as plain numbers in one unit. Returns a new dict.
    """
    out = {k: [np.array(w, dtype=float) for w in v] for k, v in weights.items()}
    L = len(out["W_down"])
    for l in range(L):
        out["W_pi"][l] = -out["W_down"][l]
        g_a_next = g_a if l + 1 < L else 0.0
        out["W_ip"][l] = out["W_up"][l + 1] * (g_b / (g_l + g_a_next + g_b)) * ((g_l + g_d) / g_d)
    return out


# ---------------------------------------------------------------------- results
@dataclass
class MicrocircuitResult:
    """Recordings of one `Microcircuit.run`.

    Attributes
    ----------
    t : Quantity
        Times of the recorded steps (Brian2's step times; the values are those at the
        end of each step; network time continues across runs). Empty when nothing was
        recorded per step.
    output : ndarray (n_recorded, n_out) or None
        Visible potential w of the output layer at every recorded step.
    pattern_outputs : ndarray (n_patterns, n_out)
        Read-out: mean of the output w over the steps i >= out_lag/dt of each pattern.
    targets : ndarray (n_patterns, n_out) or None
    states : dict
        ``states[population][variable]`` -> (n_recorded, n) arrays; populations
        ``'pyr1'``..``'pyrL'``, ``'int1'``..``'intL'``, ``'out'``.
    weights : dict
        ``weights[projection]`` -> ``{'t': Quantity, 'W': (n_recorded, n_synapses),
        'index': (n_synapses, 2) array of (post, pre)}``.
    steps_per_pattern, lag_steps, record_every_steps, n_patterns : int
    build_time, run_time : float
        Wall-clock seconds (build 0 when a compiled program was reused).
    compiled : bool
    """

    t: object
    output: object
    pattern_outputs: np.ndarray
    targets: object
    states: dict
    weights: dict
    steps_per_pattern: int
    lag_steps: int
    record_every_steps: int
    n_patterns: int
    build_time: float = 0.0
    run_time: float = 0.0
    compiled: bool = False
    extra: dict = field(default_factory=dict)

    def predictions(self):
        """Class of every pattern: argmax of its read-out."""
        return np.argmax(self.pattern_outputs, axis=1)

    def accuracy(self, patterns=None, targets=None):
        """Fraction of ``patterns`` (index array or boolean mask; default all) whose
        read-out argmax equals the target argmax (``targets`` default: the run's)."""
        y = self.targets if targets is None else np.asarray(targets, dtype=float)
        if y is None:
            raise ValueError("accuracy needs targets: the run had none, pass targets=")
        if y.shape != self.pattern_outputs.shape:
            raise ValueError(f"targets must have shape {self.pattern_outputs.shape}, "
                             f"got {y.shape}")
        hit = np.argmax(self.pattern_outputs, axis=1) == np.argmax(y, axis=1)
        if patterns is not None:
            hit = hit[np.asarray(patterns)]
        return float(np.mean(hit)) if hit.size else float("nan")


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


class Microcircuit:
    r"""A cortical microcircuit of pyramidal cells and interneurons (Sacramento et al.
    2018), with Latent Equilibrium's prospective visible potential (Haider et al. 2021).

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_in, n_h1, ..., n_hL, n_out]``, at least one hidden layer. Hidden layer l
        has n_hl pyramidal cells and n_{l+1} interneurons.
    mode : {'le', 'original'}
        Visible potential w = ub (LE) or the soma u (original); LE also delays the
        target and nudging flag by one step (DESIGN.md section 3).
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
    device : {'runtime', 'cpp_standalone', 'cuda_standalone'}
    codegen_target : {'auto', 'numpy', 'cython'}
    simulator : le_brian.devices.Simulator, optional
        Default: one shared per device configuration, so microcircuits of equal sizes
        (either mode: the mode is a run-time flag) reuse compiled programs.
    dtype : {'float64', 'float32'}
    keep_builds : bool
    out_lag : Quantity
        Default read-out lag of `run`.
    synapses : {'dense', 'plain'}
        Projections as `le_brian.dense.DenseSynapses` (dense code templates on the
        standalone devices; default) or plain `brian2.Synapses`. Same results.

    Notes
    -----
    State (u, ub, latched w and r, filters, the LE target delay) persists across `run`
    calls; `reset_state` returns to the initial state (all u = ub = 0, every rate
    phi(0), r_0 and the filtered target set from the next run's first pattern).
    """

    def __init__(self, layer_sizes, mode="le", g_l=0.03 / ms, g_b=0.1 / ms, g_a=0.06 / ms,
                 g_d=0.1 / ms, g_som=0.06 / ms, eta_up=0 * Hz, eta_ip=0 * Hz, eta_pi=0 * Hz,
                 dt=0.1 * ms, tau_0=None, seed=0, init="self_predicting",
                 activation="soft_relu", device="runtime", codegen_target="auto",
                 simulator=None, dtype="float64", keep_builds=False, out_lag=0 * ms,
                 synapses="dense"):
        sizes = list(layer_sizes) if isinstance(layer_sizes, (list, tuple, np.ndarray)) else None
        if (sizes is None or len(sizes) < 3
                or not all(isinstance(n, (int, np.integer)) and n > 0 for n in sizes)):
            raise ValueError("layer_sizes must be a list of at least three positive ints "
                             f"[n_in, n_hidden..., n_out], got {layer_sizes!r}")
        self.layer_sizes = [int(n) for n in sizes]
        self.n_hidden = len(sizes) - 2
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.init = init
        self.activation = mceq.get_activation(activation).name
        g = {}
        for name, value in dict(g_l=g_l, g_b=g_b, g_a=g_a, g_d=g_d, g_som=g_som).items():
            arr = _conductance(name, value)
            g[name] = float(arr)
        if g["g_b"] <= 0 or g["g_d"] <= 0:
            raise ValueError("g_b and g_d must be > 0 (1/ms)")
        self._g = g
        self.dt = float(as_time("dt", dt))
        g_max = g["g_l"] + g["g_b"] + max(g["g_a"], g["g_som"])
        if self.dt * g_max >= 2:
            raise ValueError(
                f"dt * (g_l + g_b + max(g_a, g_som)) must be < 2 for a stable Euler step, got "
                f"{self.dt * g_max:g} (dt = {self.dt * 1e3:g} ms, conductances in 1/ms: "
                + ", ".join(f"{k} = {v * 1e-3:g}" for k, v in g.items()) + ")")
        self.tau_0 = self.dt if tau_0 is None else float(as_time("tau_0", tau_0))
        self.set_learning_rates(eta_up=eta_up, eta_ip=eta_ip, eta_pi=eta_pi)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int, got {seed!r}")
        self.seed = int(seed)
        self.out_lag = float(as_time("out_lag", out_lag, allow_zero=True))
        if synapses not in ("dense", "plain"):
            raise ValueError(f"synapses must be 'dense' or 'plain', got {synapses!r}")
        self.synapses = synapses
        if simulator is None:
            simulator = Simulator.shared(device, codegen_target=codegen_target,
                                         keep_builds=keep_builds, dtype=dtype)
        elif (not isinstance(simulator, Simulator) or simulator.device != device
              or simulator.dtype != dtype):
            raise ValueError(f"simulator must be a le_brian.devices.Simulator for "
                             f"device={device!r}, dtype={dtype!r}")
        self._sim = simulator
        self.device = device
        self.n_builds = 0
        self.t = 0.0
        weights, self.rng = draw_weights(self.layer_sizes, self.seed)
        if init == "self_predicting":
            weights = self_predicting_weights(weights, g["g_l"], g["g_b"], g["g_a"], g["g_d"])
        self._W = weights
        self.reset_state()

    # ------------------------------------------------------------ parameters
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

    def _shapes(self):
        s, L = self.layer_sizes, self.n_hidden
        return {"W_up": [(s[l], s[l - 1]) for l in range(1, L + 2)],
                "W_down": [(s[l], s[l + 1]) for l in range(1, L + 1)],
                "W_pi": [(s[l], s[l + 1]) for l in range(1, L + 1)],
                "W_ip": [(s[l + 1], s[l]) for l in range(1, L + 1)]}

    def get_parameters(self):
        """Copies of the weights: ``{'W_up': [W_up_1, ..., W_up_L, W_up_out],
        'W_down': [...], 'W_ip': [...], 'W_pi': [...]}``, (n_post, n_pre) arrays."""
        return {k: [w.copy() for w in v] for k, v in self._W.items()}

    def set_parameters(self, W_up=None, W_down=None, W_ip=None, W_pi=None):
        """Set weights from lists of (n_post, n_pre) arrays (as `get_parameters`
        returns); None keeps a projection's weights. Everything is checked before
        anything is changed."""
        shapes = self._shapes()
        new = {}
        for name, value in dict(W_up=W_up, W_down=W_down, W_ip=W_ip, W_pi=W_pi).items():
            if value is None:
                continue
            if not isinstance(value, (list, tuple)) or len(value) != len(shapes[name]):
                raise ValueError(f"{name} must be a list of {len(shapes[name])} arrays of "
                                 f"shapes {shapes[name]}")
            new[name] = [as_matrix(f"{name}[{k}]", w, shape)
                         for k, (w, shape) in enumerate(zip(value, shapes[name]))]
        self._W.update(new)

    def save_parameters(self, path):
        """Write weights, conductances, learning rates and sizes to an ``.npz`` file."""
        arrays = {f"{k}_{i + 1}": w for k, v in self._W.items() for i, w in enumerate(v)}
        arrays.update({f"eta_up_hz": self._eta["eta_up"], "eta_ip_hz": self._eta["eta_ip"],
                       "eta_pi_hz": self._eta["eta_pi"],
                       "layer_sizes": np.array(self.layer_sizes),
                       "conductances_hz": np.array([self._g[k] for k in
                                                    ("g_l", "g_b", "g_a", "g_d", "g_som")])})
        np.savez(path, **arrays)

    def load_parameters(self, path):
        """Read weights written by `save_parameters` (sizes must match)."""
        with np.load(path) as f:
            if "layer_sizes" in f and list(f["layer_sizes"]) != self.layer_sizes:
                raise ValueError(f"{path}: layer sizes {list(f['layer_sizes'])} differ from "
                                 f"this network's {self.layer_sizes}")
            shapes = self._shapes()
            missing = [f"{k}_{i + 1}" for k, v in shapes.items() for i in range(len(v))
                       if f"{k}_{i + 1}" not in f]
            if missing:
                raise ValueError(f"{path}: missing arrays {missing}")
            self.set_parameters(**{k: [f[f"{k}_{i + 1}"] for i in range(len(v))]
                                   for k, v in shapes.items()})

    # ------------------------------------------------------------ state
    def reset_state(self):
        """All u, ub and latched w = 0 (every rate phi(0)); filters restart from the next
        run's first pattern; the LE target delay holds target 0."""
        s, L = self.layer_sizes, self.n_hidden
        r0 = float(_np_phi(self.activation, np.zeros(1))[0])
        self._state = {}
        for name, n in self._populations():
            self._state[name] = {"u": np.zeros(n), "ub": np.zeros(n), "w": np.zeros(n),
                                 "r": np.full(n, r0)}
        self._state["out"].update(tgt_f=np.zeros(s[-1]), tgt_prev=np.zeros(s[-1]),
                                  nudge_prev=None)
        self._state["inp"] = {"r": None}

    def _populations(self):
        s, L = self.layer_sizes, self.n_hidden
        pops = [(f"pyr{l}", s[l]) for l in range(1, L + 1)]
        pops += [(f"int{l}", s[l + 1]) for l in range(1, L + 1)]
        pops.append(("out", s[-1]))
        return pops

    def get_state(self):
        """Copies of the dynamic state ``{population: {variable: array}}``."""
        return {p: {v: (None if a is None else np.array(a, copy=True)) for v, a in d.items()}
                for p, d in self._state.items()}

    # ------------------------------------------------------------ building
    def _structure(self):
        return ("Microcircuit", tuple(self.layer_sizes), self.activation, self.dt,
                self.synapses)

    def _build(self, tables, steps, record, record_every, wrecord, wrecord_every):
        L, s, dt = self.n_hidden, self.layer_sizes, self.dt * second
        clock = Clock(dt, name="mc_clock")
        T = steps * dt
        ta = {
            "mc_input": TimedArray(tables["mc_input"], dt=T, name="mc_input"),
            "mc_target": TimedArray(tables["mc_target"], dt=T, name="mc_target"),
            "mc_nudge": TimedArray(tables["mc_nudge"], dt=T, name="mc_nudge"),
            "mc_learn": TimedArray(tables["mc_learn"], dt=T, name="mc_learn"),
        }
        namespace = dict(ta)
        inp = NeuronGroup(s[0], mceq.MC_INPUT, clock=clock, name="inp")
        inp.run_regularly(mceq.MC_INPUT_UPDATE.format(input="mc_input"),
                          when="before_groups", order=0, name="inp_filter")
        groups = {"inp": inp}
        state = {"inp.r": (inp, "r"), "inp.tau_0": (inp, "tau_0")}
        kinds = {f"pyr{l}": "pyramidal" for l in range(1, L + 1)}
        kinds.update({f"int{l}": "interneuron" for l in range(1, L + 1)})
        kinds["out"] = "output"
        for name, n in self._populations():
            kind = kinds[name]
            g = NeuronGroup(n, mceq.population_equations(kind), clock=clock, name=name)
            g.run_regularly(mceq.soma_code(kind, self.activation), when="groups",
                            order=ORDER_SOMA, name=f"{name}_soma")
            g.run_regularly(mceq.latch_code(kind == "output"), when="groups",
                            order=ORDER_LATCH, name=f"{name}_latch")
            groups[name] = g
            variables = ["u", "ub", "w", "r", "g_l", "g_b", "le_mode"]
            variables += {"pyramidal": ["g_a"], "interneuron": ["g_som"],
                          "output": ["g_som", "tau_0", "tgt_f", "tgt_prev", "nudge_prev",
                                     "acc", "phase", "lag_steps", "pattern_steps"]}[kind]
            for v in variables:
                state[f"{name}.{v}"] = (g, v)
        projections = {}

        def project(kind, index, source, target):
            pname = f"{kind}{index}"
            cls = DenseSynapses if self.synapses == "dense" else Synapses
            S = cls(groups[source], groups[target],
                    model=mceq.projection_equations(kind[2:]), clock=clock, name=pname)
            S.connect()
            S.summed_updaters[f"{mceq.PROJECTIONS[kind[2:]][0]}_post"].order = ORDER_DENDRITES
            code = mceq.plasticity_code(kind[2:])
            if code is not None:
                S.run_regularly(code, when="groups", order=ORDER_PLASTICITY,
                                name=f"{pname}_plasticity")
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
            mirror.summed_updaters["w_next_post"].order = ORDER_DENDRITES
            projections[f"mirror{l}"] = mirror
        project("W_up", L + 1, f"pyr{L}", "out")

        monitors = {"readout": StateMonitor(groups["out"], "acc", record=True, when="start",
                                            dt=T, name="mon_readout")}
        for pop, variables in record.items():
            monitors[f"pop:{pop}"] = StateMonitor(groups[pop], list(variables), record=True,
                                                  when="end", dt=record_every * dt,
                                                  name=f"mon_{pop}")
        for proj, index in wrecord.items():
            monitors[f"proj:{proj}"] = StateMonitor(projections[proj], "W", record=index,
                                                    when="end", dt=wrecord_every * dt,
                                                    name=f"mon_{proj}")
        net = Network(list(groups.values()), list(projections.values()),
                      list(monitors.values()))
        return Built(net, state, ta, monitors, namespace, checks=[self._check_layout])

    def _check_layout(self, built):
        """Weight arrays assume connect()'s pre-major layout: verify it once."""
        for key, (S, var) in built.state.items():
            if key.endswith(".W"):
                check_all_to_all(S, key)

    # ------------------------------------------------------------ running
    def _parse_record(self, record):
        pops = dict(self._populations())
        kinds = {p: ("output" if p == "out" else "pyramidal" if p.startswith("pyr")
                     else "interneuron") for p in pops}
        if record is None:
            return {"out": ["w"]}, {}
        if not isinstance(record, dict):
            raise TypeError("record must be a dict {population or projection: variables or "
                            "synapses}, e.g. {'out': ['w'], 'pyr1': ['u', 'v_A'], "
                            "'W_up1': True}")
        rec, wrec = {}, {}
        shapes = self._shapes()
        for key, value in record.items():
            if key in pops:
                names = [value] if isinstance(value, str) else list(value)
                for n in names:
                    if n not in POPULATION_VARIABLES[kinds[key]]:
                        raise ValueError(f"record[{key!r}]: unknown variable {n!r}; expected "
                                         f"one of {POPULATION_VARIABLES[kinds[key]]}")
                if names:
                    rec[key] = sorted(set(names))
                continue
            proj = _split_projection(key, self.n_hidden)
            if proj is None:
                raise ValueError(f"record: unknown key {key!r}; populations {sorted(pops)} "
                                 f"or projections W_up1..W_up{self.n_hidden + 1}, "
                                 f"W_down1.., W_ip1.., W_pi1..")
            kind, idx = proj
            n_post, n_pre = shapes[kind][idx - 1]
            if value is True:
                pairs = np.array([(j, i) for i in range(n_pre) for j in range(n_post)])
            else:
                pairs = np.asarray(value, dtype=int).reshape(-1, 2)
                if (pairs.size == 0 or np.any(pairs < 0) or np.any(pairs[:, 0] >= n_post)
                        or np.any(pairs[:, 1] >= n_pre)):
                    raise ValueError(f"record[{key!r}] must be True or a list of (post, pre) "
                                     f"pairs within ({n_post}, {n_pre})")
            wrec[key] = pairs
        return rec, wrec

    def compile(self, inputs, presentation_time, targets=None, record=None,
                record_every=None, record_weights_every=None, out_lag=None):
        """Generate and compile, without running, the standalone program that `run`
        would use for these arguments' shapes (e.g. brian2cuda on a machine without a
        GPU). A later `run` of the same shape does not compile. Returns the build
        directory."""
        prep = self.run(inputs, presentation_time, targets=targets, record=record,
                        record_every=record_every,
                        record_weights_every=record_weights_every, out_lag=out_lag,
                        _prepare_only=True)
        before = self._sim.n_builds
        directory = self._sim.compile(prep.key, prep.build, prep.duration, prep.tables)
        self.n_builds += self._sim.n_builds - before
        return directory

    def run(self, inputs, presentation_time, targets=None, nudge=None, learn=True,
            record=None, record_every=None, record_weights_every=None, out_lag=None,
            report=None, _prepare_only=False):
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
        report : {'text', 'stdout', None}

        Returns
        -------
        MicrocircuitResult
        """
        s = self.layer_sizes
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        x = as_matrix("inputs", inputs, (None, s[0]), what="2D array (n_patterns, n_in)")
        P = x.shape[0]
        if P == 0:
            raise ValueError("inputs must contain at least one pattern")
        steps = steps_of("presentation_time", presentation_time, self.dt)
        if targets is not None:
            y = as_matrix("targets", targets, (P, s[-1]), what="2D array (n_patterns, n_out)")
        else:
            y = np.zeros((P, s[-1]))
        nudge_flags = _flags("nudge", targets is not None if nudge is None else nudge, P)
        if targets is None and nudge_flags.any():
            raise ValueError("nudge: patterns cannot be nudged without targets")
        learn_flags = _flags("learn", learn, P)
        lag = self.out_lag if out_lag is None else float(as_time("out_lag", out_lag,
                                                                 allow_zero=True))
        lag_steps = int(round(lag / self.dt))
        if abs(lag_steps * self.dt - lag) > 1e-9 * max(lag, self.dt) or lag_steps >= steps:
            raise ValueError(f"out_lag must be a multiple of dt = {self.dt * 1e3:g} ms shorter "
                             f"than presentation_time, got {lag * 1e3:g} ms")
        every = 1 if record_every is None else steps_of("record_every", record_every, self.dt)
        wevery = (every if record_weights_every is None
                  else steps_of("record_weights_every", record_weights_every, self.dt))
        rec, wrec = self._parse_record(record)

        st = self._state
        state = {}
        le = 1.0 if self.mode == "le" else 0.0
        for name, _ in self._populations():
            for v in ("u", "ub", "w", "r"):
                state[f"{name}.{v}"] = st[name][v]
            state[f"{name}.g_l"] = self._g["g_l"]
            state[f"{name}.g_b"] = self._g["g_b"]
            state[f"{name}.le_mode"] = le
            if name.startswith("pyr"):
                state[f"{name}.g_a"] = self._g["g_a"]
            else:
                state[f"{name}.g_som"] = self._g["g_som"]
        state["inp.r"] = x[0] if st["inp"]["r"] is None else st["inp"]["r"]
        state["inp.tau_0"] = self.tau_0
        out = st["out"]
        fresh = out["nudge_prev"] is None
        state.update({"out.tau_0": self.tau_0,
                      "out.tgt_f": y[0] if fresh else out["tgt_f"],
                      "out.tgt_prev": out["tgt_prev"],
                      "out.nudge_prev": np.full(s[-1], float(nudge_flags[0])) if fresh
                      else out["nudge_prev"],
                      "out.acc": np.zeros(s[-1]), "out.phase": np.zeros(s[-1]),
                      "out.lag_steps": float(lag_steps), "out.pattern_steps": float(steps)})
        L = self.n_hidden
        for kind in PROJECTION_KINDS:
            for k, W in enumerate(self._W[kind]):
                pname = f"{kind}{k + 1}"
                state[f"{pname}.W"] = W.T.ravel()  # pre-major synapse order
                if kind == "W_up":
                    state[f"{pname}.W_max"] = 5.0 if k == L else 4.0
                    state[f"{pname}.eta"] = self._eta["eta_up"][k]
                elif kind != "W_down":
                    state[f"{pname}.eta"] = self._eta["eta_" + kind[2:]][k]
        key = (self._structure(), P, steps, every, wevery,
               tuple((p, tuple(v)) for p, v in sorted(rec.items())),
               tuple((p, v.tobytes()) for p, v in sorted(wrec.items())))
        wrec_idx = {p: v[:, 1] * self._shapes()[_split_projection(p, L)[0]][
            _split_projection(p, L)[1] - 1][0] + v[:, 0] for p, v in wrec.items()}
        duration = P * steps * self.dt * second
        tables = {"mc_input": x, "mc_target": y, "mc_nudge": nudge_flags.astype(float),
                  "mc_learn": learn_flags.astype(float)}
        prepared = _Prepared(
            key, lambda t: self._build(t, steps, rec, every, wrec_idx, wevery), duration,
            state, tables)
        if _prepare_only:
            return prepared
        res = self._sim.run(prepared.key, prepared.build, duration, state, tables,
                            report=report)
        if res.compiled:
            self.n_builds += 1
        # ---- state back
        for name, _ in self._populations():
            for v in ("u", "ub", "w", "r"):
                st[name][v] = res.state[f"{name}.{v}"]
        st["inp"]["r"] = res.state["inp.r"]
        for v in ("tgt_f", "tgt_prev", "nudge_prev"):
            st["out"][v] = res.state[f"out.{v}"]
        for kind in PROJECTION_KINDS:
            for k in range(len(self._W[kind])):
                n_post, n_pre = self._W[kind][k].shape
                self._W[kind][k] = res.state[f"{kind}{k + 1}.W"].reshape(n_pre, n_post).T.copy()
        self._check_finite()
        # ---- read-out
        acc = res.records["readout"]["acc"]  # (P, n_out): start of each pattern
        sums = np.vstack([acc[1:], res.state["out.acc"][None, :]])
        pattern_outputs = sums / (steps - lag_steps)
        states = {p: {v: res.records[f"pop:{p}"][v] for v in vs} for p, vs in rec.items()}
        weights = {}
        for p, pairs in wrec.items():
            r = res.records[f"proj:{p}"]
            weights[p] = {"t": (self.t + r["t"]) * second, "W": r["W"], "index": pairs}
        t_rec = next((res.records[f"pop:{p}"]["t"] for p in rec), np.zeros(0))
        t = (self.t + t_rec) * second
        self.t += float(duration)
        return MicrocircuitResult(
            t=t, output=states.get("out", {}).get("w"), pattern_outputs=pattern_outputs,
            targets=None if targets is None else y, states=states, weights=weights,
            steps_per_pattern=steps, lag_steps=lag_steps, record_every_steps=every,
            n_patterns=P, build_time=res.build_time, run_time=res.run_time,
            compiled=res.compiled)

    def _check_finite(self):
        bad = [f"{p}.{v}" for p, d in self._state.items() for v, a in d.items()
               if a is not None and not np.all(np.isfinite(a))]
        bad += [f"{k}{i + 1}" for k, v in self._W.items() for i, w in enumerate(v)
                if not np.all(np.isfinite(w))]
        if bad:
            raise FloatingPointError(f"{bad} became NaN/inf (learning rates too large for "
                                     f"dt = {self.dt * 1e3:g} ms, or dt*g >= 2?)")

    def __repr__(self):
        return (f"Microcircuit(layer_sizes={self.layer_sizes}, mode={self.mode!r}, "
                f"init={self.init!r}, device={self.device!r})")


# ---------------------------------------------------------------------- helpers
@dataclass
class _Prepared:
    """Everything `Simulator.run` needs for one run (shape key, build function,
    duration, initial state, TimedArray values); `Microcircuit.run` with
    ``_prepare_only=True`` returns it (build-only checks, e.g. CUDA without a GPU)."""

    key: tuple
    build: object
    duration: object
    state: dict
    tables: dict


def _conductance(name, value):
    try:
        arr = as_rate(name, value)
    except TypeError:
        raise TypeError(f"{name} must be a conductance in 1/ms (Hz-dimensioned), e.g. "
                        f"{name}=0.1/ms, got {value!r}") from None
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a scalar conductance (1/ms), got shape {arr.shape}")
    return arr


def _flags(name, value, n):
    arr = np.asarray(value)
    if arr.dtype != bool:
        raise TypeError(f"{name} must be a bool or an array of bool with one entry per "
                        f"pattern ({n}), got dtype {arr.dtype}")
    if arr.ndim == 0:
        return np.full(n, bool(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one entry per pattern ({n},), got {arr.shape}")
    return arr.copy()


def _split_projection(key, L):
    for kind in PROJECTION_KINDS:
        if isinstance(key, str) and key.startswith(kind) and key[len(kind):].isdigit():
            idx = int(key[len(kind):])
            top = L + 1 if kind == "W_up" else L
            if 1 <= idx <= top:
                return kind, idx
    return None


#: phi(0) of every activation (the initial rate of a cell at rest).
_PHI_AT_ZERO = {"soft_relu": np.log(2.0), "softplus": np.log(2.0), "sigmoid": 0.5,
                "tanh": 0.0, "hard_sigmoid": 0.0, "relu": 0.0, "linear": 0.0}


def _np_phi(name, x):
    """phi(0) of an activation, broadcast like ``x`` (initial rates)."""
    return np.full_like(np.asarray(x, dtype=float), _PHI_AT_ZERO[name])


# ---------------------------------------------------------------------- protocols
def bars_learning_rates(presentation_time):
    """eta tables of the bars task (DESIGN.md section 3): eta_up = [0.5, 0.1]/T,
    eta_ip = [0.2/T] per ms, T in ms; the T = 0.3 ms configs use the rounded values
    [1.67, 0.3333] and 0.67 per ms. eta_pi = 0. Returns a dict of Quantity lists."""
    T = float(as_time("presentation_time", presentation_time)) * 1e3  # ms
    if abs(T - 0.3) < 1e-9:
        up, ip = [1.67, 0.3333], [0.67]
    else:
        up, ip = [0.5 / T, 0.1 / T], [0.2 / T]
    return {"eta_up": [v / ms for v in up], "eta_ip": [v / ms for v in ip],
            "eta_pi": [0 / ms]}


def bars_out_lag(presentation_time, mode):
    """Read-out lag of the bars task: 0 in LE mode, `BARS_OUT_LAG_MS` in the original
    mode (presentation times outside the table: error)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    T = float(as_time("presentation_time", presentation_time)) * 1e3
    if mode == "le":
        return 0 * ms
    for t, lag in BARS_OUT_LAG_MS.items():
        if abs(t - T) < 1e-9:
            return lag * ms
    raise ValueError(f"no bars out_lag for presentation_time = {T:g} ms in the original "
                     f"mode; known: {sorted(BARS_OUT_LAG_MS)} ms (pass out_lag=)")


def bars_data():
    """The 8 bars patterns (8, 9), their classes and the targets (1.0 for the class,
    0.1 otherwise)."""
    from .datasets import bars_patterns

    x, labels = bars_patterns()
    y = np.full((len(labels), 3), 0.1)
    y[np.arange(len(labels)), labels] = 1.0
    return x, labels, y


def run_bars(presentation_time, mode="le", epochs=100, seed=12354, out_lag=None,
             device="runtime", codegen_target="auto", simulator=None, dtype="float64",
             report=None):
    r"""The bars protocol (DESIGN.md section 3, after the authors' run_bars.py).

    A 9-30-3 microcircuit (self-predicting start, dt = tau_0 = 0.1 ms, seed 12354) is
    trained in ONE run: every epoch shows the 8 training patterns in random order
    (nudged, learning), then the 8 validation patterns in random order (not nudged, no
    learning); nothing is reset in between. Orders: per epoch, ``permutation(8)`` for
    training then for validation, drawn from the weights' seeded stream after the
    weights.

    Parameters
    ----------
    presentation_time : Quantity
    mode : {'le', 'original'}
    epochs : int
    out_lag : Quantity, optional
        Default `bars_out_lag`.

    Returns
    -------
    dict
        ``val_accuracy`` (epochs,), ``train_accuracy`` (epochs,) (read-outs while
        nudged), ``pattern_outputs`` (16 epochs, 3), ``order`` (16 epochs,) pattern
        indices, ``weights`` (final, `Microcircuit.get_parameters`), ``run_time``,
        ``build_time`` (s), ``steps`` (total).
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    lag = bars_out_lag(presentation_time, mode) if out_lag is None else out_lag
    net = Microcircuit([9, 30, 3], mode=mode, dt=0.1 * ms, tau_0=0.1 * ms, seed=seed,
                       init="self_predicting", device=device, codegen_target=codegen_target,
                       simulator=simulator, dtype=dtype, out_lag=lag,
                       **bars_learning_rates(presentation_time))
    x, labels, y = bars_data()
    order, train = [], []
    for _ in range(epochs):
        order += list(net.rng.permutation(8)) + list(net.rng.permutation(8))
        train += [True] * 8 + [False] * 8
    order, train = np.array(order), np.array(train)
    res = net.run(x[order], presentation_time, targets=y[order], nudge=train, learn=train,
                  record={}, report=report)
    hit = (res.predictions() == labels[order]).reshape(epochs, 16)
    return {"val_accuracy": hit[:, 8:].mean(axis=1), "train_accuracy": hit[:, :8].mean(axis=1),
            "pattern_outputs": res.pattern_outputs, "order": order,
            "weights": net.get_parameters(), "run_time": res.run_time,
            "build_time": res.build_time, "steps": int(len(order) * res.steps_per_pattern)}


def run_classification(data, presentation_time, hidden=(30,), mode="le", epochs=10,
                       eta_up=(0.05 / ms, 0.01 / ms), eta_ip=(0.02 / ms,), lr_decay=1.0,
                       seed=0, target_on=1.0, target_off=0.1, out_lag=0 * ms, dt=0.1 * ms,
                       activation="soft_relu", device="cpp_standalone", codegen_target="auto",
                       simulator=None, progress=None):
    r"""Train a microcircuit on a classification `le_brian.datasets.Dataset` (e.g.
    Yin-Yang) with the bars protocol's rules: a self-predicting start, every epoch the
    training set in a fresh random order (nudged, learning), then the validation set
    (neither nudged nor learning); nothing is reset in between. The class is the
    argmax of the read-out (the output rate at the end of each presentation, shifted by
    ``out_lag``). The test set is evaluated after the last epoch.

    Parameters
    ----------
    data : Dataset
        ``task == 'classification'``.
    presentation_time : Quantity
    hidden : sequence of int
        Hidden layer sizes.
    mode : {'le', 'original'}
    epochs : int
    eta_up, eta_ip : sequence of Quantity
        Learning rates (W_pi is not learned, as in the bars protocol).
    lr_decay : float
        Factor applied to every learning rate after each epoch.
    seed : int
        Weight draw and presentation orders.
    target_on, target_off : float
        Target rates of the correct and the other classes.
    activation : str
        Rate function of every cell (`Microcircuit`).

    Returns
    -------
    dict
        ``val_accuracy`` (epochs,), ``test_accuracy``, ``weights``, ``run_time`` (s,
        all runs), ``steps``.
    """
    if data.task != "classification":
        raise ValueError(f"data must be a classification dataset, got task {data.task!r}")
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    sizes = [data.n_features, *[int(h) for h in hidden], data.n_outputs]
    net = Microcircuit(sizes, mode=mode, dt=dt, tau_0=dt, seed=seed, init="self_predicting",
                       activation=activation, eta_up=list(eta_up), eta_ip=list(eta_ip),
                       eta_pi=[0 / ms] * (len(sizes) - 2), device=device,
                       codegen_target=codegen_target, simulator=simulator, out_lag=out_lag)
    rng = np.random.default_rng([seed, 7])
    y_train = data.targets(data.y_train, on=target_on, off=target_off)

    def accuracy(x, labels):
        off = np.zeros(len(x), dtype=bool)
        res = net.run(x, presentation_time, targets=data.targets(labels, on=target_on,
                                                                 off=target_off),
                      nudge=off, learn=off, record={})
        return float(np.mean(res.predictions() == labels)), res

    val, run_time, steps = [], 0.0, 0
    for epoch in range(epochs):
        f = lr_decay ** epoch
        net.set_learning_rates(eta_up=[e * f for e in eta_up], eta_ip=[e * f for e in eta_ip],
                               eta_pi=[0 / ms] * (len(sizes) - 2))
        order = rng.permutation(len(data.x_train))
        res = net.run(data.x_train[order], presentation_time, targets=y_train[order],
                      record={})
        acc, vres = accuracy(data.x_val, data.y_val)
        val.append(acc)
        run_time += res.run_time + vres.run_time
        steps += (len(order) + len(data.x_val)) * res.steps_per_pattern
        if progress is not None:
            progress(f"epoch {epoch + 1}: validation accuracy {acc:.3f}")
    test, tres = accuracy(data.x_test, data.y_test)
    return {"val_accuracy": np.array(val), "test_accuracy": test,
            "weights": net.get_parameters(), "run_time": run_time + tres.run_time,
            "steps": steps + len(data.x_test) * tres.steps_per_pattern}


def run_mimic(mode="le", epochs=500, self_prediction_epochs=3, device="runtime",
              codegen_target="auto", simulator=None, record_every=0.1 * ms, report=None):
    r"""The mimic protocol (DESIGN.md section 3): a 1-1-1 student learns a teacher.

    Teacher: seed 42, self-predicting; 6 inputs U(0, 1) drawn from the teacher's seeded
    stream after its weights; targets = the teacher's pattern outputs in one run without
    nudging or learning. Student: seed 12345, random W_pi and W_ip. Phase 1
    (self-prediction): ``self_prediction_epochs`` epochs of the 6 patterns in random
    order, eta_up 0, eta_ip 40/ms, eta_pi 50/ms, no nudging, learning on. Phase 2:
    ``epochs`` epochs of 6 training patterns (nudged, learning) and 6 validation patterns
    (neither), eta_up [50, 10]/ms, eta_ip 20/ms, eta_pi 0. dt = tau_0 = 0.01 ms,
    T = 1 ms. Every phase is one run starting from rest (`Microcircuit.reset_state`).

    Returns
    -------
    dict
        ``teacher`` (weights), ``inputs`` (6, 1), ``targets`` (6, 1); per phase
        (``'self_prediction'``, ``'training'``): ``t`` (s), ``weights``
        (``{name: (n_recorded,) array}`` for W_up1, W_up2, W_ip1, W_pi1, W_down1),
        ``t_weights`` (s), ``v_A`` (apical potential of the hidden cell), and for
        training ``val_error`` (epochs,) mean squared read-out error on the validation
        patterns.
    """
    dt, T = 0.01 * ms, 1 * ms
    common = dict(mode=mode, dt=dt, tau_0=dt, device=device, codegen_target=codegen_target,
                  simulator=simulator)
    teacher = Microcircuit([1, 1, 1], seed=42, init="self_predicting", **common)
    x = teacher.rng.random_sample((6, 1))
    tres = teacher.run(x, T, learn=False, record={})
    targets = tres.pattern_outputs.copy()
    student = Microcircuit([1, 1, 1], seed=12345, init="random", eta_up=[0 / ms, 0 / ms],
                           eta_ip=[40 / ms], eta_pi=[50 / ms], **common)
    rec = {"pyr1": ["v_A"], "W_up1": True, "W_up2": True, "W_ip1": True, "W_pi1": True,
           "W_down1": True}
    out = {"teacher": teacher.get_parameters(), "inputs": x, "targets": targets}

    def pack(res):
        return {"t": np.asarray(res.t), "v_A": res.states["pyr1"]["v_A"][:, 0],
                "t_weights": np.asarray(res.weights["W_up1"]["t"]),
                "weights": {k: v["W"][:, 0] for k, v in res.weights.items()}}

    order = np.concatenate([student.rng.permutation(6) for _ in range(self_prediction_epochs)])
    res = student.run(x[order], T, learn=True, record=rec, record_every=record_every,
                      record_weights_every=T, report=report)
    out["self_prediction"] = pack(res)
    student.reset_state()
    student.set_learning_rates(eta_up=[50 / ms, 10 / ms], eta_ip=[20 / ms], eta_pi=[0 / ms])
    order, train = [], []
    for _ in range(epochs):
        order += list(student.rng.permutation(6)) + list(student.rng.permutation(6))
        train += [True] * 6 + [False] * 6
    order, train = np.array(order), np.array(train)
    res = student.run(x[order], T, targets=targets[order], nudge=train, learn=train,
                      record=rec, record_every=record_every, record_weights_every=T,
                      report=report)
    out["training"] = pack(res)
    err = ((res.pattern_outputs - targets[order]) ** 2).mean(axis=1).reshape(epochs, 12)
    out["training"]["val_error"] = err[:, 6:].mean(axis=1)
    out["student"] = student.get_parameters()
    return out


def benchmark_microcircuit(n_steps=100_000, device="cpp_standalone", numpy_steps=None,
                           simulator=None, synapses="dense"):
    """Steps/s of the bars 9-30-3 microcircuit (LE mode, learning on, nudged) on a
    Brian2 device (``synapses``: projection path) and of the NumPy loop
    (`le_brian.reference_microcircuit`) in the same process.

    The device run is timed on a second run of the compiled program (compilation
    excluded); ``numpy_steps`` (default ``min(n_steps, 20000)``) sets the NumPy loop's
    length.

    Returns
    -------
    dict
        ``device``, ``steps``, ``device_steps_per_s``, ``numpy_steps_per_s``, ``ratio``,
        ``build_time`` (s).
    """
    from .reference_microcircuit import benchmark_numpy_microcircuit

    if not isinstance(n_steps, (int, np.integer)) or n_steps < 8:
        raise ValueError(f"n_steps must be an int >= 8, got {n_steps!r}")
    T = 1 * ms
    rates = bars_learning_rates(T)
    net = Microcircuit([9, 30, 3], mode="le", device=device, simulator=simulator,
                       synapses=synapses, **rates)
    x, _, y = bars_data()
    steps = n_steps // 8
    first = net.run(x, steps * net.dt * second, targets=y, record={})
    t0 = time.perf_counter()
    res = net.run(x, steps * net.dt * second, targets=y, record={})
    wall = time.perf_counter() - t0
    dev_rate = steps * 8 / (res.run_time if res.run_time > 0 else wall)
    g = net.conductances
    np_rate = benchmark_numpy_microcircuit(
        Microcircuit([9, 30, 3], **rates).get_parameters(),
        numpy_steps or min(n_steps, 20000), mode="le",
        g_l=float(g["g_l"]), g_b=float(g["g_b"]), g_a=float(g["g_a"]),
        g_som=float(g["g_som"]), eta_up=[float(e) for e in rates["eta_up"]],
        eta_ip=[float(e) for e in rates["eta_ip"]], eta_pi=[0.0], dt=net.dt)
    return {"device": device, "synapses": synapses, "steps": steps * 8,
            "device_steps_per_s": dev_rate,
            "numpy_steps_per_s": np_rate, "ratio": dev_rate / np_rate,
            "build_time": first.build_time, "wall_time_second_run": wall}
