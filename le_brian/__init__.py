"""le_brian: Latent Equilibrium networks in Brian2.

Haider, Ellenberger, Kriener, Jordan, Senn & Petrovici (2021), "Latent Equilibrium:
A unified learning theory for arbitrarily fast computation with arbitrarily slow
neurons", NeurIPS 34, arXiv:2110.14549.
"""

from .dense import DenseSynapses
from .layered import LENetwork, RunResult, authors_learning_rates
from .microcircuit import Microcircuit, MicrocircuitResult

__version__ = "0.1.0"

__all__ = ["LENetwork", "DenseSynapses", "RunResult", "Microcircuit", "MicrocircuitResult",
           "authors_learning_rates", "__version__"]
