"""Run folders of the mimic protocol (docs/model.md §3.6; Haider et al. 2021 Fig. 5):
``le-brian train --model microcircuit_mimic`` writes the folder of every microcircuit
run (`le_brian.protocols.microcircuit_run`: config.json, one atomic checkpoint per
epoch, metrics.json, weights.npz, curves.png) plus ``mimic_data.npz`` (the teacher's
inputs, outputs and weights), and ``evaluate | record | plot`` work on it.

The protocol keeps the published semantics of `le_brian.protocols.mimic.run_mimic`
(seeds, the order of every draw, float32 data, the two phases from rest) and its numbers
to the bit; the run's network is the student:

- the teacher (``teacher_seed``, ``teacher_init``) draws ``n_patterns`` inputs U(0, 1)
  from its stream, then two permutations (the second orders the data); its pattern
  outputs in one free run from rest are the targets; inputs and targets in float32;
- the student (``seed``, ``init``) learns ``self_prediction_epochs`` epochs of the inputs
  in random order with the ``self_prediction_eta_*`` rates (no nudging), is reset to
  rest, draws two unused permutations (the authors' pre-training evaluation), and is
  saved as epoch 0;
- epochs 1.. are one run each, continuing the state: ``epoch_orders`` (nudged, learning
  training patterns, then free validation patterns) with the ``eta_*`` rates (times
  ``lr_decay ** ((epoch - 1) // lr_decay_every)``). Metrics: ``train_loss`` and ``val_loss`` (mean squared
  read-out error of the training / validation presentations; ``val_loss`` is
  ``run_mimic``'s ``val_error``); spiking runs add ``spikes_per_presentation`` and
  ``mean_rate_hz``.
"""

import time
from pathlib import Path

import numpy as np

from ..io import atomic_write, read_npz
from .microcircuit_run import (_load_checkpoint, _rng_state, _spike_counts, _undisturbed,
                               _write_config, build_microcircuit, load_microcircuit)
from .presentation import epoch_orders, lr_factor
from .training import _fmt_row, epochs_left, write_checkpoint, write_curves

__all__ = ["MimicData", "MIMIC_DATA", "teacher_data", "train_mimic", "evaluate_mimic"]

#: The file of a mimic run folder that holds the teacher's data.
MIMIC_DATA = "mimic_data.npz"


def _float32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


class MimicData:
    """The teacher's patterns as a dataset: every split is the ``n_patterns`` inputs;
    the "labels" are pattern indices and `targets` gives the teacher's outputs."""

    name, task, n_features, n_outputs = "mimic", "regression", 1, 1

    def __init__(self, inputs, outputs, teacher=None):
        self.inputs, self.outputs = np.asarray(inputs), np.asarray(outputs)
        self.teacher = teacher or {}
        self.n_features, self.n_outputs = self.inputs.shape[1], self.outputs.shape[1]
        index = np.arange(len(self.inputs))
        for split in ("train", "val", "test"):
            setattr(self, f"x_{split}", self.inputs)
            setattr(self, f"y_{split}", index)

    def targets(self, labels, on=None, off=None):
        """The teacher's outputs of patterns ``labels`` (``on`` / ``off`` unused)."""
        return self.outputs[np.asarray(labels)]

    def save(self, run_dir):
        """Write ``mimic_data.npz`` into ``run_dir`` (atomically)."""
        arrays = {"inputs": self.inputs, "outputs": self.outputs,
                  **{f"teacher/{k}/{i}": a for k, v in self.teacher.items()
                     for i, a in enumerate(v)}}
        atomic_write(Path(run_dir) / MIMIC_DATA, lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, run_dir):
        """The data a mimic run folder holds."""
        path = Path(run_dir) / MIMIC_DATA
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: not a mimic run folder, or one "
                                    "whose first epoch was never saved")
        with read_npz(path, "mimic data") as f:
            return cls(f["inputs"], f["outputs"])


