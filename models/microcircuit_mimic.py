"""Cortical microcircuit, "mimic" task (docs/model.md §3.6; Haider et al. 2021 Fig. 5):
a 1-1-1 student learns to reproduce a 1-1-1 teacher. Not a `le-brian train` model (no
TRAINING dict): use `le_brian.protocols.mimic.run_mimic` or
scripts/fig_microcircuit_mimic.py.
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
