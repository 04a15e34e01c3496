"""The `cortical` preset: the spiking microcircuit of bars (`microcircuit_bars`) with
neurons that fire as recorded cortical neurons do (issue 30; docs/guide/spiking.md,
docs/model.md §5): `le-brian train --model microcircuit_bars_cortical --out RUN`.

Every rate unit is read by ``n_per_unit`` = 1000 Poisson neurons of rate r_max phi with
r_max = 20 Hz: bars' soft_relu rates stay below ~5, so every neuron fires at <= 100 Hz,
and the mean over neurons is ~15-20 Hz. An absolute refractory period of 2 ms (rate kept
at r_max phi by the compensated hazard, §5.4) and a trace time constant of 2 ms (a fast
AMPA-like synaptic current; the dendritic filter of the published spiking microcircuit is
1 ms). ``spike_draw = 'counts'`` draws every unit's spike count per step (cost per spike,
not per neuron and step, §5.5) with the same statistics as one draw per neuron.

`CORTICAL` holds the spiking values (also read by scripts/cortical_bars.py).
"""

from brian2 import Hz, ms

from .microcircuit_bars import NETWORK as _BARS
from .microcircuit_bars import PROTOCOL as _BARS_PROTOCOL

CORTICAL = dict(
    n_per_unit=1000,  # neurons per unit: the budget 1000 x 20 Hz = 20 k spikes/s per unit
    r_max=20 * Hz,  # rate at phi = 1; phi < 5 on bars -> every neuron <= 100 Hz
    t_ref=2 * ms,  # absolute refractory period (pyramidal cells: ~1-2 ms)
    tau_s=2 * ms,  # trace (synaptic current) time constant
    spike_draw="counts",  # one binomial count per unit and step (docs/model.md §5.5)
)

#: Factor on the bars learning rates (`le_brian.protocols.bars.bars_learning_rates`).
ETA_SCALE = 1.0

NETWORK = dict(_BARS, spiking=True, **CORTICAL)

PROTOCOL = dict(_BARS_PROTOCOL, presentation_time=10 * ms, epochs=300)
