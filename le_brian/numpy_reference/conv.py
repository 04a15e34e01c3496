r"""The layered LE network with convolution and pooling layers, stepped by a NumPy loop.

An independent description of docs/model.md §1.9 for the tests of the Brian2 path: the
layers are plain tuples (`le_brian.numpy_reference.conv_ops`), the convolutions an
im2col / col2im of NumPy's own, and the step order is that of §1.2 (``scheme="sweep"``)
or §1.3 (``scheme="reference"``) with every dense operation replaced by its convolution
(forward sum, transposed sum of the errors, kernel update summed over positions) and the
pooling layers inserted where the next projection reads its input.

Sweep, step k (layers l = 1..L in order; a pool layer has no neurons, parameters, error or
delay):

1. forward: a neuron layer computes ``I_l = K_l * p_l + b_l`` (conv) or ``W_l p_l + b_l``
   (dense) from its input p_l (the input x_k, or the rates of layer l-1 computed just
   before in this step), ``du = (I - u + e) / tau_m``, ``ub = u + tau_r du``,
   ``r = phi(ub)``, ``rp = phi'(ub)``; a pool layer computes ``r_l = pool(p_l)`` and, for
   max, the arg-max of every window;
2. plasticity with the held errors and the p_l of step 1 (kernel: the sum over positions);
3. ``u += dt du``;
4. new errors with the parameters of before step 2: ``e_L`` from the target,
   ``I_fb_l`` = transposed projection of layer l+1's held error (or, when layer l+1 is a
   pool, its I_fb routed to the arg-max / spread evenly), ``e_l = rp_l * I_fb_l``.

Reference (the authors' synchronous step): the output error from last step's output; all
neuron layers advance together from p_1 = x_k and, for l >= 2, p_l = r_{l-1} of step k-1
passed through the pool layers between (a pool reads what the next projection reads, in
the same step); hidden errors ``rp(step k-1) * I_fb`` from the held errors, routed
through the pools with the arg-max of this step's pooling; plasticity with the new errors
and the p_l; latch.
"""

import numpy as np

from ..activations import NP_ACTIVATIONS
from .conv_ops import (conv_forward, conv_kernel_gradient, conv_transpose, parse_layers,
                       patches, pool_forward, pool_route)

__all__ = ["NumpyConvLENetwork"]