def teacher_data(cfg, simulator=None):
    """The teacher's inputs and outputs of a resolved mimic config (`run_mimic`'s
    teacher, draw for draw): a `MimicData`."""
    teacher = build_microcircuit({**cfg, "seed": cfg["teacher_seed"],
                                  "init": cfg["teacher_init"]}, 1, 1, simulator=simulator)
    n = cfg["n_patterns"]
    x = teacher.rng.random_sample((n, 1))
    teacher.rng.permutation(n)  # the authors' discarded evaluation pass
    x = _float32(x[teacher.rng.permutation(n)])
    res = teacher.run(x, cfg["presentation_time"], learn=False, record={})
    return MimicData(x, _float32(res.pattern_outputs), teacher.get_parameters())


def _losses(res, y, train):
    err = ((res.pattern_outputs - y) ** 2).mean(axis=1)
    row = {"val_loss": float(err[~train].mean())}
    if train.any():
        row = {"train_loss": float(err[train].mean()), **row}
    return row


def _free_loss(net, data, cfg):
    n = len(data.inputs)
    res = net.run(data.inputs, cfg["presentation_time"], targets=data.outputs,
                  nudge=np.zeros(n, bool), learn=np.zeros(n, bool), record={})
    return _losses(res, data.outputs, np.zeros(n, bool))["val_loss"]


def train_mimic(cfg, text, out, resume=False, progress=print):
    """Train a resolved mimic config into the checked run folder ``out`` (see the module
    doc); called by `le_brian.protocols.microcircuit_run.train_microcircuit`. Returns the
    metrics per epoch."""
    sp = {k: list(cfg[f"self_prediction_{k}"]) for k in ("eta_up", "eta_ip", "eta_pi")}
    net = build_microcircuit({**cfg, **sp}, 1, 1)
    history, start = [], 0
    if resume:
        data = MimicData.load(out)
        last, history = _load_checkpoint(out, net, net.rng, text)
        if not epochs_left(out, last, cfg["epochs"], progress):
            return history
        start = last + 1
    else:
        data = teacher_data(cfg)
        n = len(data.inputs)
        order = np.concatenate([net.rng.permutation(n)
                                for _ in range(cfg["self_prediction_epochs"])])
        if len(order):
            net.run(data.inputs[order], cfg["presentation_time"], learn=True, record={})
        net.reset_state()
        net.rng.permutation(n), net.rng.permutation(n)  # the pre-training evaluation
    out.mkdir(parents=True, exist_ok=True)
    _write_config(out, text, data)
    data.save(out)
    if start == 0:
        history = [{"epoch": 0, "train_seconds": 0.0,
                    "val_loss": _undisturbed(net, lambda: _free_loss(net, data, cfg))}]
        write_checkpoint(out, 0, net, history, _rng_state(net.rng), text)
        progress(_fmt_row(history[0]))
    n = len(data.inputs)
    for epoch in range(max(start, 1), cfg["epochs"] + 1):
        f = lr_factor(epoch, cfg["lr_decay"], cfg["lr_decay_every"])
        net.set_learning_rates(**{k: [e * f for e in cfg[k]]
                                  for k in ("eta_up", "eta_ip", "eta_pi")})
        t0 = time.perf_counter()
        order, train = epoch_orders(net.rng, n, n, 1)
        res = net.run(data.inputs[order], cfg["presentation_time"],
                      targets=data.outputs[order], nudge=train, learn=train, record={},
                      record_spikes=cfg["spiking"])
        row = {"epoch": epoch, "train_seconds": time.perf_counter() - t0,
               **_losses(res, data.outputs[order], train)}
        if cfg["spiking"]:
            row.update(_spike_counts([res], net))
        history.append(row)
        write_checkpoint(out, epoch, net, history, _rng_state(net.rng), text)
        progress(_fmt_row(row))
    write_curves(out / "curves.png", history)
    return history


def evaluate_mimic(run_dir, split="test", device=None, progress=print):
    """Mean squared read-out error (``loss``) of a mimic run's student on the teacher's
    patterns, neither nudged nor learning, from the state of its last epoch (every
    split is the same patterns)."""
    net, cfg = load_microcircuit(run_dir, device=device)
    m = {"loss": _free_loss(net, MimicData.load(run_dir), cfg)}
    progress(f"{run_dir}: {split} loss {m['loss']:.6g}")
    return m
