r"""Error backpropagation baseline: a plain NumPy multilayer perceptron trained by
online SGD (batch size 1), with the same architecture, activations and targets as an
`le_brian.LENetwork`.

Forward: u_l = W_l r_{l-1} + b_l, r_l = phi_l(u_l). Loss per sample
L = 1/2 ||y - r_L||^2 (for a linear output this is the energy whose gradient the LE
output error beta (y - u_L) follows). Backward: delta_L = phi_L'(u_L) (y - r_L),
delta_l = phi_l'(u_l) W_{l+1}^T delta_{l+1}; update W_l += lr_l delta_l r_{l-1}^T,
b_l += lr_l delta_l. Activations and their derivatives are those of
`le_brian.activations.NP_ACTIVATIONS` (the hard-sigmoid derivative is 1 on [0, 1], ends
included, as in docs/model.md §1.5).

The correspondence with LE: a sample shown for T with nudging beta and learning rate
eta changes W by about eta T beta delta r^T once the network has settled, so the
backprop step lr = eta T beta compares like with like.
"""

import numpy as np

from ..activations import NP_ACTIVATIONS

__all__ = ["BackpropMLP", "train_backprop", "run_epochs"]


class BackpropMLP:
    """Multilayer perceptron trained by online SGD.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``[n_in, ..., n_out]``.
    activation, output_activation : str
        Names in `le_brian.activations.NP_ACTIVATIONS`.
    learning_rates : float or sequence of float
        SGD step size per layer (dimensionless).
    seed : int
        Seed of the initial weights.
    weight_scale : float or None
        Weights and biases ~ N(0, weight_scale); None: weights ~ N(0, 1/n_pre),
        biases 0 (the defaults of `le_brian.LENetwork`, so the same seed gives the
        same initial parameters).
    """

    def __init__(self, layer_sizes, activation="tanh", output_activation="linear",
                 learning_rates=0.01, seed=0, weight_scale=None):
        sizes = list(layer_sizes)
        if len(sizes) < 2 or not all(isinstance(n, (int, np.integer)) and n > 0 for n in sizes):
            raise ValueError(f"layer_sizes must be at least two positive ints, got {layer_sizes!r}")
        for name, act in (("activation", activation), ("output_activation", output_activation)):
            if act not in NP_ACTIVATIONS:
                raise ValueError(f"{name} must be one of {sorted(NP_ACTIVATIONS)}, got {act!r}")
        self.layer_sizes = [int(n) for n in sizes]
        self.n_layers = len(sizes) - 1
        self.activation, self.output_activation = activation, output_activation
        self.set_learning_rates(learning_rates)
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for n_pre, n_post in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            if weight_scale is None:
                self.weights.append(rng.normal(0, 1 / np.sqrt(n_pre), (n_post, n_pre)))
                self.biases.append(np.zeros(n_post))
            else:
                self.weights.append(rng.normal(0, weight_scale, (n_post, n_pre)))
                self.biases.append(rng.normal(0, weight_scale, n_post))

    def set_learning_rates(self, learning_rates):
        lr = np.atleast_1d(np.asarray(learning_rates, dtype=float))
        if lr.size == 1:
            lr = np.repeat(lr, self.n_layers)
        if lr.shape != (self.n_layers,) or np.any(lr < 0) or not np.all(np.isfinite(lr)):
            raise ValueError(f"learning_rates must be one non-negative number or "
                             f"{self.n_layers}, got {learning_rates!r}")
        self.learning_rates = lr

    def _phi(self, l):
        return NP_ACTIVATIONS[self.output_activation if l == self.n_layers else self.activation]

    def get_parameters(self):
        return [w.copy() for w in self.weights], [b.copy() for b in self.biases]

    def set_parameters(self, weights=None, biases=None):
        if weights is not None:
            for l, w in enumerate(weights):
                if np.shape(w) != self.weights[l].shape:
                    raise ValueError(f"weights[{l}] must have shape {self.weights[l].shape}")
            self.weights = [np.array(w, dtype=float) for w in weights]
        if biases is not None:
            for l, b in enumerate(biases):
                if np.shape(b) != self.biases[l].shape:
                    raise ValueError(f"biases[{l}] must have shape {self.biases[l].shape}")
            self.biases = [np.array(b, dtype=float) for b in biases]

    def predict(self, x):
        """Output rates (n_samples, n_out) for inputs (n_samples, n_in)."""
        r = np.asarray(x, dtype=float)
        for l in range(1, self.n_layers + 1):
            r = self._phi(l)[0](r @ self.weights[l - 1].T + self.biases[l - 1])
        return r

    def train_sample(self, x, y):
        """One SGD step on one sample; returns the loss before the step."""
        rates, pots = [np.asarray(x, dtype=float)], []
        for l in range(1, self.n_layers + 1):
            u = self.weights[l - 1] @ rates[-1] + self.biases[l - 1]
            pots.append(u)
            rates.append(self._phi(l)[0](u))
        err = y - rates[-1]
        delta = self._phi(self.n_layers)[1](pots[-1]) * err
        for l in range(self.n_layers, 0, -1):
            below = self.weights[l - 1].T @ delta if l > 1 else None
            self.weights[l - 1] += self.learning_rates[l - 1] * np.outer(delta, rates[l - 1])
            self.biases[l - 1] += self.learning_rates[l - 1] * delta
            if l > 1:
                delta = self._phi(l - 1)[1](pots[l - 2]) * below
        return 0.5 * float(err @ err)

    def fit_epoch(self, x, targets, rng):
        """One epoch of online SGD in an order drawn from ``rng``; mean loss."""
        order = rng.permutation(len(x))
        return float(np.mean([self.train_sample(x[i], targets[i]) for i in order]))

    def evaluate(self, x, labels=None, targets=None, predict_classes=None):
        """``loss`` (mean squared error per output) against ``targets`` and
        ``accuracy`` against ``labels`` (argmax, or ``predict_classes(outputs)``)."""
        out = self.predict(x)
        metrics = {}
        if targets is not None:
            metrics["loss"] = float(np.mean((out - targets) ** 2))
        if labels is not None:
            pred = predict_classes(out) if predict_classes else out.argmax(axis=1)
            metrics["accuracy"] = float(np.mean(pred == labels))
        return metrics


