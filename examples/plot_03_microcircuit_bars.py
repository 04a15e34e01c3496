"""
The cortical microcircuit on bars, with compartment traces
==========================================================

The dendritic-error microcircuit (Sacramento et al. 2018) with LE's prospective read-out
(Haider et al. 2021, Fig. 3) learns the 3x3 bars task at a presentation time of 1 ms,
far below its membrane time constant 1/g_l = 33 ms. One pyramidal cell's soma, basal and
apical potentials and one interneuron are recorded while it learns: the apical potential
carries the error (its mean magnitude per epoch is printed).
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms

import le_brian
from le_brian.plotting import plot_state
from le_brian.protocols.bars import bars_data

mc = le_brian.Microcircuit([9, 30, 3], mode="le",
                           g_l=0.03 / ms, g_b=0.1 / ms, g_a=0.06 / ms, g_som=0.06 / ms,
                           eta_up=[500 * Hz, 100 * Hz], eta_ip=[200 * Hz], dt=0.1 * ms,
                           init="self_predicting", seed=12354, device="cpp_standalone")
x, labels, targets = bars_data()
apical = []
for epoch in range(15):
    res = mc.run(x, 1 * ms, targets=targets, nudge=[True] * 8, learn=[True] * 8,
                 record={"pyr1": ["u", "v_B", "v_A"], "int1": ["u", "v_I"]},
                 record_neurons={"pyr1": [0], "int1": [0]}, record_every=0.1 * ms)
    if epoch == 0:
        first = res
    apical.append(float(np.mean(np.abs(res.states["pyr1"]["v_A"]))))
print("mean |v_A| of pyramidal cell 0 per epoch:", np.round(apical, 4))

# %%
# Compartments of pyramidal cell 0 and of interneuron 0 in the first and the last epoch
# (targets nudge the output layer, whose error reaches the pyramidal cell's apical
# dendrite).
fig, axes = plt.subplots(2, 2, figsize=(12, 6), constrained_layout=True, sharey="row")
for col, (r, title) in enumerate(((first, "epoch 1"), (res, f"epoch {len(apical)}"))):
    t = r.t - r.t[0]
    for var, label in (("u", "soma u"), ("v_B", "basal v_B"), ("v_A", "apical v_A")):
        plot_state(t, r.states["pyr1"][var][:, 0], var_name="potential", axes=axes[0, col],
                   label=label)
    axes[0, col].set_title(f"pyramidal cell 0, {title}")
    axes[0, col].legend(loc="upper right", fontsize=8)
    plot_state(t, r.states["int1"]["u"][:, 0], var_name="potential", axes=axes[1, col],
               label="interneuron soma u")
    plot_state(t, r.states["int1"]["v_I"][:, 0], var_name="potential", axes=axes[1, col],
               label="interneuron dendrite v_I")
    axes[1, col].legend(loc="upper right", fontsize=8)
plt.show()
