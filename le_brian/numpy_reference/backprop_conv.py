r"""Error backpropagation baseline for networks with convolution and pooling layers.

The architectures of `le_brian.numpy_reference.NumpyConvLENetwork` (the same layer tuples,
`le_brian.numpy_reference.conv_ops`), trained by online SGD (batch size 1) like
`le_brian.numpy_reference.BackpropMLP`, whose SGD bookkeeping (learning rates, parameters,
epochs, evaluation) it inherits.

Forward: a conv layer ``u = K * p + b`` (cross-correlation, stride, zero padding; one bias
per output channel), a dense layer ``u = W p + b``, ``r = phi(u)``; a pool layer
``r = pool(p)`` (max: the first maximum of each window; avg: window sum / (kh kw)).
Loss per sample ``C = 1/2 ||y - r_L||^2``. Backward, with ``delta_l = -dC/du_l``:
``delta_L = phi'(u_L) (y - r_L)``; the sum handed to the layer below is ``W^T delta``
(dense), the transposed convolution of delta (conv), or the pool's routing of the sum it
received (max: to the arg-max input, avg: 1/(kh kw) to every input of the window);
``delta_l = phi'(u_l) * (that sum)`` at a neuron layer. Gradients
``-dC/dK[o,c,i,j] = sum_{y,x} delta[o,y,x] p[c, y sh + i - ph, x sw + j - pw]`` and
``-dC/db[o] = sum_{y,x} delta[o,y,x]``: the local rule of the LE kernel update
(docs/model.md §1.9) with the settled error in place of e.
"""

import contextlib

import numpy as np

from ..activations import NP_ACTIVATIONS
from .backprop import BackpropMLP, run_epochs
from .conv_ops import (conv_forward, conv_kernel_gradient, conv_transpose, init_parameters,
                       parse_layers, patches, pool_forward, pool_route)

__all__ = ["BackpropConvNet", "train_backprop_conv"]


class BackpropConvNet(BackpropMLP):
    """Conv / pool / dense network trained by online SGD.

    Parameters
    ----------
    layers : list of tuple
        Layer tuples as for `le_brian.numpy_reference.NumpyConvLENetwork`.
    activation, output_activation : str
        Names in `le_brian.activations.NP_ACTIVATIONS` (hidden neuron layers / output);
        a conv or dense tuple may name its own.
    learning_rates : float or sequence of float
        SGD step size, one for all or one per learnable (conv, dense) layer.
    seed : int
        Seed of the initial parameters (drawn as an `le_brian.LENetwork` of the same
        layers draws them: `le_brian.numpy_reference.conv_ops.init_parameters`).
    weight_scale : float or None
        None: kernels ~ N(0, 1/sqrt(C kh kw)), dense weights ~ N(0, 1/sqrt(n_pre)), biases
        0; a number s: weights and biases ~ N(0, s).
    """

    def __init__(self, layers, activation="tanh", output_activation="linear",
                 learning_rates=0.01, seed=0, weight_scale=None):
        for name, act in (("activation", activation), ("output_activation", output_activation)):
            if act not in NP_ACTIVATIONS:
                raise ValueError(f"{name} must be one of {sorted(NP_ACTIVATIONS)}, got {act!r}")
        specs = parse_layers(layers)
        self.input, self.layers = specs[0], specs[1:]
        self.learnable = [l for l, s in enumerate(self.layers) if s.learnable]
        self.n_layers = len(self.learnable)
        self.layer_sizes = [self.input.n_out] + [s.n_out for s in self.layers]
        self.activation, self.output_activation = activation, output_activation
        self.set_learning_rates(learning_rates)
        self.weights, self.biases = init_parameters(specs, seed, weight_scale)

    def _act(self, l):
        s = self.layers[l]
        name = s.activation or (self.output_activation if l == len(self.layers) - 1
                                else self.activation)
        return NP_ACTIVATIONS[name]

    def _forward(self, x):
        """Per layer: (input p, potential u or None, rate r, arg-max or None, patches or None),
        for inputs (..., n_in) (flat; leading batch axes kept)."""
        x = np.asarray(x, dtype=float)
        lead = x.shape[:-1]
        a = x
        cache, m = [], 0
        for l, s in enumerate(self.layers):
            q = P = u = None
            if s.kind == "dense":
                u = a @ self.weights[m].T + self.biases[m]
            else:
                img = a.reshape(lead + s.in_shape)
                if s.is_pool:
                    r, q = pool_forward(img, s)
                else:
                    P = patches(img, s)
                    u = conv_forward(self.weights[m], P) + self.biases[m][:, None, None]
                if u is None:
                    r = r.reshape(lead + (-1,))
                else:
                    u = u.reshape(lead + (-1,))
            if u is not None:
                r, m = self._act(l)[0](u), m + 1
            cache.append((a, u, r, q, P))
            a = r
        return cache

    def predict(self, x, chunk=256):
        """Output rates (n_samples, n_out) for inputs (n_samples, n_in) or
        (n_samples, C, H, W), in chunks of ``chunk`` samples."""
        x = np.asarray(x, dtype=float)
        x = x.reshape(len(x), -1)
        return np.concatenate([self._forward(x[i:i + chunk])[-1][2]
                               for i in range(0, len(x), chunk)] or
                              [np.zeros((0, self.layers[-1].n_out))])

    def gradients(self, x, y):
        """The loss ``C = 1/2 ||y - r_L||^2`` of one sample and its gradients
        (dC/dW per learnable layer, dC/db per learnable layer)."""
        cache = self._forward(np.asarray(x, dtype=float).ravel())
        y = np.asarray(y, dtype=float).ravel()
        err = y - cache[-1][2]
        gw, gb = [None] * self.n_layers, [None] * self.n_layers
        m = self.n_layers
        delta = self._act(len(self.layers) - 1)[1](cache[-1][1]) * err  # -dC/du_L
        for l in range(len(self.layers) - 1, -1, -1):
            s, (p, _, _, q, P) = self.layers[l], cache[l]
            if s.is_pool:
                down = pool_route(delta.reshape(s.out_shape), q, s).ravel()
            else:
                m -= 1
                w = self.weights[m]
                if s.kind == "dense":
                    gw[m], gb[m] = -np.outer(delta, p), -delta
                    down = w.T @ delta if l else None
                else:
                    d = delta.reshape(s.out_shape)
                    gw[m], gb[m] = -conv_kernel_gradient(d, P), -d.sum(axis=(1, 2))
                    down = conv_transpose(w, d, s).ravel() if l else None
            if l:
                below_u = cache[l - 1][1]
                delta = down if below_u is None else self._act(l - 1)[1](below_u) * down
        return 0.5 * float(err @ err), gw, gb

    def train_sample(self, x, y):
        """One SGD step on one sample; returns the loss before the step."""
        loss, gw, gb = self.gradients(x, y)
        for m in range(self.n_layers):
            self.weights[m] -= self.learning_rates[m] * gw[m]
            self.biases[m] -= self.learning_rates[m] * gb[m]
        return loss


