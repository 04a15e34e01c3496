"""Cortical microcircuit, "mimic" task (docs/model.md §3.6; Haider et al. 2021 Fig. 5):
a 1-1-1 student learns to reproduce a 1-1-1 teacher: `le-brian train --model
microcircuit_mimic` (run folder, `le_brian.protocols.mimic_run`),
`le_brian.protocols.mimic.run_mimic` or scripts/fig_microcircuit_mimic.py.

`NETWORK` holds the `le_brian.Microcircuit` arguments teacher and student share,
`TEACHER_NETWORK` / `STUDENT` their own, `SELF_PREDICTION` and `TRAINING_PHASE` the two
phases; `PROTOCOL` gathers them for the command line (each value written once, here).
"""

from brian2 import ms

NETWORK = dict(
    layer_sizes=[1, 1, 1],  # one input, one hidden pyramidal cell + interneuron, one output
    g_l=0.03 / ms,  # leak conductance
    g_b=0.1 / ms,  # basal dendrite -> soma
    g_a=0.06 / ms,  # apical dendrite -> soma
    g_d=0.1 / ms,  # self-predicting initialisation only
    g_som=0.06 / ms,  # somatic nudging
    dt=0.01 * ms,  # Euler step
    tau_0=0.01 * ms,  # input/target filter (= dt: pass-through)
    activation="soft_relu",  # the authors' thresholded softplus
)

TEACHER_NETWORK = dict(
    seed=42,  # weight draw; the 6 inputs continue the same stream
    init="self_predicting",
)

TEACHER = dict(
    n_patterns=6,  # inputs U(0, 1)
)

STUDENT = dict(
    seed=12345,
    init="random",  # W_pi and W_ip random: the self-prediction phase must learn them
)

SELF_PREDICTION = dict(
    epochs=3,  # 6 patterns each, no nudging, learning on
    eta_up=[0 / ms, 0 / ms],  # W_up frozen
    eta_ip=[40 / ms],  # interneurons learn to predict the output
    eta_pi=[50 / ms],  # W_pi learns to cancel the top-down input
)

TRAINING_PHASE = dict(
    epochs=500,  # 6 training (nudged, learning) + 6 validation patterns each
    presentation_time=1 * ms,
    eta_up=[50 / ms, 10 / ms],  # [hidden, output]
    eta_ip=[20 / ms],
    eta_pi=[0 / ms],
)

#: The run of `le-brian train --model microcircuit_mimic`: the student (`STUDENT`) is the
#: run's network; epoch 0 follows the self-prediction phase; epochs 1.. are
#: `TRAINING_PHASE` epochs (metrics: train_loss, val_loss = the figure's val_error).
PROTOCOL = dict(
    protocol="mimic",
    teacher_seed=TEACHER_NETWORK["seed"],
    teacher_init=TEACHER_NETWORK["init"],
    n_patterns=TEACHER["n_patterns"],
    self_prediction_epochs=SELF_PREDICTION["epochs"],
    **{f"self_prediction_{k}": SELF_PREDICTION[k] for k in ("eta_up", "eta_ip", "eta_pi")},
    **TRAINING_PHASE,
)
