"""The `cortical` preset: the spiking microcircuit of bars (`microcircuit_bars`) with
neurons that fire as recorded cortical neurons do (issue 30; docs/guide/spiking.md,
docs/model.md §5): `le-brian train --model microcircuit_bars_cortical --out RUN`.

Every rate unit is read by ``n_per_unit`` = 1000 Poisson neurons of rate r_max phi with
r_max = 22 Hz: the largest phi of a bars run mostly stays below ~4.2, so a neuron fires at
<= ~92 Hz, and ``max_rate`` = 100 Hz caps the rare steps above; the mean over neurons is
~21-22 Hz. An absolute refractory period of 2 ms (rate kept at r_max phi by the
compensated hazard, §5.4), a trace time constant of 1 ms (a fast AMPA current, the
dendritic filter of the published spiking microcircuit; 2-5 ms cost accuracy at
T = 10 ms), learning rates 3 x those of bars, times 0.8 every 30 epochs.
``spike_draw = 'counts'`` draws every unit's spike count per step (cost per spike, not
per neuron and step, §5.5) with the same statistics as one draw per neuron.

`CORTICAL` holds the spiking values, `ETA_SCALE` the learning-rate factor, `LR_DECAY` and
`LR_DECAY_EVERY` the schedule (all also read by scripts/cortical_bars.py).
"""

from brian2 import Hz, ms

from .microcircuit_bars import NETWORK as _BARS
from .microcircuit_bars import PROTOCOL as _BARS_PROTOCOL

CORTICAL = dict(
    n_per_unit=1000,  # neurons per unit: the budget 1000 x 22 Hz = 22 k spikes/s per unit
    r_max=22 * Hz,  # rate at phi = 1; phi < ~4.2 on bars -> every neuron <= ~92 Hz
    t_ref=2 * ms,  # absolute refractory period (pyramidal cells: ~1-2 ms)
    tau_s=1 * ms,  # trace (synaptic current) time constant: a fast AMPA current
    spike_draw="counts",  # one binomial count per unit and step (docs/model.md §5.5)
    max_rate=100 * Hz,  # no neuron fires faster (reached by r_max phi in rare steps only)
)

#: Factor on the bars learning rates (`le_brian.protocols.bars.bars_learning_rates`):
#: learning from spikes is slower than from rates; 3 (twice the first preset's constant
#: 1.5) converges earlier, and the step schedule below removes the weight noise it brings
#: (docs/guide/spiking.md).
ETA_SCALE = 3.0
#: Learning-rate schedule: the rates times LR_DECAY ** ((epoch - 1) // LR_DECAY_EVERY)
#: (x 0.8 every 30 epochs: x 0.13 in epochs 271-300).
LR_DECAY, LR_DECAY_EVERY = 0.8, 30

NETWORK = dict(_BARS, spiking=True, **CORTICAL)

# the bars rates at T = 10 ms (eta_up = [0.5, 0.1] / T, eta_ip = 0.2 / T) times ETA_SCALE;
# for another T give them with --set (e.g. T = 20 ms: eta_up=0.075/ms,0.015/ms
# eta_ip=0.03/ms)
PROTOCOL = dict(_BARS_PROTOCOL, presentation_time=10 * ms, epochs=300,
                eta_up=[ETA_SCALE * 0.05 / ms, ETA_SCALE * 0.01 / ms],
                eta_ip=[ETA_SCALE * 0.02 / ms], lr_decay=LR_DECAY,
                lr_decay_every=LR_DECAY_EVERY)
