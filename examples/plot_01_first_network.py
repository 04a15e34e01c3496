"""
A first Latent Equilibrium network
==================================

A 10-30-2 LE network learns a teacher network (embedded, generated data) while samples are
shown back to back for 1 ms, a tenth of its membrane time constant. The figure shows the
output of the untrained and of the trained network against the teacher's targets, and the
membrane potentials of a few hidden neurons.

Runs as a compiled C++ program (``cpp_standalone``); the program cache keeps the binary,
so a second run of the same structure starts at once.
"""

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms

import le_brian
from le_brian.plotting import plot_output_trace, plot_state

data = le_brian.datasets.load("teacher", seed=0, n_train=200, n_val=0, n_test=50)
net = le_brian.LENetwork(layer_sizes=[10, 30, 2], activation="tanh", output_activation="linear",
                         tau_m=10 * ms, tau_r=10 * ms, prospective=True, beta=0.1,
                         target_type="voltage", learning_rates=[800 * Hz, 800 * Hz],
                         dt=0.1 * ms, seed=0, device="cpp_standalone")


def test_mse():
    """Test error of the output averaged over the second half of each sample."""
    res = net.run(data.x_test, 1 * ms, learn=False)
    return float(np.mean((res.sample_means(0.5) - data.y_test) ** 2)), res


before, res_before = test_mse()
for epoch in range(5):
    net.run(data.x_train, 1 * ms, targets=data.y_train)     # learns while it runs
after, _ = test_mse()
print(f"test MSE before training {before:.4f}, after 5 epochs {after:.4f}")

# %%
# The trained network's output follows the teacher within each 1 ms sample.
res = net.run(data.x_test[:10], 1 * ms, learn=False, record={1: ["u"]}, record_every=0.1 * ms)
target = np.repeat(data.y_test[:10, 0], res.steps_per_sample)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), constrained_layout=True)
k = 10 * res_before.steps_per_sample
plot_output_trace(res_before.t[:k] - res_before.t[0], res_before.output[:k, 0], target,
                  ax=axes[0], label="untrained")
axes[0].set_title(f"before training (test MSE {before:.3f})")
plot_output_trace(res.t - res.t[0], res.output[:, 0], target, ax=axes[1], label="trained")
axes[1].set_title(f"after 5 epochs (test MSE {after:.3f})")
u = res.state("u", 1)
for j in range(4):
    plot_state(res.t - res.t[0], u[:, j], var_name="u (hidden)", axes=axes[2])
axes[2].set_title("hidden membrane potentials")
plt.show()
