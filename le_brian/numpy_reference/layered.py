r"""Plain NumPy versions of the LE equations, for tests and benchmarks.

Independent of Brian2 and of the equation strings: the activations come from the NumPy
table `le_brian.activations`, and the step follows docs/model.md §1.2 literally. Imports
nothing of the Brian2 path, and the Brian2 path imports nothing of it.

`sweep_run` is the package's default scheme ("instantaneous sweep"): step k,

1. forward sweep l = 1..L: I_l = W_l r_{l-1} + b_l; du_l = (I_l - u_l + e_l) / tau_m;
   ub_l = u_l + tau_r du_l; r_l = phi(ub_l)
2. plasticity W_l += dt eta_l e_l r_{l-1}^T, b_l += dt eta_l e_l (held e_l)
3. u_l += dt du_l
4. e_L = beta (y_k - ub_L) (or beta phi'(ub_L)(y_k - r_L)); e_l = phi'(ub_l) W_{l+1}^T e_{l+1}
   with the weights from before step 2 and the errors held during step k.

``scheme="reference"`` is the authors' synchronous step (docs/model.md §1.3), written out
separately in `NumpyLENetwork.reference_step`.

Substrate imperfections (docs/model.md §1.8), both schemes: rate noise
``r = phi(ub) + noise_std * z`` (z from the ``normal(layer, step, n)`` function given, e.g.
`le_brian.equations.spiking.le_normal_numpy` of each layer's seed, the counter-based draw
every Brian2 target uses), the synaptic filter
``rs += dt/tau_syn (r - rs)`` of every rate entering a projection (input included) and of
the target, and time-constant learning ``tau += +-dt eta_tau (ub - I - e) du`` (clipped)
after the membrane update.
"""

import numpy as np

from ..activations import NP_ACTIVATIONS

__all__ = ["NumpyLENetwork"]


