"""
Latent Equilibrium vs the lagged baseline
=========================================

The paper's central comparison (Haider et al. 2021, Fig. 2): two students with the same
10-30-2 architecture, membrane time constant and learning rule learn the same teacher at
a presentation time of 1 ms, a tenth of tau_m. The LE student reads its rates from the
prospective potential ``u + tau_m du/dt`` and responds at once; the lagged student
(``prospective=False``) reads them from ``u`` and trails its input by about tau_m per
layer, so it learns against the wrong sample. This is ``le-brian demo`` with fewer data.
"""

import matplotlib.pyplot as plt

from le_brian.plotting import plot_learning_curves, plot_output_trace
from le_brian.protocols.demo import teacher_student

result = teacher_student(epochs=3, n_train=400, n_test=100, progress=print)

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), constrained_layout=True)
for ax, name in zip(axes[:2], ("LE", "lagged")):
    t, out, target = result["traces"][name]
    plot_output_trace(t - t[0], out, target, ax=ax, label=f"{name} student")
    ax.set_title(f"{name}: test output vs teacher (T = 1 ms)")
plot_learning_curves(result["histories"], metric="test_mse", ax=axes[2],
                     ylabel="test MSE (dimensionless)", logy=True)
axes[2].set_title("learning curves, tau_m = 10 ms")
plt.show()
