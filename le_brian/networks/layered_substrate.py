"""Substrate imperfections of layered LE networks (docs/model.md §1.8): the jitter of
the time constants, local time-constant learning, rate noise and synaptic filtering, as a
mixin of `le_brian.LENetwork`."""

import numpy as np
from brian2 import second

from .. import substrate
from ..engine.spiking import spike_seed
from ..engine.validation import as_time, check_choice

__all__ = ["SubstrateMixin"]


class SubstrateMixin:
    """The substrate parameters of `le_brian.LENetwork` (checked once in
    `_init_substrate`) and their per-run state."""

    def _init_substrate(self, tau_jitter, tau_bounds, tau_learning, eta_tau, rate_noise,
                        tau_syn, filter_target, spiking):
        """Check and apply the substrate parameters (docs/model.md §1.8)."""
        self.tau_jitter = substrate.check_jitter(tau_jitter)
        self._tau_bounds = substrate.check_tau_bounds(tau_bounds)
        rng = np.random.default_rng((self.seed, substrate.JITTER_STREAM))
        self._tau_m = substrate.draw_time_constants(self._tau_m, self.tau_jitter[0], rng,
                                                    tau_bounds, "tau_m")
        self._tau_r = substrate.draw_time_constants(self._tau_r, self.tau_jitter[1], rng,
                                                    tau_bounds, "tau_r")
        if tau_learning is not None:
            check_choice("tau_learning", tau_learning, substrate.TAU_LEARNING)
            if not self.prospective:
                raise ValueError("tau_learning needs prospective=True (the lagged baseline "
                                 "has tau_r = 0)")
            low, high = self._tau_bounds
            for name, taus in (("tau_m", self._tau_m), ("tau_r", self._tau_r)):
                for k, t in enumerate(taus):
                    if np.any(t < low) or np.any(t > high):
                        raise ValueError(f"tau_learning: {name}[{k}] ({t.min() * 1e3:g} .. "
                                         f"{t.max() * 1e3:g} ms) lies outside tau_bounds "
                                         f"[{low * 1e3:g}, {high * 1e3:g}] ms, the range the "
                                         f"learned time constant is kept in")
        self.tau_learning = tau_learning
        self._eta_tau = float(as_time("eta_tau", eta_tau, allow_zero=True))
        self._rate_noise = (None if rate_noise is None
                            else substrate.as_noise_density("rate_noise", rate_noise))
        self._tau_syn = None if tau_syn is None else float(as_time("tau_syn", tau_syn))
        if self._tau_syn is not None and self._tau_syn < self._dt * (1 - 1e-9):
            raise ValueError(f"tau_syn must be >= dt ({self._dt * 1e3:g} ms) for a stable "
                             f"filter step, got {tau_syn!r}")
        if not isinstance(filter_target, (bool, np.bool_)):
            raise TypeError(f"filter_target must be True or False, got {filter_target!r}")
        self.filter_target = bool(filter_target) and self._tau_syn is not None
        if spiking and (self._rate_noise is not None or self._tau_syn is not None):
            raise ValueError("rate_noise and tau_syn apply to the rate model: a spiking "
                             "layer is already noisy and read through its spike trace "
                             "(tau_s)")

    @property
    def rate_noise(self):
        """Rate-noise density (Quantity in sqrt(second)) or None."""
        return None if self._rate_noise is None else self._rate_noise * second ** 0.5

    @property
    def tau_syn(self):
        """Synaptic filter time constant (Quantity) or None."""
        return None if self._tau_syn is None else self._tau_syn * second

    @property
    def tau_bounds(self):
        """Range of jittered and learned time constants (Quantities)."""
        return tuple(b * second for b in self._tau_bounds)

    @property
    def eta_tau(self):
        """Time-constant learning rate (Quantity in seconds)."""
        return self._eta_tau * second

    def _check_learn_tau(self, learn, learn_tau):
        """``learn_tau`` of a run (None: ``learn``) as a bool, checked."""
        if learn_tau is None:
            return bool(learn) and self.tau_learning is not None
        if not isinstance(learn_tau, (bool, np.bool_)):
            raise TypeError(f"learn_tau must be True, False or None, got {learn_tau!r}")
        if learn_tau and self.tau_learning is None:
            raise ValueError("learn_tau=True: this network learns no time constant (pass "
                             "tau_learning='tau_m' or 'tau_r' to LENetwork)")
        return bool(learn_tau)

    def _substrate_state(self, l, learn_tau):
        """Per-run values of layer l's substrate variables (docs/model.md §1.8)."""
        name, state = f"layer{l}", {}
        if self.tau_learning is not None:
            state.update({f"{name}.eta_tau": self._eta_tau if learn_tau else 0.0,
                          f"{name}.tau_min": self._tau_bounds[0],
                          f"{name}.tau_max": self._tau_bounds[1]})
        if self._rate_noise is not None:
            state[f"{name}.noise_std"] = substrate.noise_std(self._rate_noise, self._dt)
            state[f"{name}.noise_seed"] = spike_seed(self.seed, self._n_runs, f"{name}/noise")
        if self._tau_syn is not None:
            state[f"{name}.tau_syn"] = self._tau_syn
        return state
