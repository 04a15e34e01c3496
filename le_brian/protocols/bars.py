r"""The bars protocol of the microcircuit (docs/model.md §3.5; Haider et al. 2021 Fig. 3,
after the authors' run_bars.py), on the Brian2 `Microcircuit` (`run_bars`) and on the
NumPy reference (`run_bars_numpy`, the baseline of the sweep's wall-time ratio).

Defaults come from the parameter set `le_brian.models.microcircuit_bars`.
"""

import time

import numpy as np
from brian2 import Hz, ms, second

from ..engine.validation import as_time, check_choice
from ..models import microcircuit_bars as BARS
from ..networks.microcircuit import MODES, Microcircuit, draw_weights, self_predicting_weights
from ..numpy_reference.microcircuit import NumpyMicrocircuit
from ..params import MicrocircuitParameters, MicrocircuitTrainingParameters
from .presentation import epoch_orders, lr_factor

__all__ = ["bars_data", "bars_learning_rates", "bars_out_lag", "run_bars", "run_bars_numpy",
           "run_schedule"]

#: Defaults of `run_bars`' keywords: the microcircuit's fields (le_brian.params).
_F = MicrocircuitParameters.fields()
#: The learning-rate schedule's defaults: the training fields (constant rates).
_S = MicrocircuitTrainingParameters.fields()


def _lookup(pairs, presentation_time):
    """The value paired with ``presentation_time`` in a (time, value) table, or None."""
    T = float(as_time("presentation_time", presentation_time))
    return next((value for t, value in pairs if abs(float(t) - T) < 1e-12), None)


def bars_learning_rates(presentation_time):
    """eta tables of the bars task: eta_up = [0.5, 0.1]/T, eta_ip = [0.2/T], eta_pi = 0
    (T in ms, rates per ms); the T = 0.3 ms configs use the rounded values
    [1.67, 0.3333] and 0.67 per ms (`le_brian.models.microcircuit_bars`). Returns a dict
    of Quantity lists (`Microcircuit` keyword arguments)."""
    rounded = _lookup(BARS.ROUNDED_RATES, presentation_time)
    if rounded is not None:
        return {"eta_up": list(rounded["eta_up"]), "eta_ip": list(rounded["eta_ip"]),
                "eta_pi": [0 / ms]}
    T_ms = float(presentation_time / ms)
    up_h, up_o = BARS.ETA_UP_FACTORS
    return {"eta_up": [up_h / T_ms / ms, up_o / T_ms / ms],
            "eta_ip": [BARS.ETA_IP_FACTOR / T_ms / ms], "eta_pi": [0 / ms]}


def bars_out_lag(presentation_time, mode):
    """Read-out lag of the bars task: 0 in LE mode, the table
    `le_brian.models.microcircuit_bars.OUT_LAG_ORIGINAL` in the original mode
    (presentation times outside the table: error)."""
    check_choice("mode", mode, MODES)
    lag = _lookup(BARS.OUT_LAG_ORIGINAL, presentation_time)
    if mode == "le":
        return BARS.PROTOCOL["le_out_lag"]
    if lag is None:
        known = sorted(float(t / ms) for t, _ in BARS.OUT_LAG_ORIGINAL)
        raise ValueError(f"no bars out_lag for presentation_time = "
                         f"{float(presentation_time / ms):g} ms in the original mode; known: "
                         f"{known} ms (pass out_lag=)")
    return lag


def bars_data():
    """The 8 bars patterns (8, 9) in the published order
    (`le_brian.datasets.bars_patterns`), their classes and the targets (1.0 for the class,
    0.1 otherwise)."""
    from ..datasets import bars_patterns

    x, labels = bars_patterns()
    on, off = BARS.PROTOCOL["targets"]
    y = np.full((len(labels), 3), off)
    y[np.arange(len(labels)), labels] = on
    return x, labels, y


def _accuracies(outputs, labels, order, epochs):
    n_train, n_val = BARS.PROTOCOL["train_patterns"], BARS.PROTOCOL["validation_patterns"]
    hit = (np.argmax(outputs, axis=1) == labels[order]).reshape(epochs, n_train + n_val)
    return hit[:, n_train:].mean(axis=1), hit[:, :n_train].mean(axis=1)


