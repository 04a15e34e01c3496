"""The network classes: `LENetwork` (layered LE networks) and `Microcircuit` (cortical
microcircuits with LE), both on the lifecycle of `le_brian.engine.network.BaseNetwork`."""

from .layered import LENetwork, authors_learning_rates
from .microcircuit import Microcircuit, MicrocircuitResult

__all__ = ["LENetwork", "Microcircuit", "MicrocircuitResult", "authors_learning_rates"]
