"""le_brian: Latent Equilibrium networks in Brian2.

Haider, Ellenberger, Kriener, Jordan, Senn & Petrovici (2021), "Latent Equilibrium:
A unified learning theory for arbitrarily fast computation with arbitrarily slow
neurons", NeurIPS 34, arXiv:2110.14549.

The model specification is docs/model.md; the package layout is described in the
contributing guide (docs/guide/contributing.md, "Layout").
"""

from . import datasets
from .engine.dense import DenseSynapses
from .engine.network import NetworkObjects
from .engine.results import RunResult
from .engine.validation import UnitError
from .networks import LENetwork, Microcircuit, MicrocircuitResult, authors_learning_rates
from .networks.conv_layers import AvgPool2D, Conv2D, MaxPool2D
from .networks.layers import Dense, Input

__version__ = "0.2.0"

from .excepthook import install as _install_excepthook  # noqa: E402

_install_excepthook()  # Brian2's "report this bug to Brian2" banner: Brian2's errors only

__all__ = ["LENetwork", "Input", "Dense", "Conv2D", "MaxPool2D", "AvgPool2D", "DenseSynapses", "RunResult", "Microcircuit", "MicrocircuitResult",
           "NetworkObjects", "UnitError", "authors_learning_rates", "datasets", "__version__"]