class NumpyLENetwork:
    """The layered LE network stepped by a NumPy loop (float64, SI units).

    Parameters mirror `le_brian.LENetwork` but are plain numbers: ``tau_m``, ``tau_r``
    and ``dt`` in seconds (scalars or one array per layer), ``learning_rates`` in Hz.
    """

    def __init__(self, weights, biases, activation="tanh", output_activation="linear",
                 tau_m=10e-3, tau_r=None, beta=0.1, target_type="voltage",
                 learning_rates=0.0, dt=1e-4, scheme="sweep", hand_down="error",
                 tau_learning=None, eta_tau=0.0, tau_bounds=(1e-3, 1.0), noise_std=0.0,
                 normal=None, tau_syn=None, filter_target=True):
        self.W = [np.array(w, dtype=float) for w in weights]
        self.b = [np.array(b, dtype=float) for b in biases]
        L = len(self.W)
        self.L = L
        sizes = [w.shape[0] for w in self.W]

        def expand(v):
            if isinstance(v, (list, tuple)):
                return [np.broadcast_to(np.asarray(x, float), (n,)).copy() for x, n in zip(v, sizes)]
            return [np.full(n, float(v)) for n in sizes]

        self.tau_m = expand(tau_m)
        self.tau_r = expand(tau_m if tau_r is None else tau_r)
        self.phi = [NP_ACTIVATIONS[output_activation if l == L - 1 else activation]
                    for l in range(L)]
        self.beta = float(beta)
        self.target_type = target_type
        lr = learning_rates if isinstance(learning_rates, (list, tuple)) else [learning_rates] * L
        self.eta = [float(e) for e in lr]
        self.dt = float(dt)
        self.scheme = scheme
        self.hand_down = hand_down
        self.u = [np.zeros(n) for n in sizes]
        self.e = [np.zeros(n) for n in sizes]
        # last step's ub, r, phi'(ub) (the reference scheme reads them)
        self.ub = [np.zeros(n) for n in sizes]
        self.r = [np.zeros(n) for n in sizes]
        self.rp = [np.zeros(n) for n in sizes]
        self.tau_learning, self.eta_tau, self.tau_bounds = tau_learning, eta_tau, tau_bounds
        self.noise_std = float(noise_std)
        self.normal = normal  # normal(layer index from 0, step in the run, n) -> z
        self.tau_syn = tau_syn
        self.filter_target = filter_target and tau_syn is not None
        self.rs_in = np.zeros(self.W[0].shape[1])
        self.rs = [np.zeros(n) for n in sizes]
        self.tgt_s = np.zeros(sizes[-1])
        self.k = 0  # step within the run (the noise counter)

    # ------------------------------------------------------------------ substrate
    def _rate(self, l, ub):
        phi, dphi = self.phi[l]
        r = phi(ub)
        if self.noise_std:
            r = r + self.noise_std * self.normal(l, self.k, len(ub))
        return r, dphi(ub)

    def _filter(self, rs, r):
        return r if self.tau_syn is None else rs + self.dt / self.tau_syn * (r - rs)

    def _target(self, y, n):
        y = np.zeros(n) if y is None else y
        if self.filter_target:
            self.tgt_s = self.tgt_s + self.dt / self.tau_syn * (y - self.tgt_s)
            return self.tgt_s
        return y

    def _learn_tau(self, l, ub, I, e, du):
        if self.tau_learning is None or not self.eta_tau:
            return
        change = self.dt * self.eta_tau * (ub - I - e) * du
        if self.tau_learning == "tau_m":
            self.tau_m[l] = np.clip(self.tau_m[l] + change, *self.tau_bounds)
        else:
            self.tau_r[l] = np.clip(self.tau_r[l] - change, *self.tau_bounds)

    def reference_step(self, x, y=None, learn=True):
        """One step of the authors' scheme; returns the output rates of this step."""
        dt, L = self.dt, self.L
        # 1. output error from last step's output
        eps = [None] * L
        self.rs_in = self._filter(self.rs_in, x)
        tgt = self._target(y, len(self.ub[L - 1]))
        if y is None:
            eps[L - 1] = np.zeros_like(self.ub[L - 1])
        elif self.target_type == "voltage":
            eps[L - 1] = self.beta * (tgt - self.ub[L - 1])
        else:
            eps[L - 1] = self.beta * self.rp[L - 1] * (tgt - self.r[L - 1])
        # 2. all layers advance together from last step's rates
        pre = [self.rs_in] + [(self.r if self.tau_syn is None else self.rs)[l - 1]
                              for l in range(1, L)]
        rp_old = [v.copy() for v in self.rp]
        I, mismatch = [], []
        for l in range(L):
            I.append(self.W[l] @ pre[l] + self.b[l])
            du = (I[l] - self.u[l] + self.e[l]) / self.tau_m[l]
            mismatch.append(self.u[l] - I[l])
            self.ub[l] = self.u[l] + self.tau_r[l] * du
            self.r[l], self.rp[l] = self._rate(l, self.ub[l])
            self.rs[l] = self._filter(self.rs[l], self.r[l])
            self.u[l] = self.u[l] + dt * du
            self._learn_tau(l, self.ub[l], I[l], self.e[l], du)
        # 3. hidden errors with last step's phi' and the held errors (or u - I)
        down = mismatch if self.hand_down == "mismatch" else self.e
        for l in range(L - 2, -1, -1):
            eps[l] = rp_old[l] * (self.W[l + 1].T @ down[l + 1])
        # 4. plasticity with the new errors and the presynaptic rates of step 2
        if learn:
            for l in range(L):
                self.W[l] += dt * self.eta[l] * np.outer(eps[l], pre[l])
                self.b[l] += dt * self.eta[l] * eps[l]
        # 5. the new errors enter the membranes next step
        self.e = eps
        self.k += 1
        return self.r[L - 1].copy()

    def step(self, x, y=None, learn=True):
        """One sweep step with input ``x`` and target ``y`` (None: no nudging).
        Returns the output rates of this step and the per-layer (ub, r)."""
        dt, L = self.dt, self.L
        self.rs_in = self._filter(self.rs_in, x)
        r_prev, I, du, ub, r, rp = self.rs_in, [], [], [], [], []
        rates_in = []
        for l in range(L):
            rates_in.append(r_prev)
            I.append(self.W[l] @ r_prev + self.b[l])
            du.append((I[l] - self.u[l] + self.e[l]) / self.tau_m[l])
            ub.append(self.u[l] + self.tau_r[l] * du[l])
            rate, slope = self._rate(l, ub[l])
            r.append(rate)
            rp.append(slope)
            self.rs[l] = self._filter(self.rs[l], r[l])
            r_prev = self.rs[l]
        W_old = [w.copy() for w in self.W]
        if learn:
            for l in range(L):
                self.W[l] += dt * self.eta[l] * np.outer(self.e[l], rates_in[l])
                self.b[l] += dt * self.eta[l] * self.e[l]
        u_old = self.u
        self.u = [u_old[l] + dt * du[l] for l in range(L)]
        for l in range(L):
            self._learn_tau(l, ub[l], I[l], self.e[l], du[l])
        new_e = [None] * L
        tgt = self._target(y, len(ub[L - 1]))
        if y is None:
            new_e[L - 1] = np.zeros_like(ub[L - 1])
        elif self.target_type == "voltage":
            new_e[L - 1] = self.beta * (tgt - ub[L - 1])
        else:
            new_e[L - 1] = self.beta * rp[L - 1] * (tgt - r[L - 1])
        down = ([u_old[l] - I[l] for l in range(L)]
                if self.hand_down == "mismatch" else self.e)
        for l in range(L - 2, -1, -1):
            new_e[l] = rp[l] * (W_old[l + 1].T @ down[l + 1])
        self.e = new_e
        self.ub, self.r, self.rp = ub, r, rp
        self.k += 1
        return r[L - 1], ub, r

    def run(self, inputs, steps_per_sample, targets=None, learn=True):
        """Present every row of ``inputs`` for ``steps_per_sample`` steps; returns the
        output rates of every step, shape (n_samples * steps_per_sample, n_out), and the
        per-step hidden rates as a list per layer."""
        outs, hidden = [], [[] for _ in range(self.L)]
        self.k = 0  # every run counts its steps from 0 (as Brian2's t does)
        for k, x in enumerate(np.asarray(inputs, float)):
            y = None if targets is None else np.asarray(targets[k], float)
            for _ in range(steps_per_sample):
                if self.scheme == "reference":
                    o, r = self.reference_step(x, y, learn), self.r
                else:
                    o, ub, r = self.step(x, y, learn)
                outs.append(o)
                for l in range(self.L):
                    hidden[l].append(r[l])
        return np.array(outs), [np.array(h) for h in hidden]
