"""Training a microcircuit on a classification dataset (e.g. Yin-Yang) with the bars
protocol's rules (docs/model.md §2.4). Parameters of the published-style Yin-Yang run:
`le_brian.models.microcircuit_yinyang`."""

import numpy as np
from brian2 import ms, second

from ..networks.microcircuit import Microcircuit
from ..params import MicrocircuitTrainingParameters

__all__ = ["run_classification"]

#: Defaults of the keyword arguments: the fields of a microcircuit run (le_brian.params).
_F = MicrocircuitTrainingParameters.fields()


def run_classification(data, presentation_time, hidden=(30,), mode=_F["mode"].default,
                       epochs=_F["epochs"].default, eta_up=(0.05 / ms, 0.01 / ms),
                       eta_ip=(0.02 / ms,), lr_decay=_F["lr_decay"].default,
                       seed=_F["seed"].default, target_on=_F["target_on"].default,
                       target_off=_F["target_off"].default, out_lag=_F["out_lag"].default,
                       dt=_F["dt"].default, activation=_F["activation"].default,
                       device=_F["device"].default,
                       codegen_target=_F["codegen_target"].default, simulator=None,
                       progress=None):
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
        run_time += float((res.run_time + vres.run_time) / second)
        steps += (len(order) + len(data.x_val)) * res.steps_per_pattern
        if progress is not None:
            progress(f"epoch {epoch + 1}: validation accuracy {acc:.3f}")
    test, tres = accuracy(data.x_test, data.y_test)
    return {"val_accuracy": np.array(val), "test_accuracy": test,
            "weights": net.get_parameters(), "run_time": run_time + float(tres.run_time / second),
            "steps": steps + len(data.x_test) * tres.steps_per_pattern}
