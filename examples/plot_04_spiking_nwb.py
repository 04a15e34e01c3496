"""
A spiking raster and an NWB export
==================================

The spiking view of an LE network: every unit becomes Poisson neurons firing at
``r_max * phi`` and every projection reads their normalised spike trace. The run's
spikes and membrane potentials go to Neo and to an NWB file, which pynwb reads back
with the very same spike times.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms
from pynwb import NWBHDF5IO

import le_brian
from le_brian.ephys import to_neo, to_nwb
from le_brian.plotting import plot_population_raster

net = le_brian.LENetwork([4, 30, 3], activation="hard_sigmoid", output_activation="hard_sigmoid",
                         spiking=True, n_per_unit=2, r_max=5000 * Hz, tau_s=1 * ms,
                         device="runtime", codegen_target="numpy", seed=0)
res = net.run(np.random.default_rng(0).random((5, 4)), 10 * ms, record_spikes=True,
              record={1: ["u", "ub"]}, record_neurons={1: [0, 10, 20]}, record_every=0.5 * ms)

block = to_neo(res)
path = Path(tempfile.mkdtemp()) / "spiking_run.nwb"     # any path of yours
to_nwb(res, path, network=net)
with NWBHDF5IO(str(path), "r") as io:
    units = io.read().units
    nwb_times = np.sort(np.concatenate([units.get_unit_spike_times(k)
                                        for k in range(len(units))]))
run_times = np.sort(np.concatenate([np.asarray(s["t"]) for s in res.spikes.values()]))
print(f"Neo: {len(block.segments[0].spiketrains)} spike trains; NWB: {len(nwb_times)} spikes, "
      f"the run's {len(run_times)} spike times read back identical: "
      f"{np.array_equal(nwb_times, run_times)}")

# %%
# Every spiking population, coloured, with the sample onsets dotted.
ax = plot_population_raster(res)
ax.figure.set_size_inches(10, 4)
plt.show()