def train_backprop_conv(layers, x_train, labels_train, x_test, labels_test,
                        activation="hard_sigmoid", output_activation="linear",
                        learning_rates=0.01, epochs=10, seed=0, lr_decay=1.0, target_on=1.0,
                        target_off=0.0, weight_scale=None, blas_threads=1):
    """Train a `BackpropConvNet` on arrays with le_brian's online schedule.

    The schedule of `le_brian.protocols.training` (docs/model.md §1.7): the initial
    parameters from ``seed``, an evaluation before training (epoch 0), then per epoch
    e = 1..E the learning rates times ``lr_decay**(e-1)`` and one pass in a fresh
    permutation drawn from ``numpy.random.default_rng(seed + 1000)``, one sample at a
    time, then an evaluation.

    Parameters
    ----------
    layers : list of tuple
        Layer tuples (the input's size must match the samples).
    x_train, x_test : array
        Samples, (n, C, H, W) or (n, n_in).
    labels_train, labels_test : array of int
        Class labels; targets are one-hot rows of ``target_on`` / ``target_off`` (one
        output unit: a binary task, thresholded halfway).
    blas_threads : int or None
        BLAS threads during the run (through threadpoolctl, when installed); None leaves
        them. Online SGD multiplies small matrices: on a loaded 2-core machine one thread
        was about 7 times faster for LeNet-5 than OpenBLAS's default.

    Returns
    -------
    model : BackpropConvNet
    history : list of dict
        Per epoch 0..E: ``epoch``, ``train_loss`` (mean over the epoch's samples, None at
        epoch 0), ``test_accuracy``, ``test_loss``.
    """
    model = BackpropConvNet(layers, activation, output_activation, learning_rates, seed,
                            weight_scale)
    n_out = model.layers[-1].n_out
    x_train = np.asarray(x_train, dtype=float).reshape(len(x_train), -1)
    x_test = np.asarray(x_test, dtype=float).reshape(len(x_test), -1)
    for name, x, y in (("x_train", x_train, labels_train), ("x_test", x_test, labels_test)):
        if x.shape[1] != model.input.n_out or len(y) != len(x):
            raise ValueError(f"{name} must hold samples of {model.input.out_shape or ''} "
                             f"{model.input.n_out} values with one label each, got "
                             f"{x.shape} and {len(y)} labels")

    def targets(labels):
        labels = np.asarray(labels, dtype=int)
        if n_out == 1:
            return np.where(labels[:, None] == 1, target_on, target_off).astype(float)
        t = np.full((len(labels), n_out), float(target_off))
        t[np.arange(len(labels)), labels] = target_on
        return t

    def predict(out):
        if n_out == 1:
            return (out[:, 0] > 0.5 * (target_on + target_off)).astype(int)
        return out.argmax(axis=1)

    splits = [("test", x_test, np.asarray(labels_test), targets(labels_test))]
    with _blas_limit(blas_threads):
        history = run_epochs(model, x_train, targets(labels_train), splits, epochs,
                             np.random.default_rng(seed + 1000), lr_decay, predict,
                             evaluate_first=True)
    return model, history


def _blas_limit(threads):
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it BLAS keeps its threads
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")
