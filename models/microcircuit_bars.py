"""Cortical microcircuit, "bars" task (DESIGN.md sections 2-3; Haider et al. 2021 Fig. 3,
after the authors' run_bars.py). Not a `le-brian train` model (no TRAINING dict): use
`le_brian.microcircuit.run_bars` or scripts/fig_microcircuit_bars.py.

`NETWORK` holds `le_brian.microcircuit.Microcircuit` arguments, `PROTOCOL` the run
settings. Learning rates and the original mode's read-out lag depend on the
presentation time T: see `le_brian.microcircuit.bars_learning_rates` / `bars_out_lag`.
"""

from brian2 import ms

NETWORK = dict(
    layer_sizes=[9, 30, 3],  # 3x3 images -> 30 hidden pyramidal cells (+3 interneurons) -> 3 classes
    g_l=0.03 / ms,  # leak conductance
    g_b=0.1 / ms,  # basal dendrite -> soma
    g_a=0.06 / ms,  # apical dendrite -> soma (hidden layers)
    g_d=0.1 / ms,  # dendritic conductance of the self-predicting initialisation only
    g_som=0.06 / ms,  # somatic nudging (output by the target, interneurons by the output)
    dt=0.1 * ms,  # Euler step
    tau_0=0.1 * ms,  # input/target low-pass filter; = dt passes the pattern through
    seed=12354,  # weight draw; the pattern orders continue the same stream
    init="self_predicting",  # W_pi = -W_down, W_ip from the output's W_up
    activation="soft_relu",  # the authors' thresholded softplus
)

PROTOCOL = dict(
    targets=(1.0, 0.1),  # target potential of the true class / the other classes
    train_patterns=8,  # 3 horizontal, 3 vertical, 2 diagonal bars (nudged, learning)
    validation_patterns=8,  # the same 8 patterns, not nudged, not learning
    # presentation times of the paper's sweep
    presentation_times=[0.3 * ms, 0.5 * ms, 1 * ms, 2 * ms, 5 * ms, 10 * ms, 20 * ms,
                        50 * ms, 100 * ms, 200 * ms, 500 * ms],
    epochs=1000,  # the paper's run (the figure script defaults to fewer, see --help)
    seeds=10,  # the paper averages 10 seeds
    eta_up_factors=(0.5, 0.1),  # eta_up = factor / T per ms, [hidden, output]
    eta_ip_factor=0.2,  # eta_ip = 0.2 / T per ms; eta_pi = 0
    le_out_lag=0 * ms,  # LE mode reads the output from the first step of a pattern
)
