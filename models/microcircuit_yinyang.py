"""Cortical microcircuit on Yin-Yang (docs/model.md §2; `le_brian.protocols.classification.
run_classification`, scripts/fig_microcircuit_yinyang.py; `le-brian train --model
microcircuit_yinyang` writes a run folder, `le_brian.protocols.microcircuit_run`).

The bars protocol's rules (self-predicting start, W_pi fixed, every epoch the training set
nudged and learning, then the validation set free) on the 4 Yin-Yang inputs. The rates
were chosen on the validation split (seed 0, T = 1 ms, 4-120-3, 5000 training samples);
none of about 60 settings tried (eta_up hidden 0-0.5/ms, output 0.005-0.05/ms, eta_ip
0-0.1/ms, decay 0.75-0.92, raw [0, 1] or centred inputs, an extra bias input, input gain
x3, tanh cells, T = 10 ms) passed 0.79 validation accuracy. The same settings with the
hidden layer frozen (eta_up hidden = 0, a read-out of the random hidden features) reach
about the same accuracy: see the README for the comparison with backprop on the same
rate function.
"""

from brian2 import ms

NETWORK = dict(
    hidden=(120,),  # 4 -> 120 pyramidal cells (+3 interneurons) -> 3 classes
    activation="soft_relu",  # the authors' thresholded softplus
    dt=0.1 * ms,  # Euler step (tau_0 = dt: inputs pass through)
)

PROTOCOL = dict(
    dataset="yinyang",  # centred inputs (v - 0.5) * 4
    presentation_time=1 * ms,  # 10 steps per sample, far below 1/g_l = 33 ms
    eta_up=(0.02 / ms, 0.02 / ms),  # [hidden, output]
    eta_ip=(0.04 / ms,),  # interneurons track the output's W_up
    lr_decay=0.85,  # per epoch
    epochs=15,
    targets=(1.0, 0.1),  # target potential of the true class / the other classes
)
