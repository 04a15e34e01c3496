r"""Plain NumPy cortical microcircuit (docs/model.md §2), for tests and benchmarks.

Written from the specification directly and independent of the Brian2 code and of the
equation strings (the rate function comes from the NumPy table `le_brian.activations`).
Units: times in seconds, conductances and learning rates in Hz (SI), so that numbers
agree with the Brian2 network to rounding. Imports nothing of the Brian2 path, and the
Brian2 path imports nothing of it.

One synchronous step k (all cells read the w and r latched at the end of step k-1):

0. r_0 += dt/tau_0 (x_k - r_0); the same filter for the target;
1. v_B = W_up r_{l-1}; v_A = W_down r_{l+1} + W_pi r_I; v_I = W_ip r_l;
2. every soma: u_ss, du/dt = g (u_ss - u), ub = u + (du/dt)/g, u += dt du/dt;
   hidden: u_ss = (g_b v_B + g_a v_A)/(g_l + g_b + g_a);
   interneuron: u_ss = (g_b v_I + g_som w_{l+1})/(g_l + g_b + g_som);
   output: (g_b v_B + g_som u_tgt)/(g_l + g_b + g_som) when nudged, else
   g_b v_B/(g_l + g_b), with g = g_l + g_b + g_som in both cases; in LE mode the target
   and nudge flag of step k-1 (target 0 and the first flag at step 0);
3. plasticity with post = phi(new visible potential) and the pre rates of step k-1:
   W_up += dt eta [post - phi(g_b/g_P v_B)] r_{l-1}^T, clipped to [-4, 4] ([-5, 5] and
   g_b/(g_l+g_b) for the output); W_ip += dt eta [post_I - phi(g_b/(g_l+g_b) v_I)] r_l^T;
   W_pi += dt eta (-v_A) r_I^T;
4. latch w (ub in LE, u in the original mode) and r = phi(w).
"""

import time

import numpy as np

from ..activations import NP_ACTIVATIONS

__all__ = ["soft_relu", "NumpyMicrocircuit", "benchmark_numpy_microcircuit"]


soft_relu = NP_ACTIVATIONS["soft_relu"].phi


