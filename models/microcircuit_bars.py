"""Cortical microcircuit, "bars" task (docs/model.md §3.5; Haider et al. 2021 Fig. 3,
after the authors' run_bars.py): `le-brian train --model microcircuit_bars` (run folder,
`le_brian.protocols.microcircuit_run`), `le_brian.protocols.bars.run_bars` or
scripts/fig_microcircuit_bars.py.

`NETWORK` holds `le_brian.Microcircuit` arguments, `PROTOCOL` the run settings. Learning
rates and the original mode's read-out lag depend on the presentation time T
(`ETA_UP_FACTORS`, `ETA_IP_FACTOR`, `ROUNDED_RATES`, `OUT_LAG_ORIGINAL`); the protocol
reads them through `le_brian.protocols.bars.bars_learning_rates` / `bars_out_lag`.
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
    le_out_lag=0 * ms,  # LE mode reads the output from the first step of a pattern
)

# Learning rates: eta_up = factor / T, [hidden, output]; eta_ip = 0.2 / T; eta_pi = 0.
ETA_UP_FACTORS = (0.5, 0.1)
ETA_IP_FACTOR = 0.2

# The authors' T = 0.3 ms configs use rounded values instead of factor / T:
# (presentation time, rates) pairs.
ROUNDED_RATES = [
    (0.3 * ms, dict(eta_up=[1.67 / ms, 0.3333 / ms], eta_ip=[0.67 / ms])),
]

# Read-out lag of the original mode per presentation time (run_bars.py configs):
# (presentation time, out_lag) pairs.
OUT_LAG_ORIGINAL = [
    (0.3 * ms, 0 * ms), (0.5 * ms, 0.2 * ms), (1 * ms, 0.5 * ms), (2 * ms, 1 * ms),
    (5 * ms, 2 * ms), (10 * ms, 5 * ms), (20 * ms, 15 * ms), (50 * ms, 40 * ms),
    (100 * ms, 80 * ms), (200 * ms, 80 * ms), (500 * ms, 80 * ms),
]
