r"""The mimic protocol of the microcircuit (docs/model.md §3.6; Haider et al. 2021
Fig. 5): a 1-1-1 student learns to reproduce a 1-1-1 teacher. Settings:
`le_brian.models.microcircuit_mimic`."""

import numpy as np
from brian2 import ms

from ..models import microcircuit_mimic as MIMIC
from ..networks.microcircuit import Microcircuit
from ..params import MicrocircuitParameters
from .presentation import epoch_orders

__all__ = ["run_mimic"]

#: Defaults of `run_mimic`'s keywords: the microcircuit's fields (le_brian.params).
_F = MicrocircuitParameters.fields()


def _float32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def run_mimic(mode=_F["mode"].default, epochs=MIMIC.TRAINING_PHASE["epochs"],
              self_prediction_epochs=MIMIC.SELF_PREDICTION["epochs"],
              device=_F["device"].default, codegen_target=_F["codegen_target"].default,
              simulator=None, record_every=0.1 * ms, report=None):
    r"""The mimic protocol: a 1-1-1 student learns a teacher.

    Teacher (`MIMIC.TEACHER_NETWORK`): seed 42, self-predicting; 6 inputs U(0, 1) drawn
    from the teacher's seeded stream after its weights, then put in the order of the
    second of two permutations drawn next (the authors' evaluation draws one for a
    discarded pass, then the one whose inputs and outputs become the student's dataset,
    stored in float32); targets = the teacher's pattern outputs in one run from rest
    without nudging or learning. Student (`MIMIC.STUDENT`): seed 12345, random W_pi and
    W_ip. Phase 1 (self-prediction): ``self_prediction_epochs`` epochs of the 6 patterns
    in random order, eta_up 0, eta_ip 40/ms, eta_pi 50/ms, no nudging, learning on. Two
    permutations are then drawn and unused (the authors' pre-training evaluation, which
    changes nothing else). Phase 2: ``epochs`` epochs of 6 training patterns (nudged,
    learning) and 6 validation patterns (neither), `epoch_orders`, eta_up [50, 10]/ms,
    eta_ip 20/ms, eta_pi 0. dt = tau_0 = 0.01 ms, T = 1 ms. Every phase is one run
    starting from rest (`Microcircuit.reset_state`). Compared draw for draw with the
    authors' run_single_mc.py / network.py (docs/model.md §3.6).

    Returns
    -------
    dict
        ``teacher`` (weights), ``inputs`` (6, 1), ``targets`` (6, 1); per phase
        (``'self_prediction'``, ``'training'``): ``t`` (s), ``weights``
        (``{name: (n_recorded,) array}`` for W_up1, W_up2, W_ip1, W_pi1, W_down1),
        ``t_weights`` (s), ``v_A`` (apical potential of the hidden cell), and for
        training ``val_error`` (epochs,) mean squared read-out error on the validation
        patterns.
    """
    T = MIMIC.TRAINING_PHASE["presentation_time"]
    common = dict(MIMIC.NETWORK, mode=mode, device=device, codegen_target=codegen_target,
                  simulator=simulator)
    teacher = Microcircuit(**MIMIC.TEACHER_NETWORK, **common)
    n = MIMIC.TEACHER["n_patterns"]
    x = teacher.rng.random_sample((n, 1))
    # The authors' teacher evaluation draws two orders (a discarded pass, then the pass
    # whose order becomes the student's dataset) and stores inputs and outputs in float32.
    teacher.rng.permutation(n)
    x = _float32(x[teacher.rng.permutation(n)])
    tres = teacher.run(x, T, learn=False, record={})
    targets = _float32(tres.pattern_outputs)
    phase1 = {k: v for k, v in MIMIC.SELF_PREDICTION.items() if k != "epochs"}
    student = Microcircuit(**MIMIC.STUDENT, **phase1, **common)
    rec = {"pyr1": ["v_A"], "W_up1": True, "W_up2": True, "W_ip1": True, "W_pi1": True,
           "W_down1": True}
    out = {"teacher": teacher.get_parameters(), "inputs": x, "targets": targets}

    def pack(res):
        return {"t": np.asarray(res.t), "v_A": res.states["pyr1"]["v_A"][:, 0],
                "t_weights": np.asarray(res.weights["W_up1"]["t"]),
                "weights": {k: v["w"][:, 0] for k, v in res.weights.items()}}

    order = np.concatenate([student.rng.permutation(n) for _ in range(self_prediction_epochs)])
    res = student.run(x[order], T, learn=True, record=rec, record_every=record_every,
                      record_weights_every=T, report=report)
    out["self_prediction"] = pack(res)
    student.reset_state()
    student.set_learning_rates(**{k: MIMIC.TRAINING_PHASE[k]
                                  for k in ("eta_up", "eta_ip", "eta_pi")})
    # the authors' pre-training evaluation (from rest, no learning) draws two orders
    student.rng.permutation(n), student.rng.permutation(n)
    order, train = epoch_orders(student.rng, n, n, epochs)
    res = student.run(x[order], T, targets=targets[order], nudge=train, learn=train,
                      record=rec, record_every=record_every, record_weights_every=T,
                      report=report)
    out["training"] = pack(res)
    err = ((res.pattern_outputs - targets[order]) ** 2).mean(axis=1).reshape(epochs, 2 * n)
    out["training"]["val_error"] = err[:, n:].mean(axis=1)
    out["student"] = student.get_parameters()
    return out
