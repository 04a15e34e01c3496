"""LE LeNet-5 on CIFAR-10 (the paper's Fig. 2e; needs the python batches of
cifar-10-batches-py, `--data-path` or $LE_BRIAN_DATA/cifar10): the MNIST LeNet-5
(`lenet5_mnist5k`) with 3 input channels (32 -> 28 -> 14 -> 10 -> 5: dense 1250 -> 500 ->
10) and T = 0.5 tau (docs/model.md §3.3)."""

from brian2 import ms

from .lenet5_mnist5k import BACKPROP, TRAINING as _LENET5

TRAINING = dict(
    _LENET5,
    dataset="cifar10",
    image_shape=[3, 32, 32],
    presentation_time=5 * ms,  # T = 0.5 tau (50 updates per sample)
    # the MNIST rates times 2: the same change per sample in half the updates
    # (docs/model.md §1.6)
    learning_rates=2 * _LENET5["learning_rates"],
)

__all__ = ["TRAINING", "BACKPROP"]
