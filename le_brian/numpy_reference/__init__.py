"""Plain NumPy versions of le_brian's models, for tests and benchmarks: the layered LE
network (both schemes) and its fast dense loop (the benchmark's baseline), the cortical
microcircuit, and the backprop baseline.

Written from docs/model.md independently of the Brian2 code and of the equation strings:
nothing here imports the Brian2 path (`le_brian.engine`, `le_brian.networks`,
`le_brian.equations`), and the Brian2 path imports nothing from here. Activations come
from the NumPy table `le_brian.activations`.
"""

from ..activations import NP_ACTIVATIONS
from .backprop import BackpropMLP, train_backprop
from .dense_loop import DenseNumpyLoop
from .layered import NumpyLENetwork
from .microcircuit import NumpyMicrocircuit, benchmark_numpy_microcircuit, soft_relu

__all__ = ["NP_ACTIVATIONS", "NumpyLENetwork", "DenseNumpyLoop", "NumpyMicrocircuit", "BackpropMLP",
           "train_backprop", "benchmark_numpy_microcircuit", "soft_relu"]