def run_bars(presentation_time, mode=_F["mode"].default, epochs=100, seed=BARS.NETWORK["seed"],
             out_lag=None, device=_F["device"].default,
             codegen_target=_F["codegen_target"].default, simulator=None,
             dtype=_F["dtype"].default, report=None, spiking=None, eta_scale=1.0,
             lr_decay=_S["lr_decay"].default, lr_decay_every=_S["lr_decay_every"].default):
    r"""The bars protocol on a Brian2 `Microcircuit`.

    A 9-30-3 microcircuit (`le_brian.models.microcircuit_bars.NETWORK`: self-predicting
    start, dt = tau_0 = 0.1 ms, seed 12354) is trained in ONE run: every epoch shows the
    8 training patterns in random order (nudged, learning), then the 8 validation
    patterns in random order (not nudged, no learning); nothing is reset in between.
    Orders: `epoch_orders` on the weights' seeded stream after the weights.

    Parameters
    ----------
    presentation_time : Quantity
    mode : {'le', 'original'}
    epochs : int
    seed : int
    out_lag : Quantity, optional
        Default `bars_out_lag`.
    eta_scale : float
        Factor on every learning rate of `bars_learning_rates` (default 1).
    lr_decay, lr_decay_every : float, int
        Learning-rate schedule: during epoch e (1-based) the rates are times
        ``lr_decay ** ((e - 1) // lr_decay_every)`` (`lr_factor`; the ``lr_decay`` and
        ``lr_decay_every`` fields of ``le-brian train``). With ``lr_decay != 1`` the
        epochs run in blocks of ``lr_decay_every`` epochs, one ``net.run`` each, the
        state persisting (the same arithmetic as one run; a spiking network draws other
        spikes of the same law).
    spiking : dict, optional
        Run the spiking microcircuit with these options (``n_per_unit``, ``r_max``,
        ``tau_s``, ``t_ref``, ``spike_draw``, ``prospective_trace``, ``spiking_output``;
        docs/model.md §5); None: the rate model.

    Returns
    -------
    dict
        ``val_accuracy`` (epochs,), ``train_accuracy`` (epochs,) (read-outs while
        nudged), ``pattern_outputs`` (16 epochs, 3), ``order`` (16 epochs,) pattern
        indices, ``weights`` (final, `Microcircuit.get_parameters`), ``run_time``,
        ``build_time`` (s), ``steps`` (total); spiking: ``n_spikes`` (all
        populations), ``mean_rate_hz`` (per neuron), ``max_rate_hz`` (the largest rate
        of any neuron: r_max times the largest phi), ``spikes_per_presentation``.
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    lr_factor(1, lr_decay, lr_decay_every)  # checks both
    lag = bars_out_lag(presentation_time, mode) if out_lag is None else out_lag
    network = dict(BARS.NETWORK, seed=seed)
    if spiking is not None:
        if not isinstance(spiking, dict):
            raise TypeError(f"spiking must be a dict of spiking options or None, got "
                            f"{spiking!r}")
        network.update(spiking=True, **spiking)
    rates = {k: [eta_scale * e for e in v]
             for k, v in bars_learning_rates(presentation_time).items()}
    net = Microcircuit(mode=mode, device=device, codegen_target=codegen_target,
                       simulator=simulator, dtype=dtype, out_lag=lag, **network, **rates)
    x, labels, y = bars_data()
    order, train = epoch_orders(net.rng, BARS.PROTOCOL["train_patterns"],
                                BARS.PROTOCOL["validation_patterns"], epochs)
    per_epoch = BARS.PROTOCOL["train_patterns"] + BARS.PROTOCOL["validation_patterns"]
    runs = run_schedule(net, x, y, order, train, presentation_time, rates, epochs,
                        per_epoch, lr_decay, lr_decay_every, record={}, report=report)
    res = runs[-1]
    outputs = np.concatenate([r.pattern_outputs for r in runs])
    val, tr = _accuracies(outputs, labels, order, epochs)
    steps = int(len(order) * res.steps_per_sample)
    out = {"val_accuracy": val, "train_accuracy": tr,
           "pattern_outputs": outputs, "order": order,
           "weights": net.get_parameters(),
           "run_time": sum(float(r.run_time / second) for r in runs),
           "build_time": sum(float(r.build_time / second) for r in runs), "steps": steps}
    if spiking is not None:
        n_spikes = int(sum(c.sum() for r in runs for c in r.spike_counts.values()))
        n_neurons = sum(len(c) for c in res.spike_counts.values()) * net.spiking.n_per_unit
        out["max_rate_hz"] = max(float(np.max(p / Hz)) for r in runs
                                 for p in r.peak_rates.values())
        out.update(n_spikes=n_spikes, mean_rate_hz=n_spikes / (n_neurons * steps * net._dt),
                   spikes_per_presentation=n_spikes / len(order))
    return out


def run_schedule(net, x, y, order, train, presentation_time, rates, epochs, per_epoch,
                 lr_decay=_S["lr_decay"].default, lr_decay_every=_S["lr_decay_every"].default,
                 **run_kwargs):
    """The first ``epochs`` epochs (``per_epoch`` presentations each) of an
    `epoch_orders` order (``order``, ``train``) on the microcircuit ``net``, whose
    learning rates in epoch e (1-based) are ``rates`` (``{'eta_up': [...], ...}``, those
    it was built with) times ``lr_factor(e, lr_decay, lr_decay_every)``: one ``net.run``
    per block of epochs with one factor (all epochs in one run when ``lr_decay`` is 1),
    the state persisting. ``run_kwargs`` go to every ``net.run``. Returns the runs'
    results in order."""
    block = epochs if float(lr_decay) == 1 else int(lr_decay_every)
    runs = []
    for first in range(0, epochs, block):  # epochs first+1 .. first+block
        f = lr_factor(first + 1, lr_decay, lr_decay_every)
        if f != 1:
            net.set_learning_rates(**{k: [f * e for e in v] for k, v in rates.items()})
        part = slice(first * per_epoch, min(epochs, first + block) * per_epoch)
        runs.append(net.run(x[order[part]], presentation_time, targets=y[order[part]],
                            nudge=train[part], learn=train[part], **run_kwargs))
    return runs


def run_bars_numpy(presentation_time, mode="le", epochs=10, seed=BARS.NETWORK["seed"],
                   out_lag=None, lr_decay=_S["lr_decay"].default,
                   lr_decay_every=_S["lr_decay_every"].default):
    """The same protocol on the NumPy reference microcircuit (float64); the learning
    rates of epoch e (1-based) times ``lr_decay ** ((e - 1) // lr_decay_every)``, set
    before every epoch.

    Returns
    -------
    dict
        ``val_accuracy`` (epochs,), ``train_accuracy``, ``pattern_outputs``, ``order``,
        ``run_time`` (wall seconds of the loop).
    """
    lag = bars_out_lag(presentation_time, mode) if out_lag is None else out_lag
    p = BARS.NETWORK
    dt = float(p["dt"] / ms)
    steps = int(round(float(presentation_time / ms) / dt))
    lag_steps = int(round(float(lag / ms) / dt))
    g = {k: float(p[k] * ms) for k in ("g_l", "g_b", "g_a", "g_d", "g_som")}  # 1/ms
    w, rng = draw_weights(p["layer_sizes"], seed)
    w = self_predicting_weights(w, g["g_l"], g["g_b"], g["g_a"], g["g_d"])
    rates = bars_learning_rates(presentation_time)
    hz = {k: [float(e) for e in v] for k, v in rates.items()}  # Quantities in Hz -> floats
    net = NumpyMicrocircuit(w, mode=mode, g_l=g["g_l"] * 1e3, g_b=g["g_b"] * 1e3,
                            g_a=g["g_a"] * 1e3, g_som=g["g_som"] * 1e3, eta_up=hz["eta_up"],
                            eta_ip=hz["eta_ip"], eta_pi=hz["eta_pi"], dt=dt * 1e-3,
                            tau_0=float(p["tau_0"] / ms) * 1e-3)
    x, labels, y = bars_data()
    order, train = epoch_orders(rng, BARS.PROTOCOL["train_patterns"],
                                BARS.PROTOCOL["validation_patterns"], epochs)
    t0 = time.perf_counter()
    n = len(order) // epochs
    outs = []
    for e in range(epochs):
        f = lr_factor(e + 1, lr_decay, lr_decay_every)
        net.eta_up, net.eta_ip, net.eta_pi = ([f * v for v in hz[k]]
                                              for k in ("eta_up", "eta_ip", "eta_pi"))
        part = slice(e * n, (e + 1) * n)
        outs.append(net.run(x[order[part]], steps, y[order[part]], nudge=train[part],
                            learn=train[part], lag_steps=lag_steps)[0])
    outs = np.concatenate(outs)
    wall = time.perf_counter() - t0
    val, tr = _accuracies(outs, labels, order, epochs)
    return {"val_accuracy": val, "train_accuracy": tr, "pattern_outputs": outs,
            "order": order, "run_time": wall}
