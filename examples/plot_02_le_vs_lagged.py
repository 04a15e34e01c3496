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

from le_brian.protocols.demo import plot_teacher_student, teacher_student

result = teacher_student(epochs=3, n_train=400, n_test=100, progress=print)

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), constrained_layout=True)
plot_teacher_student(result, axes)  # outputs vs the teacher, learning curves
plt.show()
