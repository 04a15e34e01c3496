"""
Comparing a simulation with a recording
=======================================

A recording is read from an NWB file's Units table and its spike statistics (rate, ISI
CV, CV2, LV, pairwise correlation) are set beside those of a spiking le_brian network,
with the Kolmogorov-Smirnov distance per statistic. So that the numbers can be checked,
the "recording" is written here with known statistics: 20 Poisson units at 20 Hz (ISI
CV 1) and 20 gamma units of shape 4 at 20 Hz (ISI CV 0.5), 20 s each. The same comparison
runs from the command line as ``le-brian compare RUN_DIR RECORDING.nwb``.
"""

import datetime
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from brian2 import Hz, ms
from pynwb import NWBHDF5IO, NWBFile
from pynwb.file import Subject

import le_brian
from le_brian.ephys import compare_statistics, read_nwb_units, spike_statistics, to_neo

rng = np.random.default_rng(1)
duration = 20.0  # s
nwb = NWBFile(session_description="generated recording with known statistics",
              identifier="generated-1",
              session_start_time=datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc))
nwb.subject = Subject(subject_id="g1", species="Mus musculus", sex="M", age="P60D")
shank = nwb.create_electrode_group("shank0", "a shank", "cortex", nwb.create_device("probe"))
nwb.add_electrode(group=shank, location="cortex")
nwb.add_unit_column("location", "generating process")
for location, shape in (("poisson", 1.0), ("gamma4", 4.0)):
    for _ in range(20):
        isi = rng.gamma(shape, 1 / (20.0 * shape), size=1000)   # mean ISI 50 ms
        t = np.cumsum(isi)
        nwb.add_unit(spike_times=t[t < duration], obs_intervals=[[0.0, duration]],
                     location=location, electrodes=[0])
recording = Path(tempfile.mkdtemp()) / "recording.nwb"
with NWBHDF5IO(str(recording), "w") as io:
    io.write(nwb)

recorded = {group: spike_statistics(trains)
            for group, trains in read_nwb_units(recording, units_column="location").items()}
for group, stats in recorded.items():
    print(f"{group}: rate {np.mean(stats['rate']):.1f} Hz, ISI CV {np.nanmean(stats['cv']):.2f}")

# %%
# The simulated side: the hidden layer of a spiking LE network (two Poisson neurons per unit).
net = le_brian.LENetwork([4, 30, 3], activation="hard_sigmoid", output_activation="hard_sigmoid",
                         spiking=True, n_per_unit=2, r_max=200 * Hz, device="cpp_standalone",
                         seed=0)
res = net.run(np.random.default_rng(0).random((4, 4)), 500 * ms, record_spikes=["layer1"])
block = to_neo(res)
hidden = next(g for g in block.groups if g.name == "layer1")
with warnings.catch_warnings():  # a silent train has no correlation (Elephant warns, NaN)
    warnings.simplefilter("ignore", RuntimeWarning)
    simulated = spike_statistics(hidden.spiketrains)

fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), constrained_layout=True)
for ax, key, unit in zip(axes, ("rate", "cv", "lv"), ("Hz", "1", "1")):
    ax.hist(np.asarray(simulated[key], float), bins=15, alpha=0.6, label="simulated (layer1)")
    for group, stats in recorded.items():
        ax.hist(np.asarray(stats[key], float), bins=15, alpha=0.6, label=f"recorded ({group})")
    ax.set_xlabel(f"{key} ({unit})")
    ax.set_ylabel("trains")
axes[0].legend(fontsize=8)
for row in compare_statistics(simulated, recorded["poisson"]):
    print(f"{row['statistic']:12s} simulated {row['sim_mean']:8.3f}  "
          f"recorded {row['rec_mean']:8.3f}"
          f"  KS distance {row['ks_distance']:.2f}")
plt.show()
