"""The presentation order of the microcircuit protocols (docs/model.md §2.4, §3.5):
every epoch shows the training patterns in a fresh random order (nudged, learning),
then the validation patterns in a fresh random order (neither)."""

import numpy as np

__all__ = ["epoch_orders", "lr_factor"]


def epoch_orders(rng, n_train, n_val, epochs):
    """Pattern indices and training flags of ``epochs`` epochs.

    Per epoch, ``rng.permutation(n_train)`` then ``rng.permutation(n_val)`` (in this order
    on the one stream, as the authors' code draws them); the validation indices address
    the same pattern list.

    Parameters
    ----------
    rng : numpy.random.RandomState or Generator
        Continues the protocol's stream (e.g. the weights' `draw_weights` stream).
    n_train, n_val : int
    epochs : int

    Returns
    -------
    order : ndarray of int, (epochs * (n_train + n_val),)
    train : ndarray of bool, same shape: True for the training presentations.
    """
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    order, train = [], []
    for _ in range(epochs):
        order += list(rng.permutation(n_train)) + list(rng.permutation(n_val))
        train += [True] * n_train + [False] * n_val
    return np.array(order, dtype=int), np.array(train, dtype=bool)


def lr_factor(epoch, lr_decay=1.0, every=1):
    """Factor on the learning rates during ``epoch`` (1-based) of a microcircuit run:
    ``lr_decay ** ((epoch - 1) // every)`` (``every = 1``: a decay after every epoch;
    larger: a step schedule, the rates constant for ``every`` epochs at a time).

    Parameters
    ----------
    epoch : int
        1, 2, ...
    lr_decay : float
        > 0.
    every : int
        >= 1.

    Returns
    -------
    float
    """
    if not isinstance(epoch, (int, np.integer)) or isinstance(epoch, bool) or epoch < 1:
        raise ValueError(f"epoch must be a positive int (1-based), got {epoch!r}")
    if not isinstance(every, (int, np.integer)) or isinstance(every, bool) or every < 1:
        raise ValueError(f"lr_decay_every must be a positive int (epochs), got {every!r}")
    if not float(lr_decay) > 0:
        raise ValueError(f"lr_decay must be > 0, got {lr_decay!r}")
    return float(lr_decay) ** ((int(epoch) - 1) // int(every))