class NumpyConvLENetwork:
    """LE network of conv, pooling and dense layers, float64, SI units (seconds, Hz).

    Parameters
    ----------
    layers : list of tuple
        ``("input", (C, H, W))`` (or ``("input", n)``) followed by
        ``("conv", O, (kh, kw), (sh, sw), (ph, pw))``,
        ``("maxpool" | "avgpool", (kh, kw), (sh, sw), (ph, pw))`` and ``("dense", n)``
        tuples; conv and dense tuples may end with an activation name. The last layer is
        conv or dense.
    weights, biases : list of array
        One per learnable (conv, dense) layer in order: kernels (O, C, kh, kw) and biases
        (O,); dense weights (n, n_pre) and biases (n,). Copied.
    activation, output_activation : str
        Default activations of the hidden neuron layers and of the output layer.
    tau_m, tau_r : float or list
        Seconds; one value, or one per learnable layer (a number or an array of the layer's
        flat size). ``tau_r`` None: ``tau_m``.
    beta : float
        Nudging strength.
    target_type : {"voltage", "rate"}
    learning_rates : float or list of float
        Hz; one for all, or one per learnable layer.
    dt : float
        Seconds.
    scheme : {"sweep", "reference"}

    Notes
    -----
    State, read after a step: ``W``, ``b`` (lists of arrays) are the parameters, one per
    learnable layer (kernels keep their 4-d shape); ``u``, ``ub``, ``r``, ``rp``, ``e``,
    ``I_ff``, ``I_fb``, ``argmax`` (lists, per layer 1..L at index l - 1) are flat arrays
    of this step: membrane, prospective potential, rate, phi'(ub), held error, forward
    sum without bias, feedback sum (the output's is zero); a pool layer has only ``r``,
    ``I_fb`` and (max) ``argmax``, the window position i*kw + j of each output's maximum
    (None elsewhere).
    """

    def __init__(self, layers, weights, biases, activation="tanh", output_activation="linear",
                 tau_m=10e-3, tau_r=None, beta=0.1, target_type="voltage",
                 learning_rates=0.0, dt=1e-4, scheme="sweep"):
        specs = parse_layers(layers)
        self.input = specs[0]
        self.layers = specs[1:]
        L = self.L = len(self.layers)
        for name, act in (("activation", activation), ("output_activation", output_activation)):
            if act not in NP_ACTIVATIONS:
                raise ValueError(f"{name} must be one of {sorted(NP_ACTIVATIONS)}, got {act!r}")
        if scheme not in ("sweep", "reference"):
            raise ValueError(f"scheme must be 'sweep' or 'reference', got {scheme!r}")
        if target_type not in ("voltage", "rate"):
            raise ValueError(f"target_type must be 'voltage' or 'rate', got {target_type!r}")
        if not dt > 0:
            raise ValueError(f"dt must be > 0 seconds, got {dt!r}")
        self.learnable = [l for l, s in enumerate(self.layers) if s.learnable]
        self.param_index = {l: m for m, l in enumerate(self.learnable)}
        M = len(self.learnable)
        if len(weights) != M or len(biases) != M:
            raise ValueError(f"weights and biases must have one entry per learnable layer "
                             f"({M}), got {len(weights)} and {len(biases)}")
        self.W, self.b = [], []
        for m, l in enumerate(self.learnable):
            s = self.layers[l]
            if s.kind == "conv":
                w_shape, b_shape = (s.channels, s.in_shape[0], *s.kernel), (s.channels,)
            else:
                w_shape, b_shape = (s.n_out, s.n_in), (s.n_out,)
            for name, value, shape in (("weights", weights[m], w_shape),
                                       ("biases", biases[m], b_shape)):
                if np.shape(value) != shape:
                    raise ValueError(f"{name}[{m}] (layer {l + 1}, {s.kind}) must have shape "
                                     f"{shape}, got {np.shape(value)}")
            self.W.append(np.array(weights[m], dtype=float))
            self.b.append(np.array(biases[m], dtype=float))
        self.phi = [None] * L
        for l, s in enumerate(self.layers):
            if s.learnable:
                name = s.activation or (output_activation if l == L - 1 else activation)
                self.phi[l] = NP_ACTIVATIONS[name]
        self.tau_m = self._per_layer(tau_m, "tau_m")
        self.tau_r = self._per_layer(tau_m if tau_r is None else tau_r, "tau_r")
        lr = learning_rates if isinstance(learning_rates, (list, tuple)) else \
            [learning_rates] * M
        if len(lr) != M:
            raise ValueError(f"learning_rates must be one value or {M} (one per learnable "
                             f"layer), got {learning_rates!r}")
        self.eta = [float(v) for v in lr]
        self.beta, self.target_type, self.dt, self.scheme = (float(beta), target_type,
                                                             float(dt), scheme)
        self.reset_state()

    def _per_layer(self, value, name):
        out = [None] * self.L
        values = value if isinstance(value, (list, tuple)) else [value] * len(self.learnable)
        if len(values) != len(self.learnable):
            raise ValueError(f"{name} must be one value or one per learnable layer "
                             f"({len(self.learnable)}), got {value!r}")
        for v, l in zip(values, self.learnable):
            out[l] = np.broadcast_to(np.asarray(v, dtype=float), (self.layers[l].n_out,)).copy()
        return out

    def reset_state(self):
        """All dynamic state to zero (the parameters stay)."""
        def zeros(neurons_only):
            return [np.zeros(s.n_out) if (s.learnable or not neurons_only) else None
                    for s in self.layers]
        self.u, self.e, self.ub, self.rp, self.I_ff = (zeros(True) for _ in range(5))
        self.r, self.I_fb = zeros(False), zeros(False)
        self.argmax = [None] * self.L
        self.k = 0

    def get_parameters(self):
        """Copies of (weights, biases), one entry per learnable layer."""
        return [w.copy() for w in self.W], [b.copy() for b in self.b]

    # ---------------------------------------------------------------- the layer maths
    def _bias(self, l):
        s, b = self.layers[l], self.b[self.param_index[l]]
        return np.repeat(b, s.n_out // s.channels) if s.kind == "conv" else b

    def _forward_sum(self, l, p):
        """K_l * p or W_l p (flat, without bias)."""
        s, w = self.layers[l], self.W[self.param_index[l]]
        if s.kind == "dense":
            return w @ p
        return conv_forward(w, patches(p.reshape(s.in_shape), s)).ravel()

    def _feedback(self, l, weights, e):
        """The sum layer ``l``'s error ``e`` sends to the layer below, with ``weights``."""
        s, w = self.layers[l], weights[self.param_index[l]]
        if s.kind == "dense":
            return w.T @ e
        return conv_transpose(w, e.reshape(s.out_shape), s).ravel()

    def _learn(self, errors, pre):
        """W += dt eta e p^T (kernel: summed over positions), b += dt eta e (per channel),
        every layer from its parameters at the start of the update."""
        for m, l in enumerate(self.learnable):
            s, e, rate = self.layers[l], errors[l], self.dt * self.eta[m]
            if s.kind == "dense":
                self.W[m] += rate * np.outer(e, pre[l])
                self.b[m] += rate * e
            else:
                g = e.reshape(s.out_shape)
                self.W[m] += rate * conv_kernel_gradient(g, patches(pre[l].reshape(s.in_shape),
                                                                    s))
                self.b[m] += rate * g.sum(axis=(1, 2))

    def _neuron(self, l, p, rates_from):
        """Step 1 of one neuron layer from its input p: sets I_ff, ub, r, rp (of this step)
        and returns du. ``rates_from`` stores r and rp (a list per layer)."""
        self.I_ff[l] = self._forward_sum(l, p)
        du = (self.I_ff[l] + self._bias(l) - self.u[l] + self.e[l]) / self.tau_m[l]
        self.ub[l] = self.u[l] + self.tau_r[l] * du
        phi, dphi = self.phi[l]
        rates_from[0][l], rates_from[1][l] = phi(self.ub[l]), dphi(self.ub[l])
        return du

    def _output_error(self, y, ub, r, rp):
        if y is None:
            return np.zeros_like(ub)
        y = np.asarray(y, dtype=float).ravel()
        if y.shape != ub.shape:
            raise ValueError(f"target must have {ub.size} entries, got {y.size}")
        if self.target_type == "voltage":
            return self.beta * (y - ub)
        return self.beta * rp * (y - r)

    def _hidden_errors(self, held, weights, rp, out_error):
        """Errors of every neuron layer and I_fb of every layer (top-down): I_fb_l is the
        feedback of layer l+1's held error, or layer l+1's I_fb routed through its pool;
        e_l = rp_l * I_fb_l."""
        L = self.L
        new_e, fb = [None] * L, [None] * L
        new_e[L - 1], fb[L - 1] = out_error, np.zeros(self.layers[L - 1].n_out)
        for l in range(L - 2, -1, -1):
            above = self.layers[l + 1]
            if above.is_pool:
                fb[l] = pool_route(fb[l + 1].reshape(above.out_shape), self.argmax[l + 1],
                                   above).ravel()
            else:
                fb[l] = self._feedback(l + 1, weights, held[l + 1])
            if self.layers[l].learnable:
                new_e[l] = rp[l] * fb[l]
        self.I_fb = fb
        return new_e

    def _pool(self, l, p):
        s = self.layers[l]
        out, q = pool_forward(p.reshape(s.in_shape), s)
        self.argmax[l] = q
        return out.ravel()

    # ---------------------------------------------------------------- the two schemes
    def sweep_step(self, x, y=None, learn=True):
        """One step of the sweep scheme (docs/model.md §1.2, §1.9); returns the output
        rates of this step."""
        L, dt = self.L, self.dt
        p, pre, du = self._input(x), [None] * L, [None] * L
        new_r, new_rp = [None] * L, [None] * L
        for l, s in enumerate(self.layers):
            pre[l] = p
            if s.is_pool:
                new_r[l] = self._pool(l, p)
            else:
                du[l] = self._neuron(l, p, (new_r, new_rp))
            p = new_r[l]
        self.r, self.rp = new_r, new_rp
        weights_old = [w.copy() for w in self.W]
        if learn:
            self._learn(self.e, pre)
        for l in self.learnable:
            self.u[l] = self.u[l] + dt * du[l]
        out_error = self._output_error(y, self.ub[L - 1], self.r[L - 1], self.rp[L - 1])
        self.e = self._hidden_errors(self.e, weights_old, self.rp, out_error)
        self.k += 1
        return self.r[L - 1].copy()

    def reference_step(self, x, y=None, learn=True):
        """One step of the authors' scheme (docs/model.md §1.3, §1.9); returns the output
        rates of this step."""
        L, dt = self.L, self.dt
        out_error = self._output_error(y, self.ub[L - 1], self.r[L - 1], self.rp[L - 1])
        r_old, rp_old = self.r, self.rp
        p, pre = self._input(x), [None] * L
        new_r, new_rp = [None] * L, [None] * L
        for l, s in enumerate(self.layers):
            pre[l] = p
            if s.is_pool:
                new_r[l] = p = self._pool(l, p)  # no delay: read in this step
            else:
                du = self._neuron(l, p, (new_r, new_rp))
                self.u[l] = self.u[l] + dt * du
                p = r_old[l]  # the next layer reads this layer's rate of step k-1
        eps = self._hidden_errors(self.e, self.W, rp_old, out_error)
        if learn:
            self._learn(eps, pre)
        self.e = eps
        self.r, self.rp = new_r, new_rp
        self.k += 1
        return self.r[L - 1].copy()

    def step(self, x, y=None, learn=True):
        """One step of the network's scheme with input ``x`` (flat or (C, H, W)) and target
        ``y`` (None: no nudging); returns the output rates of this step (flat)."""
        if self.scheme == "reference":
            return self.reference_step(x, y, learn)
        return self.sweep_step(x, y, learn)

    def _input(self, x):
        x = np.asarray(x, dtype=float).ravel()
        if x.size != self.input.n_out:
            raise ValueError(f"input must have {self.input.n_out} entries "
                             f"({self.input.out_shape or 'flat'}), got {x.size}")
        return x

    def run(self, inputs, steps_per_sample, targets=None, learn=True):
        """Present every sample of ``inputs`` ((n, C, H, W) or (n, n_in)) for
        ``steps_per_sample`` steps; returns the output rates of every step, shape
        (n * steps_per_sample, n_out), and the per-step rates as a list per layer (pool
        layers included), each (n * steps_per_sample, n_l)."""
        inputs = np.asarray(inputs, dtype=float)
        inputs = inputs.reshape(len(inputs), -1)
        outs, rates = [], [[] for _ in range(self.L)]
        self.k = 0
        for k, x in enumerate(inputs):
            y = None if targets is None else targets[k]
            for _ in range(steps_per_sample):
                outs.append(self.step(x, y, learn))
                for l in range(self.L):
                    rates[l].append(self.r[l])
        return np.array(outs), [np.array(r) for r in rates]
