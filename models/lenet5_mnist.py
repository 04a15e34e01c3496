"""LE LeNet-5 on the full MNIST (the paper's Fig. 2d; needs the MNIST IDX files,
`--data-path` or $LE_BRIAN_DATA/mnist). Settings as `lenet5_mnist5k` (docs/model.md
§3.3), of which only the dataset differs."""

from .lenet5_mnist5k import BACKPROP, TRAINING as _LENET5

TRAINING = dict(_LENET5, dataset="mnist")

__all__ = ["TRAINING", "BACKPROP"]
