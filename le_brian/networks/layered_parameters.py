"""Parameters and learning rates of layered LE networks (a mixin of `le_brian.LENetwork`):
one entry per learnable layer (`le_brian.networks.layers.Dense`: W (n, n_pre) and b (n,);
`le_brian.networks.conv_layers.Conv2D`: the kernel (O, C, kh, kw) and one bias per output
channel (O,)), in layer order; pooling layers have none."""

import numpy as np
from brian2 import Hz

from ..engine.network import BaseNetwork
from ..engine.validation import as_rate

__all__ = ["ParametersMixin"]


class ParametersMixin:
    """Weights, biases and learning rates of `le_brian.LENetwork` and their per-run
    state entries (uses ``self._plan``, ``self.layer_sizes``, ``self.weight_scale``)."""

    def _param_index(self, l):
        """Index of layer l in the parameter lists (None: a pooling layer)."""
        learnable = self._plan.learnable
        return learnable.index(l) if l in learnable else None

    def _init_parameters(self):
        """Kernels / weights ~ N(0, 1/sqrt(fan-in)) and biases 0, or both
        ~ N(0, weight_scale): one rng(seed), drawn in layer order."""
        rng = np.random.default_rng(self.seed)
        weights, biases = [], []
        for shape_w, shape_b, fan_in in self._learnable_shapes():
            if self.weight_scale is None:
                weights.append(rng.normal(0, 1 / np.sqrt(fan_in), shape_w))
                biases.append(np.zeros(shape_b))
            else:
                weights.append(rng.normal(0, self.weight_scale, shape_w))
                biases.append(rng.normal(0, self.weight_scale, shape_b))
        self._params = {"weights": weights, "biases": biases}

    def _learnable_shapes(self):
        """``(weight shape, bias shape, fan-in)`` of every learnable layer."""
        s, out = self.layer_sizes, []
        for l in self._plan.learnable:
            geo = self._plan.geometry[l]
            if geo is None:
                out.append(((s[l], s[l - 1]), (s[l],), s[l - 1]))
            else:
                O, C, kh, kw = geo.kernel_shape
                out.append((geo.kernel_shape, (O,), C * kh * kw))
        return out

    def kernel_shapes(self):
        """``{'proj{l}': (O, C, kh, kw)}``: the convolutions' kernel shapes (their
        kernels and biases can be recorded: ``record={'proj1': True}``)."""
        geometry = self._plan.geometry
        return {f"proj{l}": geometry[l].kernel_shape for l in self._plan.learnable
                if geometry[l] is not None}

    def _parameter_shapes(self):
        shapes = self._learnable_shapes()
        return {"weights": [w for w, _, _ in shapes], "biases": [b for _, b, _ in shapes]}

    def set_parameters(self, weights=None, biases=None):
        """Set weights and/or biases: lists with one array per learnable layer, in layer
        order: a dense layer's W (n_l, n_{l-1}) and b (n_l,), a convolution's kernel
        (O, C, kh, kw) and bias (O,)."""
        BaseNetwork.set_parameters(self, weights=weights, biases=biases)

    def _parameter_metadata(self):
        return {"learning_rates_hz": np.array(self._eta)}

    def set_learning_rates(self, learning_rates):
        """Set eta_l (Quantity in Hz, one for all layers or one per learnable layer)."""
        n = len(self._plan.learnable)
        if isinstance(learning_rates, (list, tuple)):
            if len(learning_rates) != n:
                what = "layer" if not self._plan.spatial else "learnable layer (Conv2D, Dense)"
                raise ValueError(
                    f"learning_rates must have one entry per {what} ({n}), "
                    f"got {len(learning_rates)}")
            self._eta = [float(as_rate(f"learning_rates[{k}]", v))
                         for k, v in enumerate(learning_rates)]
        else:
            rate = as_rate("learning_rates", learning_rates)
            if rate.ndim != 0:
                raise ValueError("learning_rates must be one rate or a list with one per "
                                 f"layer, got shape {rate.shape}")
            self._eta = [float(rate)] * n

    @property
    def learning_rates(self):
        """eta_l, one Quantity (Hz) per learnable layer."""
        return [e * Hz for e in self._eta]

    def _parameter_state(self, l, learn):
        """Run-state entries of layer l's parameters and learning rates."""
        m = self._param_index(l)
        if m is None:
            return {}
        eta = self._eta[m] if learn else 0.0
        w, b = self._params["weights"][m], self._params["biases"][m]
        if self._plan.geometry[l] is None:
            return {f"layer{l}.b": b, f"layer{l}.eta_b": eta, f"proj{l}.eta": eta,
                    f"proj{l}.w": w.T.ravel()}  # pre-major order
        return {f"bias{l}.b": b, f"bias{l}.eta_b": eta, f"kernel{l}.eta": eta,
                f"kernel{l}.w": w.ravel()}  # k = ((o C + c) kh + i) kw + j

    def _collect_parameters(self, out):
        """``{'weights': [...], 'biases': [...]}`` from a run's output state."""
        weights, biases = [], []
        for l in self._plan.learnable:
            geo = self._plan.geometry[l]
            if geo is None:
                n_pre, n_post = self.layer_sizes[l - 1], self.layer_sizes[l]
                weights.append(out.state[f"proj{l}.w"].reshape(n_pre, n_post).T.copy())
                biases.append(out.state[f"layer{l}.b"])
            else:
                weights.append(out.state[f"kernel{l}.w"].reshape(geo.kernel_shape).copy())
                biases.append(out.state[f"bias{l}.b"])
        return {"weights": weights, "biases": biases}
