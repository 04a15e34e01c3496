"""Plain NumPy versions of le_brian's models, for tests and benchmarks: the layered LE
network (both schemes) and its fast dense loop (the benchmark's baseline), the cortical
microcircuit, the layered LE network with convolution and pooling layers, and the
backprop baselines (dense and convolutional).

Written from docs/model.md independently of the Brian2 code and of the equation strings:
nothing here imports the Brian2 path (`le_brian.engine`, `le_brian.networks`,
`le_brian.equations`), and the Brian2 path imports nothing from here. Activations come
from the NumPy table `le_brian.activations`.
"""

from ..activations import NP_ACTIVATIONS
from .backprop import BackpropMLP, train_backprop
from .backprop_conv import BackpropConvNet, train_backprop_conv
from .conv import NumpyConvLENetwork
from .dense_loop import DenseNumpyLoop
from .layered import NumpyLENetwork
from .microcircuit import NumpyMicrocircuit, benchmark_numpy_microcircuit, soft_relu

__all__ = ["NP_ACTIVATIONS", "NumpyLENetwork", "NumpyConvLENetwork", "DenseNumpyLoop",
           "NumpyMicrocircuit", "BackpropMLP", "BackpropConvNet", "train_backprop",
           "train_backprop_conv", "benchmark_numpy_microcircuit", "soft_relu"]