def train_backprop(data, hidden, activation="tanh", output_activation="linear",
                   learning_rates=0.01, epochs=10, seed=0, lr_decay=1.0, target_on=1.0,
                   target_off=0.0, weight_scale=None):
    """Train a `BackpropMLP` on a `le_brian.datasets.Dataset`.

    Returns
    -------
    model : BackpropMLP
    history : list of dict
        Per epoch: ``epoch``, ``train_loss``, and ``val_*`` / ``test_*`` metrics.
    """
    sizes = [data.n_features, *hidden, data.n_outputs]
    model = BackpropMLP(sizes, activation, output_activation, learning_rates, seed, weight_scale)
    classification = data.task == "classification"

    def targets(y):
        return data.targets(y, on=target_on, off=target_off)

    def predict(out):
        return data.predict_classes(out, on=target_on, off=target_off)

    splits = [(split, x, y if classification else None, targets(y))
              for split, x, y in (("val", data.x_val, data.y_val),
                                  ("test", data.x_test, data.y_test))]
    history = run_epochs(model, data.x_train, targets(data.y_train), splits, epochs,
                         np.random.default_rng([seed, 11]), lr_decay, predict)
    return model, history


def run_epochs(model, x_train, t_train, splits, epochs, rng, lr_decay, predict_classes,
               evaluate_first=False):
    """The epoch loop of the baselines: per epoch e = 1..``epochs`` the learning rates
    times ``lr_decay**(e-1)``, one pass of ``model.fit_epoch`` in an order from ``rng``,
    then ``model.evaluate`` on every non-empty ``(name, x, labels, targets)`` of
    ``splits`` (labels None: no accuracy). ``evaluate_first``: an epoch-0 row before
    training. Returns the rows (``epoch``, ``train_loss``, ``<split>_<metric>``)."""
    base = model.learning_rates.copy()
    history = []

    def evaluate(row):
        for split, x, labels, targets in splits:
            if len(x) == 0:
                continue
            m = model.evaluate(x, labels=labels, targets=targets,
                               predict_classes=predict_classes)
            row.update({f"{split}_{k}": v for k, v in m.items()})
        history.append(row)

    if evaluate_first:
        evaluate({"epoch": 0, "train_loss": None})
    for epoch in range(1, epochs + 1):
        model.set_learning_rates(base * lr_decay ** (epoch - 1))
        evaluate({"epoch": epoch, "train_loss": model.fit_epoch(x_train, t_train, rng)})
    return history
