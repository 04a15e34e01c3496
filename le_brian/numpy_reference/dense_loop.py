"""The dense NumPy loop the benchmark compares the compiled programs with: the LE sweep
step of `NumpyLENetwork` written for speed."""

import numpy as np

__all__ = ["DenseNumpyLoop"]


class DenseNumpyLoop:
    r"""The benchmark's baseline: the LE sweep step (hard-sigmoid hidden layers, linear
    output, voltage target, tau_r = tau_m) as a dense NumPy Euler loop written for
    speed: preallocated arrays, in-place updates, the top-down products taken before
    the weight update (so no weight copy) and the rank-1 weight update
    :math:`W_l \mathrel{+}= dt\,\eta\, e_l r_{l-1}^T` by BLAS ``dger`` in place.
    Equal to `le_brian.numpy_reference.NumpyLENetwork` (tests/test_scripts.py).
    """

    def __init__(self, weights, biases, tau=10e-3, beta=0.1, eta=100.0, dt=1e-4):
        from scipy.linalg.blas import dger

        self._dger = dger
        self.W = [np.array(w, dtype=float, order="C") for w in weights]
        self.b = [np.array(v, dtype=float) for v in biases]
        self.tau, self.beta, self.eta, self.dt = tau, beta, eta, dt
        n = [len(v) for v in self.b]
        self.u = [np.zeros(k) for k in n]
        self.e = [np.zeros(k) for k in n]
        self._I = [np.zeros(k) for k in n]
        self._ub = [np.zeros(k) for k in n]
        self._r = [np.zeros(k) for k in n]
        self._rp = [np.zeros(k) for k in n]
        self._fb = [np.zeros(k) for k in n]

    def step(self, x, y=None, learn=True):
        """One time step on input rates ``x`` (and target ``y``; plasticity if ``learn``)."""
        L, dt, tau = len(self.W), self.dt, self.tau
        r_prev = x
        rates_in = []
        for l in range(L):
            rates_in.append(r_prev)
            I, ub = self._I[l], self._ub[l]
            np.dot(self.W[l], r_prev, out=I)
            I += self.b[l]
            # du = (I - u + e) / tau; ub = u + tau du = I + e (tau_r = tau_m)
            np.add(I, self.e[l], out=ub)
            if l < L - 1:
                np.clip(ub, 0.0, 1.0, out=self._r[l])
                np.logical_and(ub >= 0.0, ub <= 1.0, out=self._rp[l], casting="unsafe")
            else:
                self._r[l][:] = ub
            r_prev = self._r[l]
        for l in range(L - 1):  # top-down products with the weights of this step
            np.dot(self.W[l + 1].T, self.e[l + 1], out=self._fb[l])
        if learn:
            for l in range(L):
                # W (C order, n_post x n_pre) is W.T in Fortran order: W.T += a r e^T
                self._dger(dt * self.eta, rates_in[l], self.e[l], a=self.W[l].T,
                           overwrite_a=True)
                self.b[l] += (dt * self.eta) * self.e[l]
        for l in range(L):
            self.u[l] += (dt / tau) * (self._ub[l] - self.u[l])  # u + dt du
        if y is None:
            self.e[L - 1][:] = 0.0
        else:
            np.subtract(y, self._ub[L - 1], out=self.e[L - 1])
            self.e[L - 1] *= self.beta
        for l in range(L - 2, -1, -1):
            np.multiply(self._rp[l], self._fb[l], out=self.e[l])
        return self._r[L - 1]
