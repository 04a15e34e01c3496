"""What a run returns: one result type for every network class.

`RunResult` holds the fields every network has (times, output, recorded states per
population, recorded weights per projection, what user-added monitors recorded, the
run's shape and its wall times); `MicrocircuitResult` adds the
per-pattern read-out of `le_brian.Microcircuit`.
"""

from dataclasses import dataclass, field

import numpy as np
from brian2 import Quantity, second

__all__ = ["RunResult", "MicrocircuitResult"]


@dataclass
class RunResult:
    """Recordings of one run of a network.

    Attributes
    ----------
    t : Quantity
        Times of the recorded steps (network time, continuing across runs; values are
        those at the end of each step). Empty when nothing was recorded per step.
    output : ndarray (n_recorded, n_out) or None
        The output population's read-out variable at every recorded step (layered: the
        output rates r_L; microcircuit: the visible potential w of the output layer).
    states : dict
        ``states[population][variable]``: (n_recorded, n) arrays, one column per
        recorded neuron (``recorded_neurons``). Populations are named as the network's
        ``populations`` lists them (``'layer1'``..., ``'pyr1'``...).
    recorded_neurons : dict
        ``recorded_neurons[population]``: the neuron indices (int array) of the columns
        of ``states[population]`` (every neuron unless ``record_neurons`` chose some).
    weights : dict
        ``weights[projection]`` -> ``{'t': Quantity, 'w': (n_recorded, n_synapses),
        'index': (n_synapses, 2) array of (post, pre)}``; for a convolution ``'w'`` is
        (n_recorded, n_entries) of the kernel entries ``'index'`` ((n_entries, 4) array
        of (o, c, i, j)) and ``'b'`` (n_recorded, O) its channels' biases.
    recordings : dict
        ``recordings[monitor name][variable]``: Quantities copied from the monitors a
        user added with ``objects=`` (StateMonitor, SpikeMonitor,
        PopulationRateMonitor).
    t_start : Quantity
        Network time at the start of the run (the run covers ``t_start`` to
        ``t_start + n_samples * presentation_time``).
    spikes : dict
        Spiking networks run with ``record_spikes``: ``spikes[population]`` ->
        ``{'i': neuron index in the population's spike group, 'unit': its rate unit
        (i // n_per_unit), 't': spike times (Quantity, network time), 'n_neurons',
        'n_per_unit'}``.
    spike_counts : dict
        Spiking networks: ``spike_counts[population]`` -> spikes of every rate unit in
        this run (all its neurons; recorded or not).
    peak_rates : dict
        Spiking networks: ``peak_rates[population]`` -> the largest rate of every unit's
        neurons in this run, r_max times the unit's largest phi (Quantity, Hz).
    steps_per_sample, record_every_steps, n_samples : int
    dt, presentation_time : Quantity
    build_time, run_time : Quantity
        Wall-clock time spent building (0 s when a compiled program was reused) and
        running (in seconds; a float given to the constructor is taken as seconds).
    simulation_time : Quantity or None
        Time of Brian2's simulation loop alone (standalone: measured inside the
        compiled program, without start-up and file transfers).
    compiled : bool
        Whether this run set up a standalone program: generated its code and compiled it
        or took its binary from the cross-process program cache (``from_cache``).
    from_cache : bool
        The binary came from the program cache (no compiler ran).
    """

    t: object
    output: object
    states: dict
    steps_per_sample: int
    record_every_steps: int
    n_samples: int
    dt: object
    presentation_time: object
    weights: dict = field(default_factory=dict)
    t_start: object = None
    recordings: dict = field(default_factory=dict)
    spikes: dict = field(default_factory=dict)
    spike_counts: dict = field(default_factory=dict)
    peak_rates: dict = field(default_factory=dict)
    recorded_neurons: dict = field(default_factory=dict)
    build_time: object = 0.0
    run_time: object = 0.0
    compiled: bool = False
    from_cache: bool = False
    simulation_time: object = None

    def __post_init__(self):
        for name in ("build_time", "run_time", "simulation_time"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Quantity):
                setattr(self, name, float(value) * second)

    @property
    def t_stop(self):
        """Network time at the end of the run (Quantity)."""
        return self.t_start + self.n_samples * self.presentation_time

    def state(self, var, population):
        """Recorded ``var`` of ``population`` (a name such as ``'pyr1'``; for layered
        networks also the 1-based layer number, ``L`` being the output layer)."""
        name = f"layer{population}" if isinstance(population, (int, np.integer)) else population
        try:
            return self.states[name][var]
        except KeyError:
            raise KeyError(f"variable {var!r} of population {population!r} was not recorded; "
                           f"pass record={{{population!r}: [{var!r}]}} to run()") from None

    def sample_means(self, fraction=0.5, values=None):
        """Mean of the output over the last ``fraction`` of every presentation.

        Returns an array (n_samples, n_out). ``values`` (n_recorded, n) replaces
        the output, e.g. a recorded hidden variable.
        """
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        values = self.output if values is None else values
        if values is None:
            raise ValueError("sample_means: the output was not recorded in this run")
        per_sample = self.steps_per_sample // self.record_every_steps
        if per_sample * self.record_every_steps != self.steps_per_sample:
            raise ValueError("record_every must divide presentation_time for sample_means")
        v = values.reshape(self.n_samples, per_sample, -1)
        start = per_sample - max(1, int(round(fraction * per_sample)))
        return v[:, start:, :].mean(axis=1)


@dataclass
class MicrocircuitResult(RunResult):
    """Recordings of one `Microcircuit.run`: the fields of `RunResult` (``output`` is
    the visible potential w of the output layer, recorded unless ``record`` leaves it
    out; populations ``'pyr1'``..``'pyrL'``, ``'int1'``..``'intL'``, ``'out'``) and the
    per-pattern read-out.

    Attributes
    ----------
    pattern_outputs : ndarray (n_samples, n_out)
        Read-out: mean of the output w over the steps i >= out_lag/dt of each pattern.
    targets : ndarray (n_samples, n_out) or None
    lag_steps : int
        out_lag / dt.
    """

    pattern_outputs: np.ndarray = None
    targets: object = None
    lag_steps: int = 0

    @property
    def steps_per_pattern(self):
        """Alias of ``steps_per_sample``."""
        return self.steps_per_sample

    @property
    def n_patterns(self):
        """Alias of ``n_samples``."""
        return self.n_samples

    def predictions(self):
        """Class of every pattern: argmax of its read-out."""
        return np.argmax(self.pattern_outputs, axis=1)

    def accuracy(self, patterns=None, targets=None):
        """Fraction of ``patterns`` (index array or boolean mask; default all) whose
        read-out argmax equals the target argmax (``targets`` default: the run's)."""
        y = self.targets if targets is None else np.asarray(targets, dtype=float)
        if y is None:
            raise ValueError("accuracy needs targets: the run had none, pass targets=")
        if y.shape != self.pattern_outputs.shape:
            raise ValueError(f"targets must have shape {self.pattern_outputs.shape}, "
                             f"got {y.shape}")
        hit = np.argmax(self.pattern_outputs, axis=1) == np.argmax(y, axis=1)
        if patterns is not None:
            hit = hit[np.asarray(patterns)]
        return float(np.mean(hit)) if hit.size else float("nan")