class NumpyMicrocircuit:
    """The microcircuit stepped by a NumPy loop (float64).

    Parameters
    ----------
    weights : dict
        ``{'W_up': [L+1 arrays], 'W_down': [L], 'W_ip': [L], 'W_pi': [L]}``,
        (n_post, n_pre) arrays (copied).
    mode : {'le', 'original'}
    g_l, g_b, g_a, g_som : float
        Conductances in Hz.
    eta_up : list of L+1 floats; eta_ip, eta_pi : lists of L floats (Hz)
    dt, tau_0 : float
        Seconds.
    """

    def __init__(self, weights, mode="le", *, g_l, g_b, g_a, g_som, eta_up=None, eta_ip=None,
                 eta_pi=None, dt=1e-4, tau_0=None, c_m=None, c_r=None):
        self.W_up = [np.array(w, dtype=float) for w in weights["W_up"]]
        self.W_down = [np.array(w, dtype=float) for w in weights["W_down"]]
        self.W_ip = [np.array(w, dtype=float) for w in weights["W_ip"]]
        self.W_pi = [np.array(w, dtype=float) for w in weights["W_pi"]]
        self.L = len(self.W_down)
        # per-neuron tau_m g and tau_r g ({population: array}; 1 if not given)
        self.c_m, self.c_r = dict(c_m or {}), dict(c_r or {})
        self.le = mode == "le"
        self.g_l, self.g_b, self.g_a, self.g_som = map(float, (g_l, g_b, g_a, g_som))
        L = self.L
        self.eta_up = [0.0] * (L + 1) if eta_up is None else [float(e) for e in eta_up]
        self.eta_ip = [0.0] * L if eta_ip is None else [float(e) for e in eta_ip][:L]
        self.eta_pi = [0.0] * L if eta_pi is None else [float(e) for e in eta_pi][:L]
        self.dt = float(dt)
        self.tau_0 = self.dt if tau_0 is None else float(tau_0)
        self.reset()

    def reset(self):
        """u = ub = w = 0, every rate phi(0) = ln 2; filters restart at the next
        pattern; the LE delay holds target 0."""
        sizes_p = [w.shape[0] for w in self.W_up]  # hidden..., output
        sizes_i = [w.shape[0] for w in self.W_ip]
        zero = lambda n: np.zeros(n)  # noqa: E731
        self.u_p = [zero(n) for n in sizes_p]
        self.ub_p = [zero(n) for n in sizes_p]
        self.w_p = [zero(n) for n in sizes_p]
        self.r_p = [soft_relu(zero(n)) for n in sizes_p]
        self.u_i = [zero(n) for n in sizes_i]
        self.ub_i = [zero(n) for n in sizes_i]
        self.w_i = [zero(n) for n in sizes_i]
        self.r_i = [soft_relu(zero(n)) for n in sizes_i]
        self.r0 = None
        self.tgt_f = None
        self.tgt_prev = np.zeros(sizes_p[-1])
        self.nudge_prev = None
        self.v_B = [zero(n) for n in sizes_p]
        self.v_A = [zero(n) for n in sizes_p[:-1]]
        self.v_I = [zero(n) for n in sizes_i]

    def step(self, x, y, nudge, learn):
        """One synchronous step with input ``x``, target ``y``, flags ``nudge``,
        ``learn``. Returns the output's visible potential after the step."""
        L, dt = self.L, self.dt
        gl, gb, ga, gs = self.g_l, self.g_b, self.g_a, self.g_som
        # 0. input and target filters
        self.r0 = self.r0 + dt / self.tau_0 * (x - self.r0)
        self.tgt_f = self.tgt_f + dt / self.tau_0 * (y - self.tgt_f)
        if self.le:
            tgt, nud = self.tgt_prev, self.nudge_prev
        else:
            tgt, nud = self.tgt_f, nudge
        self.tgt_prev, self.nudge_prev = self.tgt_f.copy(), nudge
        # 1. dendrites from latched rates / potentials of step k-1
        pre_up = [self.r0] + self.r_p[:L]  # presynaptic rates of W_up_l, l = 1..L+1
        v_B = [self.W_up[l] @ pre_up[l] for l in range(L + 1)]
        v_A = [self.W_down[l] @ self.r_p[l + 1] + self.W_pi[l] @ self.r_i[l] for l in range(L)]
        v_I = [self.W_ip[l] @ self.r_p[l] for l in range(L)]
        w_next = [self.w_p[l + 1] for l in range(L)]
        # 2. somas
        new_p, new_i = [], []
        for l in range(L + 1):
            if l < L:
                g = gl + gb + ga
                uss = (gb * v_B[l] + ga * v_A[l]) / g
            else:
                g = gl + gb + gs
                uss = (gb * v_B[l] + gs * tgt) / g if nud else gb * v_B[l] / (gl + gb)
            pop = f"pyr{l + 1}" if l < L else "out"
            du = g * (uss - self.u_p[l]) / self.c_m.get(pop, 1.0)
            self.ub_p[l] = self.u_p[l] + self.c_r.get(pop, 1.0) * du / g
            self.u_p[l] = self.u_p[l] + dt * du
            new_p.append(self.ub_p[l] if self.le else self.u_p[l])
        for l in range(L):
            g = gl + gb + gs
            uss = (gb * v_I[l] + gs * w_next[l]) / g
            du = g * (uss - self.u_i[l]) / self.c_m.get(f"int{l + 1}", 1.0)
            self.ub_i[l] = self.u_i[l] + self.c_r.get(f"int{l + 1}", 1.0) * du / g
            self.u_i[l] = self.u_i[l] + dt * du
            new_i.append(self.ub_i[l] if self.le else self.u_i[l])
        post_p = [soft_relu(w) for w in new_p]
        post_i = [soft_relu(w) for w in new_i]
        # 3. plasticity (pre = rates latched at k-1)
        if learn:
            for l in range(L + 1):
                gP = gl + gb + ga if l < L else gl + gb
                err = post_p[l] - soft_relu(gb / gP * v_B[l])
                bound = 4.0 if l < L else 5.0
                self.W_up[l] = np.clip(
                    self.W_up[l] + dt * self.eta_up[l] * np.outer(err, pre_up[l]),
                    -bound, bound)
            for l in range(L):
                err = post_i[l] - soft_relu(gb / (gl + gb) * v_I[l])
                self.W_ip[l] = self.W_ip[l] + dt * self.eta_ip[l] * np.outer(err, self.r_p[l])
                self.W_pi[l] = self.W_pi[l] + dt * self.eta_pi[l] * np.outer(-v_A[l], self.r_i[l])
        # 4. latch
        self.w_p, self.r_p = new_p, post_p
        self.w_i, self.r_i = new_i, post_i
        self.v_B, self.v_A, self.v_I = v_B, v_A, v_I
        return self.w_p[L]

    def run(self, inputs, steps_per_pattern, targets=None, nudge=None, learn=True,
            lag_steps=0, record=False):
        """Present every row of ``inputs`` for ``steps_per_pattern`` steps.

        Returns ``(pattern_outputs, trace)``: the mean output w over the steps
        i >= lag_steps of each pattern (n_patterns, n_out), and, if ``record``, a dict of
        per-step arrays (output w, and per layer u / v_B / v_A of the pyramidal cells,
        u / v_I of the interneurons); else None.
        """
        x = np.asarray(inputs, dtype=float)
        P = x.shape[0]
        n_out = self.W_up[-1].shape[0]
        y = np.zeros((P, n_out)) if targets is None else np.asarray(targets, dtype=float)
        nud = np.full(P, targets is not None) if nudge is None else np.broadcast_to(nudge, P)
        lrn = np.broadcast_to(np.asarray(learn, dtype=bool), (P,))
        if self.r0 is None:
            self.r0 = x[0].copy()
        if self.tgt_f is None:
            self.tgt_f = y[0].copy()
        if self.nudge_prev is None:
            self.nudge_prev = bool(nud[0])
        outs = np.zeros((P, n_out))
        trace = None
        if record:
            trace = {"out_w": [], "out_u": []}
            for l in range(self.L):
                for v in ("u", "v_B", "v_A", "r"):
                    trace[f"pyr{l + 1}_{v}"] = []
                for v in ("u", "v_I"):
                    trace[f"int{l + 1}_{v}"] = []
        for k in range(P):
            acc = np.zeros(n_out)
            for i in range(steps_per_pattern):
                w = self.step(x[k], y[k], bool(nud[k]), bool(lrn[k]))
                if i >= lag_steps:
                    acc = acc + w
                if record:
                    trace["out_w"].append(w.copy())
                    trace["out_u"].append(self.u_p[self.L].copy())
                    for l in range(self.L):
                        trace[f"pyr{l + 1}_u"].append(self.u_p[l].copy())
                        trace[f"pyr{l + 1}_v_B"].append(self.v_B[l].copy())
                        trace[f"pyr{l + 1}_v_A"].append(self.v_A[l].copy())
                        trace[f"pyr{l + 1}_r"].append(self.r_p[l].copy())
                        trace[f"int{l + 1}_u"].append(self.u_i[l].copy())
                        trace[f"int{l + 1}_v_I"].append(self.v_I[l].copy())
            outs[k] = acc / (steps_per_pattern - lag_steps)
        if record:
            trace = {k: np.array(v) for k, v in trace.items()}
        return outs, trace

    def weights(self):
        """Copies of the weights in `le_brian.Microcircuit.get_parameters` layout."""
        return {"W_up": [w.copy() for w in self.W_up], "W_down": [w.copy() for w in self.W_down],
                "W_ip": [w.copy() for w in self.W_ip], "W_pi": [w.copy() for w in self.W_pi]}


def benchmark_numpy_microcircuit(weights, n_steps, n_patterns=8, seed=0, **params):
    """Steps/s of the NumPy loop with learning on (nudged patterns, ``n_steps`` in total
    spread over ``n_patterns`` patterns). ``params`` go to `NumpyMicrocircuit`."""
    rng = np.random.default_rng(seed)
    n_in, n_out = weights["W_up"][0].shape[1], weights["W_up"][-1].shape[0]
    x = rng.uniform(0, 1, (n_patterns, n_in))
    y = rng.uniform(0.1, 1, (n_patterns, n_out))
    net = NumpyMicrocircuit(weights, **params)
    steps = max(1, n_steps // n_patterns)
    t0 = time.perf_counter()
    net.run(x, steps, y)
    return steps * n_patterns / (time.perf_counter() - t0)
